"""``synthetic``: small seeded images whose class is a visible pattern, for fast unit tests.

Each class is a sinusoidal grating at its own orientation (class k: angle k·π/num_classes), with
a random frequency, phase and contrast per image plus pixel noise — so a small CNN learns it in a
few steps (translation-invariant features), yet no single pixel gives the class away and a network
that cannot learn stays near chance. Orientation is not flip-invariant, hence no flip.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from nader.data.base import DatasetSplits, ImageSplit, channel_statistics
from nader.data.errors import DatasetError
from nader.data.request import DatasetRequest


def synthetic_images(
    count: int,
    *,
    num_classes: int,
    image_size: int,
    channels: int,
    noise: float,
    rng: np.random.Generator,
) -> ImageSplit:
    labels = np.arange(count) % num_classes
    rng.shuffle(labels)
    angle = labels * math.pi / num_classes
    frequency = rng.uniform(0.12, 0.22, size=count)  # cycles per pixel
    phase = rng.uniform(0, 2 * math.pi, size=count)
    contrast = rng.uniform(0.25, 0.45, size=count)
    ys, xs = np.meshgrid(np.arange(image_size), np.arange(image_size), indexing="ij")
    along = np.cos(angle)[:, None, None] * xs + np.sin(angle)[:, None, None] * ys
    wave = np.sin(2 * math.pi * frequency[:, None, None] * along + phase[:, None, None])
    tint = rng.uniform(0.7, 1.0, size=(count, channels, 1, 1))
    pixels = 0.5 + contrast[:, None, None, None] * wave[:, None] * tint
    pixels = pixels + rng.normal(0.0, noise, size=pixels.shape)
    images = np.rint(np.clip(pixels, 0.0, 1.0) * 255).astype(np.uint8)
    return ImageSplit.from_numpy(images, labels)


def make_synthetic(
    *,
    num_train: int = 1024,
    num_valid: int = 256,
    num_test: int = 256,
    num_classes: int = 4,
    image_size: int = 16,
    channels: int = 3,
    noise: float = 0.1,
    seed: int = 0,
) -> DatasetSplits:
    """A synthetic dataset; every argument is explicit so tests can make tiny ones."""
    if num_classes < 2 or min(num_train, num_valid, num_test) < num_classes:
        raise DatasetError(
            "synthetic data needs at least 2 classes and one image per class in each split"
        )
    rng = np.random.default_rng(seed)
    make = functools.partial(
        synthetic_images,
        num_classes=num_classes,
        image_size=image_size,
        channels=channels,
        noise=noise,
        rng=rng,
    )
    train, valid, test = make(num_train), make(num_valid), make(num_test)
    mean, std = channel_statistics(train.images)
    return DatasetSplits(
        name="synthetic",
        train=train,
        valid=valid,
        test=test,
        num_classes=num_classes,
        mean=mean,
        std=std,
        crop_padding=max(1, image_size // 8),
        horizontal_flip=False,
        split=f"generated (seed {seed})",
    )


def load_synthetic(request: DatasetRequest) -> DatasetSplits:
    if request.split_file is not None:
        raise DatasetError(
            "synthetic data has no split file; its split is generated (omit split_file)"
        )
    return make_synthetic(seed=request.seed)
