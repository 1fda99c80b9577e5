"""Built-in plugin: the datasets nader ships, registered through the public hook.

The loaders need torch (and ``digits`` needs scikit-learn), so they are imported when a dataset is
loaded, not when the plugin manager starts — ``nader check`` keeps working without torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nader.hookspecs import hookimpl

if TYPE_CHECKING:
    from nader.data.base import DatasetSplits
    from nader.data.request import DatasetRequest


def cifar10(request: DatasetRequest) -> DatasetSplits:
    from nader.data.cifar import load_cifar10

    return load_cifar10(request)


def cifar100(request: DatasetRequest) -> DatasetSplits:
    from nader.data.cifar import load_cifar100

    return load_cifar100(request)


def imagenet16_120(request: DatasetRequest) -> DatasetSplits:
    from nader.data.imagenet16 import load_imagenet16_120

    return load_imagenet16_120(request)


def digits(request: DatasetRequest) -> DatasetSplits:
    from nader.data.digits import load_digits_dataset

    return load_digits_dataset(request)


def synthetic(request: DatasetRequest) -> DatasetSplits:
    from nader.data.synthetic import load_synthetic

    return load_synthetic(request)


@hookimpl
def register_datasets(register: Callable[..., Any]) -> None:
    register("cifar10", cifar10)
    register("cifar100", cifar100)
    register("imagenet16-120", imagenet16_120)
    register("digits", digits)
    register("synthetic", synthetic)
