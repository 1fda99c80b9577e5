"""Batched on-device augmentation matches a per-image reference crop/flip."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nader.data.base import ImageSplit
from nader.training.augment import DeviceImages, draw_augmentation


def reference_crop_flip(
    image: torch.Tensor, top: int, left: int, flip: bool, padding: int
) -> torch.Tensor:
    """torchvision's RandomCrop(padding) + RandomHorizontalFlip for one image, written plainly."""
    height, width = image.shape[1:]
    padded = F.pad(image, (padding, padding, padding, padding))
    crop = padded[:, top : top + height, left : left + width]
    return crop.flip(-1) if flip else crop


def make_split(count: int = 12, side: int = 6) -> ImageSplit:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (count, 3, side, side), dtype=torch.uint8, generator=generator)
    return ImageSplit(images, torch.arange(count) % 3)


def test_batched_crop_and_flip_equal_the_per_image_reference() -> None:
    split, padding = make_split(), 2
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 0.2)
    device_images = DeviceImages(
        split, mean=mean, std=std, device=torch.device("cpu"), padding=padding
    )
    generator = torch.Generator().manual_seed(1)
    rows = torch.tensor([5, 0, 11, 5, 7, 3])
    offsets, flips = draw_augmentation(generator, len(rows), padding=padding, flip=True)
    assert flips.any() and not flips.all()  # both paths exercised with this seed
    batch, labels = device_images.augmented_batch(rows, offsets, flips)
    assert labels.tolist() == split.labels[rows].tolist()
    for position, row in enumerate(rows.tolist()):
        top, left = offsets[position].tolist()
        expected = reference_crop_flip(split.images[row], top, left, bool(flips[position]), padding)
        normalised = (expected.float() / 255 - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(
            std
        ).view(3, 1, 1)
        assert torch.allclose(batch[position], normalised, atol=1e-5)


def test_padding_is_black_before_normalising() -> None:
    split = ImageSplit(
        torch.full((1, 1, 4, 4), 200, dtype=torch.uint8), torch.zeros(1, dtype=torch.int64)
    )
    device_images = DeviceImages(
        split, mean=(0.0,), std=(1.0,), device=torch.device("cpu"), padding=2
    )
    batch, _ = device_images.augmented_batch(
        torch.tensor([0]), torch.tensor([[0, 0]]), torch.tensor([False])
    )
    assert batch[0, 0, 0, 0] == 0.0 and torch.isclose(batch[0, 0, 3, 3], torch.tensor(200 / 255))


def test_plain_batches_are_the_unaugmented_images() -> None:
    split = make_split()
    device_images = DeviceImages(
        split, mean=(0.0,) * 3, std=(1.0,) * 3, device=torch.device("cpu"), padding=3
    )
    batch, labels = device_images.plain_batch(2, 6)
    assert torch.allclose(batch, split.images[2:6].float() / 255)
    assert labels.tolist() == split.labels[2:6].tolist()


def test_channels_last_batches() -> None:
    device_images = DeviceImages(
        make_split(),
        mean=(0.0,) * 3,
        std=(1.0,) * 3,
        device=torch.device("cpu"),
        channels_last=True,
    )
    batch, _ = device_images.plain_batch(0, 4)
    assert batch.is_contiguous(memory_format=torch.channels_last)


def test_no_flip_draws_no_flips() -> None:
    offsets, flips = draw_augmentation(torch.Generator().manual_seed(0), 64, padding=4, flip=False)
    assert not flips.any()
    assert int(offsets.min()) >= 0 and int(offsets.max()) == 8
