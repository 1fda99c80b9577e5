"""CIFAR-10 and CIFAR-100 from their standard python-pickle folders.

``data_dir`` holds ``cifar-10-batches-py/`` (``data_batch_1..5``, ``test_batch``) or
``cifar-100-python/`` (``train``, ``test``; the 100 *fine* labels are used), or is that folder
itself. Normalisation constants and augmentation are NAS-Bench-201's. CIFAR-10 draws its
validation set from the training images (split file parts ``train``/``valid``); CIFAR-100 halves
its test set into validation and test (parts ``xvalid``/``xtest``).
"""

from __future__ import annotations

from nader.data.base import DatasetSplits
from nader.data.request import DatasetRequest
from nader.data.standard import StandardLayout, load_standard

CIFAR10_MEAN = tuple(v / 255 for v in (125.3, 123.0, 113.9))
CIFAR10_STD = tuple(v / 255 for v in (63.0, 62.1, 66.7))
CIFAR100_MEAN = tuple(v / 255 for v in (129.3, 124.1, 112.4))
CIFAR100_STD = tuple(v / 255 for v in (68.2, 65.4, 70.4))

CIFAR10 = StandardLayout(
    name="cifar10",
    folder="cifar-10-batches-py",
    train_files=tuple(f"data_batch_{i}" for i in range(1, 6)),
    test_files=("test_batch",),
    label_key="labels",
    side=32,
    pool="train",
    num_classes=10,
    mean=CIFAR10_MEAN,
    std=CIFAR10_STD,
    crop_padding=4,
)

CIFAR100 = StandardLayout(
    name="cifar100",
    folder="cifar-100-python",
    train_files=("train",),
    test_files=("test",),
    label_key="fine_labels",
    side=32,
    pool="test",
    num_classes=100,
    mean=CIFAR100_MEAN,
    std=CIFAR100_STD,
    crop_padding=4,
)


def load_cifar10(request: DatasetRequest) -> DatasetSplits:
    return load_standard(CIFAR10, request)


def load_cifar100(request: DatasetRequest) -> DatasetSplits:
    return load_standard(CIFAR100, request)
