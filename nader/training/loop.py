"""Train a network under NAS-Bench-201's protocol; select on validation, report test once.

Honest selection is built into the shape of the API: the training loop (:class:`TrainingLoop`)
is given only the train and valid splits; :func:`train_model` evaluates the test split once, after
training completed, and a finished checkpoint replays the stored result instead of re-testing.
``TrainResult.valid_acc`` is what a search may use; ``test_acc`` is for reports.

Speed: data live on the device as uint8 tensors and are augmented there in whole batches
(:mod:`nader.training.augment`); on CUDA the model runs in bf16/fp16 autocast with channels_last,
and ``torch.compile`` is one flag. Designs that cannot train stop early: a non-finite loss is
status ``diverged``; validation accuracy still at chance after ``patience_epochs`` is
``no_progress``. Checkpoints are :mod:`nader.training.checkpoint`'s business.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from nader.data.base import DatasetSplits, ImageSplit
from nader.training import checkpoint
from nader.training.augment import DeviceImages, draw_augmentation
from nader.training.config import EpochRecord, Status, TrainConfig, TrainingError, TrainResult

ModuleT = TypeVar("ModuleT", bound=nn.Module)


@dataclass(frozen=True)
class DeviceSetup:
    """``TrainConfig``'s "auto" settings resolved for this device and dataset, and the helpers that use them."""

    device: torch.device
    amp_dtype: torch.dtype | None
    channels_last: bool
    padding: int
    flip: bool

    @classmethod
    def resolve(cls, config: TrainConfig, data: DatasetSplits) -> DeviceSetup:
        name = config.device
        if name == "auto":
            name = "cuda" if torch.cuda.is_available() else "cpu"
        device = torch.device(name)
        on_cuda = device.type == "cuda"
        precision = config.precision
        if precision == "auto":
            precision = (
                ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if on_cuda else "fp32"
            )
        amp_dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        return cls(
            device=device,
            amp_dtype=amp_dtype,
            channels_last=on_cuda if config.channels_last is None else config.channels_last,
            padding=data.crop_padding if config.crop_padding is None else config.crop_padding,
            flip=data.horizontal_flip if config.horizontal_flip is None else config.horizontal_flip,
        )

    def place(
        self, split: ImageSplit, facts: DatasetSplits | SelectionData, *, padding: int = 0
    ) -> DeviceImages:
        """Copy ``split`` to the device, ready for batches."""
        return DeviceImages(
            split,
            mean=facts.mean,
            std=facts.std,
            device=self.device,
            padding=padding,
            channels_last=self.channels_last,
        )

    def autocast(self) -> AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)


def build_seeded(factory: Callable[[], ModuleT], seed: int) -> ModuleT:
    """Build a model with its initial weights drawn from ``seed`` (the caller's RNG is untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        return factory()


def steps_per_epoch(train_rows: int, config: TrainConfig) -> int:
    """Batches per epoch; a trailing batch of one image is skipped (batch norm needs two)."""
    full, rest = divmod(train_rows, config.batch_size)
    steps = full + (1 if rest >= 2 else 0)
    return min(steps, config.max_train_batches) if config.max_train_batches else steps


def learning_rate(config: TrainConfig, step: int, total_steps: int, steps_in_epoch: int) -> float:
    """Linear warmup (if any), then cosine from ``lr`` to ``min_lr`` over the remaining steps."""
    warmup = config.warmup_epochs * steps_in_epoch
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + math.cos(math.pi * progress))


def evaluate_accuracy(
    model: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    images: DeviceImages,
    setup: DeviceSetup,
    *,
    batch_size: int,
    max_batches: int | None = None,
) -> float:
    """Top-1 accuracy on a device-resident split (model in eval mode, no gradients)."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=setup.device)
    seen = 0
    with torch.no_grad(), setup.autocast():
        for index, start in enumerate(range(0, len(images), batch_size)):
            if max_batches is not None and index >= max_batches:
                break
            batch, labels = images.plain_batch(start, start + batch_size)
            correct += (forward(batch).argmax(dim=1) == labels).sum()
            seen += int(labels.shape[0])
    model.train(was_training)
    return int(correct.item()) / max(1, seen)


def train_model(
    model: nn.Module,
    data: DatasetSplits,
    config: TrainConfig | None = None,
    *,
    checkpoint_path: Path | None = None,
    stop_after_epochs: int | None = None,
    on_epoch: Callable[[EpochRecord], str | None] | None = None,
) -> TrainResult:
    """Train ``model`` on ``data.train``, validate on ``data.valid``, test once on ``data.test``.

    :param checkpoint_path: written after every epoch; when it exists the run resumes from it (the
        model's current weights are replaced by the checkpoint's). A finished checkpoint returns
        its stored result without training or testing again.
    :param stop_after_epochs: train at most this many epochs in this call, then return status
        ``paused`` (needs ``checkpoint_path``; for preemptible jobs and time slices).
    :param on_epoch: called with each epoch's record (progress display, logging); a returned
        text stops training as ``stopped_early`` with that reason (an early-termination rule),
        unless the epoch was the last.
    :raises TrainingError: unusable data, or a checkpoint from other settings or another model.
    """
    config = config or TrainConfig()
    if stop_after_epochs is not None and (checkpoint_path is None or stop_after_epochs < 1):
        raise TrainingError(
            "stop_after_epochs needs a checkpoint_path to resume from and must be >= 1"
        )
    setup = DeviceSetup.resolve(config, data)
    loop = TrainingLoop(model, SelectionData.of(data), config, setup, checkpoint_path)
    with _run_context(setup, config.seed):
        finished = checkpoint.restore(loop)
        if finished is not None:
            return finished
        status, reason = loop.run(stop_after_epochs, on_epoch)
        test_acc = None
        if status == "trained":
            test = setup.place(data.test, data)
            test_acc = evaluate_accuracy(
                model, loop.forward, test, setup, batch_size=config.eval_batch_size
            )
        result = loop.result(status, reason, test_acc)
        if status != "paused":
            checkpoint.save(loop, result)
    return result


@dataclass(frozen=True)
class SelectionData:
    """What the training loop may see: a dataset without its test split."""

    name: str
    split: str
    train: ImageSplit
    valid: ImageSplit
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    input_shape: tuple[int, int, int]

    @classmethod
    def of(cls, data: DatasetSplits) -> SelectionData:
        return cls(
            name=data.name,
            split=data.split,
            train=data.train,
            valid=data.valid,
            num_classes=data.num_classes,
            mean=data.mean,
            std=data.std,
            input_shape=data.input_shape,
        )


@contextmanager
def _run_context(setup: DeviceSetup, seed: int) -> Iterator[None]:
    """Seed the global RNGs (dropout and the like) for this run and restore the caller's after."""
    cuda_devices = [setup.device] if setup.device.type == "cuda" else []
    benchmark = torch.backends.cudnn.benchmark
    with torch.random.fork_rng(devices=cuda_devices, device_type="cuda"):
        torch.default_generator.manual_seed(seed)
        if cuda_devices:
            torch.cuda.manual_seed(seed)
            torch.backends.cudnn.benchmark = True
        try:
            yield
        finally:
            torch.backends.cudnn.benchmark = benchmark


class TrainingLoop:
    """Epochs over train, validation on valid, checkpoints. Holds no reference to the test split."""

    def __init__(
        self,
        model: nn.Module,
        facts: SelectionData,
        config: TrainConfig,
        setup: DeviceSetup,
        checkpoint_path: Path | None,
    ) -> None:
        self.config, self.setup, self.checkpoint_path = config, setup, checkpoint_path
        train, valid = facts.train, facts.valid
        self.steps_in_epoch = steps_per_epoch(len(train), config)
        if self.steps_in_epoch == 0:
            raise TrainingError(
                f"{facts.name}: {len(train)} training image(s) make no batch of two or more"
            )
        self.total_steps = self.steps_in_epoch * config.epochs
        self.model = model.to(setup.device)
        if setup.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.forward: Callable[[torch.Tensor], torch.Tensor] = (
            torch.compile(self.model) if config.compile else self.model  # type: ignore[assignment]
        )
        self.optimizer: torch.optim.Optimizer = torch.optim.SGD(
            self.model.parameters(),
            lr=config.lr,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
            nesterov=config.nesterov,
        )
        self.scaler = torch.amp.GradScaler(
            setup.device.type, enabled=setup.amp_dtype == torch.float16
        )
        self.generator = torch.Generator().manual_seed(config.seed)
        self.train = setup.place(train, facts, padding=setup.padding)
        self.valid = setup.place(valid, facts)
        counts = torch.bincount(valid.labels, minlength=facts.num_classes)
        self.chance = float(counts.max()) / max(1, len(valid))
        self.fingerprint = {
            "config": config.model_dump(mode="json", exclude={"device", "compile", "early_stop"}),
            "data": [
                facts.name,
                facts.split,
                len(train),
                len(valid),
                facts.num_classes,
                list(facts.input_shape),
            ],
        }
        self.epoch = 0
        self.step = 0
        self.history: list[EpochRecord] = []
        self.train_seconds = 0.0
        self.train_images = 0

    @property
    def device(self) -> torch.device:
        return self.setup.device

    # -- running ---------------------------------------------------------------------------

    def run(
        self,
        stop_after_epochs: int | None,
        on_epoch: Callable[[EpochRecord], str | None] | None,
    ) -> tuple[Status, str | None]:
        self.model.train()
        epochs_this_call = 0
        while self.epoch < self.config.epochs:
            record, reason = self._train_epoch()
            if reason is not None:
                return "diverged", reason
            assert record is not None
            self.epoch += 1
            self.history.append(record)
            verdict = on_epoch(record) if on_epoch is not None else None
            if verdict is not None and self.epoch < self.config.epochs:
                return "stopped_early", verdict
            if self._stalled():
                best = max(r.valid_acc for r in self.history if r.valid_acc is not None)
                return "no_progress", (
                    f"best validation accuracy {best:.4f} after {self.epoch} epochs is within "
                    f"{self.config.progress_margin} of chance ({self.chance:.4f})"
                )
            epochs_this_call += 1
            if self.epoch < self.config.epochs:
                checkpoint.save(self, None)
                if stop_after_epochs is not None and epochs_this_call >= stop_after_epochs:
                    return "paused", f"stopped after {epochs_this_call} epoch(s) as asked"
        return "trained", None

    def _train_epoch(self) -> tuple[EpochRecord | None, str | None]:
        config, setup = self.config, self.setup
        started = time.perf_counter()
        order = torch.randperm(len(self.train), generator=self.generator)
        loss_sum = torch.zeros((), dtype=torch.float32, device=setup.device)
        correct = torch.zeros((), dtype=torch.int64, device=setup.device)
        images = 0
        lr = config.lr
        for index in range(self.steps_in_epoch):
            rows = order[index * config.batch_size : (index + 1) * config.batch_size]
            offsets, flips = draw_augmentation(
                self.generator, len(rows), padding=setup.padding, flip=setup.flip
            )
            batch, labels = self.train.augmented_batch(rows, offsets, flips)
            lr = learning_rate(config, self.step, self.total_steps, self.steps_in_epoch)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            loss, logits = self._step(batch, labels)
            self.step += 1
            loss_sum += loss.detach() * len(rows)
            correct += (logits.detach().argmax(dim=1) == labels).sum()
            images += len(rows)
            last = index == self.steps_in_epoch - 1
            if (last or (index + 1) % config.nonfinite_check_every == 0) and not torch.isfinite(
                loss_sum
            ):
                self._count_time(started, images)
                return (
                    None,
                    f"non-finite training loss in epoch {self.epoch + 1} (by step {self.step})",
                )
        train_loss = float(loss_sum.item()) / images
        self._count_time(started, images)
        seconds = time.perf_counter() - started
        valid_acc = None
        if (self.epoch + 1) % config.valid_every_epochs == 0 or self.epoch + 1 == config.epochs:
            valid_acc = evaluate_accuracy(
                self.model,
                self.forward,
                self.valid,
                setup,
                batch_size=config.eval_batch_size,
                max_batches=config.max_eval_batches,
            )
        record = EpochRecord(
            epoch=self.epoch + 1,
            lr=lr,
            train_loss=train_loss,
            train_acc=int(correct.item()) / images,
            valid_acc=valid_acc,
            seconds=seconds,
            images=images,
        )
        return record, None

    def _step(self, batch: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with self.setup.autocast():
            logits = self.forward(batch)
        loss = F.cross_entropy(logits.float(), labels, label_smoothing=self.config.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.grad_clip_norm is not None:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss, logits

    def _count_time(self, started: float, images: int) -> None:
        self.train_seconds += time.perf_counter() - started
        self.train_images += images

    def _stalled(self) -> bool:
        if self.config.patience_epochs == 0 or self.epoch < self.config.patience_epochs:
            return False
        measured = [r.valid_acc for r in self.history if r.valid_acc is not None]
        return bool(measured) and max(measured) <= self.chance + self.config.progress_margin

    def result(self, status: Status, reason: str | None, test_acc: float | None) -> TrainResult:
        measured = [r.valid_acc for r in self.history if r.valid_acc is not None]
        return TrainResult(
            status=status,
            valid_acc=measured[-1] if measured and status != "diverged" else None,
            test_acc=test_acc,
            epochs_completed=self.epoch,
            epochs_planned=self.config.epochs,
            steps=self.step,
            seed=self.config.seed,
            device=str(self.setup.device),
            train_seconds=self.train_seconds,
            train_images=self.train_images,
            reason=reason,
            history=list(self.history),
        )
