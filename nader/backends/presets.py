"""Dataset facts the compiler needs (input size, classes) and NAS-Bench-201's budget presets.

These are the numbers of NAS-Bench-201's protocol (DESIGN §1): at most 1.5M parameters, and at most
0.2 GFLOPs on CIFAR-10/100 or 0.05 GFLOPs on ImageNet16-120 (16x16 images, 120 classes). FLOPs
are per sample, in NAS-Bench-201's convention (multiply-adds of Conv2d and Linear, biases included).
The loaders themselves belong to the data package; this table is only what shapes a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from nader.errors import ConfigError


class DatasetShape(Protocol):
    """What :func:`preset_for` reads of a loaded dataset (:class:`nader.data.DatasetSplits`)."""

    @property
    def name(self) -> str: ...
    @property
    def image_size(self) -> tuple[int, int]: ...
    @property
    def num_classes(self) -> int: ...
    @property
    def channels(self) -> int: ...


@dataclass(frozen=True)
class DatasetPreset:
    """What a network must accept and produce for one dataset, and its default budget."""

    name: str
    num_classes: int
    image_size: int
    channels: int = 3
    max_params: int | None = None
    max_flops: int | None = None

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one sample."""
        return (self.channels, self.image_size, self.image_size)


NB201_MAX_PARAMS = 1_500_000

DATASET_PRESETS: dict[str, DatasetPreset] = {
    preset.name: preset
    for preset in (
        DatasetPreset("cifar10", 10, 32, max_params=NB201_MAX_PARAMS, max_flops=200_000_000),
        DatasetPreset("cifar100", 100, 32, max_params=NB201_MAX_PARAMS, max_flops=200_000_000),
        DatasetPreset("ImageNet16-120", 120, 16, max_params=NB201_MAX_PARAMS, max_flops=50_000_000),
        DatasetPreset("imagenet", 1000, 224),
    )
}


def dataset_preset(name: str) -> DatasetPreset:
    """Look a preset up by name, ignoring case and ``-``/``_`` (``imagenet16_120`` works)."""
    wanted = _fold(name)
    for preset in DATASET_PRESETS.values():
        if _fold(preset.name) == wanted:
            return preset
    known = ", ".join(DATASET_PRESETS)
    raise ConfigError(f"unknown dataset {name!r}; known datasets: {known}")


def _fold(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def preset_for(
    data: DatasetShape, max_params: int | None = None, max_flops: int | None = None
) -> DatasetPreset:
    """The compiler's view of a loaded dataset (classes, channels, square image size, budget)."""
    height, width = data.image_size
    if height != width:
        raise ConfigError(
            f"dataset {data.name!r} has {height}x{width} images; skeletons need square ones"
        )
    return DatasetPreset(
        name=data.name,
        num_classes=data.num_classes,
        image_size=height,
        channels=data.channels,
        max_params=max_params,
        max_flops=max_flops,
    )
