"""The in-memory form every dataset loader returns: train/valid/test image tensors plus facts.

Images stay ``uint8`` NCHW (4x smaller than float, cheap to move to a GPU once); the trainer turns
them into normalised floats batch by batch on the device. The facts a trainer or a network
skeleton needs travel with the data: number of classes, channels, image size, the normalisation
mean/std, and the augmentation the dataset's protocol calls for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nader.data.errors import DatasetError


@dataclass(frozen=True)
class ImageSplit:
    """One split: ``images`` uint8 (N, C, H, W), ``labels`` int64 (N,)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise DatasetError(
                f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}"
            )
        if self.labels.dtype != torch.int64 or self.labels.shape != (self.images.shape[0],):
            raise DatasetError(
                f"labels must be int64 with one per image ({self.images.shape[0]}), got "
                f"{self.labels.dtype} {tuple(self.labels.shape)}"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @classmethod
    def from_numpy(cls, images: np.ndarray, labels: np.ndarray) -> ImageSplit:
        return cls(
            torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8)),
            torch.from_numpy(np.ascontiguousarray(labels, dtype=np.int64)),
        )

    def take(self, indices: np.ndarray) -> ImageSplit:
        """The rows at ``indices`` (already checked to be in range)."""
        index = torch.from_numpy(np.asarray(indices, dtype=np.int64))
        return ImageSplit(self.images[index].contiguous(), self.labels[index].contiguous())


@dataclass(frozen=True)
class DatasetSplits:
    """A dataset ready to train on.

    ``valid`` drives every search decision; ``test`` is for the final report only (the trainer
    reads it once, after training). ``mean``/``std`` are per channel on the 0..1 scale.
    ``crop_padding`` and ``horizontal_flip`` are the protocol's augmentation (NAS-Bench-201: pad 4
    and flip on CIFAR, pad 2 on ImageNet16-120). ``split`` says where the split came from.
    """

    name: str
    train: ImageSplit
    valid: ImageSplit
    test: ImageSplit
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    crop_padding: int
    horizontal_flip: bool
    split: str

    def __post_init__(self) -> None:
        shapes = {tuple(part.images.shape[1:]) for part in (self.train, self.valid, self.test)}
        if len(shapes) != 1:
            raise DatasetError(
                f"{self.name}: train/valid/test images differ in shape: {sorted(shapes)}"
            )
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise DatasetError(
                f"{self.name}: mean/std need one value per channel ({self.channels})"
            )
        if any(s <= 0 for s in self.std):
            raise DatasetError(f"{self.name}: std must be positive, got {self.std}")
        for part_name, part in (("train", self.train), ("valid", self.valid), ("test", self.test)):
            if len(part) == 0:
                raise DatasetError(f"{self.name}: the {part_name} split is empty")
            low, high = int(part.labels.min()), int(part.labels.max())
            if low < 0 or high >= self.num_classes:
                raise DatasetError(
                    f"{self.name}: {part_name} labels span {low}..{high}, outside 0..{self.num_classes - 1}"
                )

    @property
    def channels(self) -> int:
        return int(self.train.images.shape[1])

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.train.images.shape[2]), int(self.train.images.shape[3])

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image, what a network skeleton is built for."""
        return (self.channels, *self.image_size)


def channel_statistics(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std (0..1 scale) of uint8 NCHW images, for datasets without constants."""
    scaled = images.to(torch.float64) / 255.0
    mean = scaled.mean(dim=(0, 2, 3))
    std = scaled.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)
