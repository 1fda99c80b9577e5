"""Batches made on the training device: uint8 images → augmented, normalised float batches.

The conventional pipeline (a ``DataLoader`` calling per-image transforms in Python) spends more
time moving single images through the interpreter than a GPU spends on a small network. Here a
split is copied to the device once (padded once for random crops), and a batch is three indexing
kernels: select the rows, gather the cropped rows, gather the cropped columns — reversed where the
image is flipped, so the flip costs nothing extra. NAS-Bench-201's ``RandomCrop(padding=p)`` pads
with black (0) before normalising; so does this.

Random draws (crop offsets, flips) come from a CPU ``torch.Generator`` owned by the trainer: the
augmentation is the same on every device and its state goes into the checkpoint.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nader.data.base import ImageSplit


class DeviceImages:
    """One split resident on ``device``: padded uint8 images, labels and the normaliser."""

    def __init__(
        self,
        split: ImageSplit,
        *,
        mean: tuple[float, ...],
        std: tuple[float, ...],
        device: torch.device,
        padding: int = 0,
        channels_last: bool = False,
    ) -> None:
        self.device = device
        self.padding = padding
        self.channels_last = channels_last
        images = split.images.to(device)
        self.images = F.pad(images, (padding,) * 4) if padding else images
        self.labels = split.labels.to(device)
        _, channels, height, width = split.images.shape
        self.height, self.width = int(height), int(width)
        scale = (
            torch.tensor(std, dtype=torch.float32, device=device).view(1, channels, 1, 1) * 255.0
        )
        self.scale = 1.0 / scale
        self.shift = (
            -torch.tensor(mean, dtype=torch.float32, device=device).view(1, channels, 1, 1)
            * 255.0
            * self.scale
        )
        self.row_steps = torch.arange(self.height, device=device)
        self.col_steps = torch.arange(self.width, device=device)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        batch = torch.addcmul(self.shift, images.to(torch.float32), self.scale)
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch

    def augmented_batch(
        self, rows: torch.Tensor, offsets: torch.Tensor, flips: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``rows`` cropped at ``offsets`` (B, 2) in the padded frame, flipped where ``flips``."""
        rows = rows.to(self.device, non_blocking=True)
        offsets = offsets.to(self.device, non_blocking=True)
        flips = flips.to(self.device, non_blocking=True)
        batch = self.images.index_select(0, rows)  # (B, C, H + 2p, W + 2p)
        count, channels, _, padded_width = batch.shape
        top = (offsets[:, :1] + self.row_steps).view(count, 1, self.height, 1)
        batch = batch.gather(2, top.expand(count, channels, self.height, padded_width))
        left = offsets[:, 1:]
        cols = torch.where(
            flips[:, None], left + (self.width - 1 - self.col_steps), left + self.col_steps
        )
        crops = batch.gather(
            3, cols.view(count, 1, 1, self.width).expand(count, channels, self.height, self.width)
        )
        return self.normalise(crops), self.labels[rows]

    def plain_batch(self, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows ``start:stop`` unaugmented (evaluation)."""
        images = self.images[start:stop]
        if self.padding:
            p = self.padding
            images = images[:, :, p : p + self.height, p : p + self.width]
        return self.normalise(images), self.labels[start:stop]


def draw_augmentation(
    generator: torch.Generator, count: int, *, padding: int, flip: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Crop offsets (count, 2) in 0..2·padding and flip flags for one batch."""
    offsets = torch.randint(0, 2 * padding + 1, (count, 2), generator=generator)
    if flip:
        flips = torch.rand(count, generator=generator) < 0.5
    else:
        flips = torch.zeros(count, dtype=torch.bool)
    return offsets, flips
