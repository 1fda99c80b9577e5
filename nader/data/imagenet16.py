"""ImageNet16-120: the 16x16 downsampled ImageNet, first 120 classes, as NAS-Bench-201 uses it.

``data_dir`` holds ``train_data_batch_1..10`` and ``val_data`` (the "Imagenet16" release of
Chrabaszcz et al., 2017), either directly or in an ``ImageNet16/`` folder. Labels in the files are
1-based over 1000 classes; rows with labels 1..120 are kept and shifted to 0..119, as NB201's
``ImageNet16(..., use_num_of_class_only=120)`` does. Valid and test are halves of ``val_data``
(split file parts ``xvalid``/``xtest``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nader.data.base import DatasetSplits
from nader.data.errors import DatasetError
from nader.data.request import DatasetRequest
from nader.data.standard import StandardLayout, load_standard

NUM_CLASSES = 120
IMAGENET16_MEAN = tuple(v / 255 for v in (122.68, 116.66, 104.01))
IMAGENET16_STD = tuple(v / 255 for v in (63.22, 61.26, 65.09))


def first_classes(
    path: Path, batch: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Keep rows of classes 1..120 and make their labels 0-based."""
    images, labels = batch
    if labels.size and (labels.min() < 1 or labels.max() > 1000):
        raise DatasetError(
            f"{path}: labels must be 1-based class ids 1..1000, found {labels.min()}..{labels.max()}"
        )
    keep = labels <= NUM_CLASSES
    return images[keep], labels[keep] - 1


IMAGENET16_120 = StandardLayout(
    name="imagenet16-120",
    folder="ImageNet16",
    train_files=tuple(f"train_data_batch_{i}" for i in range(1, 11)),
    test_files=("val_data",),
    label_key="labels",
    side=16,
    pool="test",
    num_classes=NUM_CLASSES,
    mean=IMAGENET16_MEAN,
    std=IMAGENET16_STD,
    crop_padding=2,
    keep=first_classes,
)


def load_imagenet16_120(request: DatasetRequest) -> DatasetSplits:
    return load_standard(IMAGENET16_120, request)
