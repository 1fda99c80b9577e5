"""Fixtures for dataset and trainer tests: fake dataset files written with pickle, small CNNs.

The fake files follow the standard layouts byte for byte where it matters (pickled dicts of
``data`` rows and label lists), so the loaders are exercised on the real format without the real
(undownloadable) datasets.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """The machine is shared; one intra-op thread keeps these tests from fighting others."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def write_pickle(path: Path, record: object, protocol: int = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(record, protocol=protocol))


def image_rows(rng: np.random.Generator, count: int, side: int) -> np.ndarray:
    return rng.integers(0, 256, size=(count, 3 * side * side), dtype=np.uint8)


@pytest.fixture
def fake_cifar10(
    tmp_path: Path,
) -> Callable[..., tuple[Path, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Write ``cifar-10-batches-py`` under a tmp dir; returns (data_dir, train rows, labels, test rows, labels)."""

    def write(batch_sizes: Sequence[int] = (8, 8, 8, 8, 8), test_size: int = 10, seed: int = 0):
        rng = np.random.default_rng(seed)
        folder = tmp_path / "cifar-10-batches-py"
        rows, labels = [], []
        for number, size in enumerate(batch_sizes, start=1):
            data, targets = image_rows(rng, size, 32), rng.integers(0, 10, size).tolist()
            write_pickle(
                folder / f"data_batch_{number}",
                {b"batch_label": b"x", b"data": data, b"labels": targets},
            )
            rows.append(data)
            labels.extend(targets)
        test_rows, test_labels = (
            image_rows(rng, test_size, 32),
            rng.integers(0, 10, test_size).tolist(),
        )
        write_pickle(folder / "test_batch", {b"data": test_rows, b"labels": test_labels})
        return (
            tmp_path,
            np.concatenate(rows),
            np.asarray(labels),
            test_rows,
            np.asarray(test_labels),
        )

    return write


@pytest.fixture
def fake_cifar100(tmp_path: Path) -> Callable[..., tuple[Path, np.ndarray, np.ndarray]]:
    """Write ``cifar-100-python`` (fine and coarse labels); returns (data_dir, test rows, fine labels)."""

    def write(train_size: int = 12, test_size: int = 10, seed: int = 1):
        rng = np.random.default_rng(seed)
        folder = tmp_path / "cifar-100-python"
        for name, size in (("train", train_size), ("test", test_size)):
            data = image_rows(rng, size, 32)
            fine = rng.integers(0, 100, size).tolist()
            coarse = [label // 5 for label in fine]
            write_pickle(
                folder / name, {b"data": data, b"fine_labels": fine, b"coarse_labels": coarse}
            )
            if name == "test":
                test_rows, test_fine = data, np.asarray(fine)
        return tmp_path, test_rows, test_fine

    return write


@pytest.fixture
def fake_imagenet16(tmp_path: Path) -> Callable[..., tuple[Path, np.ndarray, np.ndarray]]:
    """Write ``train_data_batch_1..10`` and ``val_data`` with 1-based labels over 1..1000 and str keys
    (as Python 2 wrote them); returns (data_dir, val rows, val labels) before filtering."""

    def write(per_batch: int = 6, val_size: int = 20, seed: int = 2):
        rng = np.random.default_rng(seed)
        folder = tmp_path / "ImageNet16"
        for number in range(1, 11):
            labels = rng.choice([1, 2, 60, 120, 121, 500, 1000], per_batch).tolist()
            record = {
                "data": image_rows(rng, per_batch, 16),
                "labels": labels,
                "mean": np.zeros(768),
            }
            write_pickle(folder / f"train_data_batch_{number}", record)
        val_rows = image_rows(rng, val_size, 16)
        val_labels = np.asarray([1, 120, 121, 999] * (val_size // 4))
        write_pickle(folder / "val_data", {"data": val_rows, "labels": val_labels.tolist()})
        return tmp_path, val_rows, val_labels

    return write


@pytest.fixture
def write_split(tmp_path: Path) -> Callable[[dict[str, list[object]], str], Path]:
    """Write a split file in NAS-Bench-201's layout: ``{"part": ["int", ["0", "3", ...]]}``."""

    def write(parts: dict[str, list[object]], name: str = "split.txt") -> Path:
        path = tmp_path / name
        path.write_text(
            json.dumps({key: ["int", [str(v) for v in values]] for key, values in parts.items()})
        )
        return path

    return write


class TinyResNet(nn.Module):
    """Stem, one residual block, a strided stage and a linear head: small, but ResNet-shaped."""

    def __init__(
        self, num_classes: int, channels: int = 3, width: int = 8, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width)
        )
        self.block = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
        )
        self.reduce = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(2 * width),
        )
        self.head = nn.Sequential(
            nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout)
        )
        self.classifier = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = x + self.block(x)
        return self.classifier(self.head(self.reduce(x)))


@pytest.fixture
def tiny_resnet() -> type[TinyResNet]:
    return TinyResNet
