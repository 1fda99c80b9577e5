"""Training throughput: nader's on-device batches vs a conventional DataLoader loop, and the
seconds one NAS-Bench-201 epoch takes on whatever device is present.

As a pytest-benchmark (skipped by default)::

    PYTHONPATH=. python -m pytest tests/benchmarks/test_train_speed.py -p no:cacheprovider --benchmark-only -s

times nader's trainer and, in the same run, a conventional loop — a ``Dataset`` that crops, flips
and normalises one image per ``__getitem__`` (torchvision's transforms, written with torch ops)
behind a ``DataLoader`` — on the same network, data and optimiser, on CPU, and reports the
images/s ratio. Standalone (e.g. on a GPU machine)::

    PYTHONPATH=. python tests/benchmarks/test_train_speed.py [--device cuda] [--batches 30] [--compile]

prints images/s and the seconds per NB201 CIFAR epoch (train on 25k images + validate on 25k, the
cifar10-valid protocol) for a NAS-Bench-201-sized ResNet (C=16, N=5; ~0.47M params). The GPU
figures of issue 14 are one command on a GPU machine::

    PYTHONPATH=. python tests/benchmarks/test_train_speed.py --device cuda --compare

which times, in one run on the same network and data: nader's trainer (bf16 autocast,
channels_last, GPU-resident data and augmentation) without and with ``torch.compile``, and a
plain loop (a ``DataLoader`` of per-image transforms with worker processes and pinned memory,
each batch copied to the device, fp32), and prints images/s and seconds per NB201 epoch for each.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from nader.data.base import DatasetSplits, ImageSplit
from nader.data.cifar import CIFAR10_MEAN, CIFAR10_STD
from nader.training.augment import DeviceImages, draw_augmentation
from nader.training.config import TrainConfig
from nader.training.loop import DeviceSetup, build_seeded, evaluate_accuracy, train_model

NB201_TRAIN_IMAGES = 25_000  # cifar10-valid: train half of the 50k training images
NB201_VALID_IMAGES = 25_000


class BasicBlock(nn.Module):
    def __init__(self, inputs: int, outputs: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False),
            nn.BatchNorm2d(outputs),
            nn.ReLU(inplace=True),
            nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False),
            nn.BatchNorm2d(outputs),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(
                nn.AvgPool2d(stride), nn.Conv2d(inputs, outputs, 1, bias=False)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.shortcut(x))


class ResNetLike(nn.Module):
    """NAS-Bench-201's macro skeleton with ResNet blocks: stem, 3 stages of N blocks, 2 reductions."""

    def __init__(self, width: int = 16, blocks: int = 5, num_classes: int = 10) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(3, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
        ]
        channels = width
        for stage in range(3):
            outputs = width * 2**stage
            for index in range(blocks):
                stride = 2 if stage > 0 and index == 0 else 1
                layers.append(BasicBlock(channels, outputs, stride))
                channels = outputs
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def cifar_shaped(count: int, seed: int = 0) -> DatasetSplits:
    """Random CIFAR-sized images (throughput does not depend on pixel values)."""
    generator = torch.Generator().manual_seed(seed)

    def split(rows: int) -> ImageSplit:
        images = torch.randint(0, 256, (rows, 3, 32, 32), dtype=torch.uint8, generator=generator)
        return ImageSplit(images, torch.randint(0, 10, (rows,), generator=generator))

    return DatasetSplits(
        name="cifar-shaped",
        train=split(count),
        valid=split(64),
        test=split(64),
        num_classes=10,
        mean=CIFAR10_MEAN,
        std=CIFAR10_STD,
        crop_padding=4,
        horizontal_flip=True,
        split="random",
    )


class PerImageTransforms(Dataset[tuple[torch.Tensor, int]]):
    """The conventional pipeline: RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor,
    Normalize — one image per call, as torchvision applies them."""

    def __init__(self, split: ImageSplit, padding: int) -> None:
        self.images, self.labels, self.padding = split.images, split.labels, padding
        self.mean = torch.tensor(CIFAR10_MEAN).view(3, 1, 1)
        self.std = torch.tensor(CIFAR10_STD).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index]
        height, width = image.shape[1:]
        padded = F.pad(image, (self.padding,) * 4)
        top, left = (int(v) for v in torch.randint(0, 2 * self.padding + 1, (2,)))
        crop = padded[:, top : top + height, left : left + width]
        if float(torch.rand(())) < 0.5:
            crop = crop.flip(-1)
        return (crop.float() / 255 - self.mean) / self.std, int(self.labels[index])


def dataloader_images_per_second(
    model: nn.Module,
    data: DatasetSplits,
    config: TrainConfig,
    batches: int,
    device: torch.device | None = None,
    workers: int = 0,
) -> float:
    """Train ``batches`` steps the conventional way; images per second of training (on
    ``device``, each batch copied there; ``workers`` DataLoader processes, pinned memory on
    CUDA)."""
    device = device or torch.device("cpu")
    model.to(device)
    loader = DataLoader(
        PerImageTransforms(data.train, 4),
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
    )
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        nesterov=True,
    )
    model.train()
    images, started = 0, time.perf_counter()
    for step, (batch, labels) in enumerate(loader):
        if step == batches:
            break
        for group in optimizer.param_groups:
            group["lr"] = 0.5 * config.lr * (1 + math.cos(math.pi * step / batches))
        batch = batch.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        loss = F.cross_entropy(model(batch), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        images += len(labels)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return images / (time.perf_counter() - started)


NETWORKS: dict[str, Callable[[], nn.Module]] = {
    "small-cnn": lambda: nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    ),
    "resnet-c8-n1": lambda: ResNetLike(width=8, blocks=1),
}


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_trainer_vs_dataloader_images_per_second(benchmark, network: str) -> None:  # type: ignore[no-untyped-def]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_comparison(benchmark, network)
    finally:
        torch.set_num_threads(threads)


def run_comparison(benchmark, network: str) -> None:  # type: ignore[no-untyped-def]
    batches, batch_size = 6, 128
    data = cifar_shaped(batches * batch_size)
    config = TrainConfig(
        epochs=1, batch_size=batch_size, max_train_batches=batches, device="cpu", patience_epochs=0
    )
    factory = NETWORKS[network]
    baseline_speeds: list[float] = []
    trainer_speeds: list[float] = []

    def time_baseline() -> (
        None
    ):  # runs before each timed round: the two alternate, sharing the noise
        baseline_speeds.append(
            dataloader_images_per_second(build_seeded(factory, 0), data, config, batches)
        )

    def time_trainer() -> None:
        trainer_speeds.append(train_model(build_seeded(factory, 0), data, config).images_per_second)

    benchmark.pedantic(time_trainer, setup=time_baseline, rounds=3, iterations=1)
    trainer, baseline = max(trainer_speeds), max(baseline_speeds)
    benchmark.extra_info.update(
        {
            "trainer_images_per_s": trainer,
            "dataloader_images_per_s": baseline,
            "ratio": trainer / baseline,
        }
    )
    print(
        f"\n{network}: trainer {trainer:.0f} img/s, DataLoader {baseline:.0f} img/s, ratio {trainer / baseline:.2f}x"
    )
    assert trainer > 0 and baseline > 0


def device_batches_images_per_second(data: DatasetSplits, batch_size: int) -> float:
    """One epoch of nader's augmented batches, no network: the data path alone."""
    images = DeviceImages(
        data.train, mean=data.mean, std=data.std, device=torch.device("cpu"), padding=4
    )
    generator = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    order = torch.randperm(len(images), generator=generator)
    for rows in order.split(batch_size):
        offsets, flips = draw_augmentation(generator, len(rows), padding=4, flip=True)
        images.augmented_batch(rows, offsets, flips)
    return len(images) / (time.perf_counter() - started)


def dataloader_batches_images_per_second(data: DatasetSplits, batch_size: int) -> float:
    loader = DataLoader(PerImageTransforms(data.train, 4), batch_size=batch_size, shuffle=True)
    started = time.perf_counter()
    for _ in loader:
        pass
    return len(data.train) / (time.perf_counter() - started)


def test_batch_pipeline_vs_dataloader_images_per_second(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The data path alone (what dominates once the network runs on a GPU)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = cifar_shaped(20 * 256)
        baseline = max(dataloader_batches_images_per_second(data, 256) for _ in range(2))
        speeds = benchmark.pedantic(
            lambda: device_batches_images_per_second(data, 256), rounds=3, iterations=1
        )
        ours = max(speeds, device_batches_images_per_second(data, 256))
    finally:
        torch.set_num_threads(threads)
    benchmark.extra_info.update(
        {
            "batches_images_per_s": ours,
            "dataloader_images_per_s": baseline,
            "ratio": ours / baseline,
        }
    )
    print(
        f"\ndata path only: device batches {ours:.0f} img/s, DataLoader {baseline:.0f} img/s, ratio {ours / baseline:.2f}x"
    )
    assert ours > 0 and baseline > 0


def trainer_figures(
    factory: Callable[[], nn.Module], data: DatasetSplits, config: TrainConfig
) -> tuple[str, float, float, float]:
    """(device, train images/s, validation images/s, seconds per NB201 epoch) of nader's
    trainer under ``config``, after a warm-up run (cudnn autotuning, compilation, allocator)."""
    warmup = config.model_copy(update={"max_train_batches": min(5, config.max_train_batches or 5)})
    train_model(build_seeded(factory, 0), data, warmup)
    model = build_seeded(factory, 0)
    result = train_model(model, data, config)
    setup = DeviceSetup.resolve(config, data)
    images = setup.place(data.train, data)
    forward = torch.compile(model) if config.compile else model
    for _ in range(2):  # the first pass warms up; the second is timed
        if setup.device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        evaluate_accuracy(model, forward, images, setup, batch_size=config.eval_batch_size)
        eval_seconds = time.perf_counter() - started
    eval_ips = len(images) / eval_seconds
    epoch_seconds = NB201_TRAIN_IMAGES / result.images_per_second + NB201_VALID_IMAGES / eval_ips
    return str(result.device), result.images_per_second, eval_ips, epoch_seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batches", type=int, default=30, help="timed training batches of 256")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"])
    parser.add_argument("--compile", action="store_true")
    parser.add_argument(
        "--baseline", action="store_true", help="also time the DataLoader loop (CPU)"
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="the trainer without and with torch.compile, and a plain DataLoader loop on the "
        "same device, in one run",
    )
    args = parser.parse_args()

    batch_size = 256
    data = cifar_shaped(args.batches * batch_size)
    config = TrainConfig(
        epochs=1,
        batch_size=batch_size,
        eval_batch_size=1024,
        max_train_batches=args.batches,
        device=args.device,
        precision=args.precision,
        compile=args.compile,
        patience_epochs=0,
    )

    def factory() -> nn.Module:
        return ResNetLike(args.width, args.blocks)

    params = sum(p.numel() for p in factory().parameters())
    if args.compare:
        compare(factory, data, config, params)
        return
    device, train_ips, eval_ips, epoch_seconds = trainer_figures(factory, data, config)
    print(
        f"device {device}, ResNet C={args.width} N={args.blocks} ({params:,} params), batch {batch_size}"
    )
    print(f"train: {train_ips:,.0f} images/s over {args.batches * batch_size} images")
    print(f"validation: {eval_ips:,.0f} images/s")
    print(
        f"NB201 CIFAR epoch (25k train + 25k valid): {epoch_seconds:.1f} s; 200 epochs: {200 * epoch_seconds / 3600:.2f} h"
    )
    if args.baseline:
        baseline = dataloader_images_per_second(
            build_seeded(factory, 0), data, config, min(args.batches, 10)
        )
        print(f"DataLoader + per-image transforms on CPU: {baseline:,.0f} images/s")


def compare(
    factory: Callable[[], nn.Module], data: DatasetSplits, config: TrainConfig, params: int
) -> None:
    """The three ways to train, one after the other on the same device, network and data."""
    rows: list[tuple[str, float, float]] = []
    device = "cpu"
    for compiled in (False, True):
        device, train_ips, eval_ips, epoch_seconds = trainer_figures(
            factory, data, config.model_copy(update={"compile": compiled})
        )
        rows.append(
            (f"nader trainer{' + torch.compile' if compiled else ''}", train_ips, epoch_seconds)
        )
    target = torch.device(device)
    workers = min(8, os.cpu_count() or 1) if target.type == "cuda" else 0
    loop = [
        dataloader_images_per_second(
            build_seeded(factory, 0), data, config, config.max_train_batches or 10, target, workers
        )
        for _ in range(2)  # the first warms up (worker start, cudnn)
    ]
    loop_ips = loop[-1]
    eval_ips = rows[0][1]  # the plain loop's validation is not timed: the eager trainer's is used
    rows.append(
        (
            f"DataLoader loop ({workers} workers), fp32",
            loop_ips,
            NB201_TRAIN_IMAGES / loop_ips + NB201_VALID_IMAGES / eval_ips,
        )
    )
    print(
        f"device {device}, {params:,} params, batch {config.batch_size}, precision {config.precision}"
    )
    print(f"{'way':44} {'train img/s':>12} {'s / NB201 epoch':>16} {'vs loop':>8}")
    for name, ips, seconds in rows:
        print(f"{name:44} {ips:12,.0f} {seconds:16.1f} {ips / loop_ips:7.2f}x")


if __name__ == "__main__":
    main()
