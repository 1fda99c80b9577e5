"""Datasets: CIFAR-10/100 and ImageNet16-120 from their standard files, NAS-Bench-201 splits,
the embedded ``digits`` default and a ``synthetic`` set for tests.

Every dataset is a factory registered through the ``register_datasets`` hook
(:mod:`nader.data.plugin` registers the built-ins) and loaded with :func:`load_dataset`, which
returns :class:`DatasetSplits`. Pickled dataset files are read with a restricted unpickler
(:mod:`nader.data.safe_pickle`). The torch-backed names are imported on first use so that loading
the plugin manager does not import torch.

Splits (NAS-Bench-201's protocol; ``valid`` drives the search, ``test`` is reported once):

==============  ================================  ==========================================
dataset         with an NB201 split file          default (seeded by ``seed``)
==============  ================================  ==========================================
cifar10         train/valid = parts of the 50k    random halves of the training set;
                training images; test = official  test = official test set
cifar100        train = official train; valid/    train = official train; random halves of
                test = parts xvalid/xtest of the  the official test set
                official test set
imagenet16-120  as cifar100 (classes 1..120)      as cifar100
digits          (none)                            random 60% / 20% / 20%
synthetic       (none)                            generated train / valid / test
==============  ================================  ==========================================
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nader.data.errors import DatasetError
from nader.data.request import DatasetRequest

if TYPE_CHECKING:
    from nader.data.base import DatasetSplits, ImageSplit
    from nader.data.load import load_dataset
    from nader.data.synthetic import make_synthetic

_LAZY = {
    "DatasetSplits": "nader.data.base",
    "ImageSplit": "nader.data.base",
    "load_dataset": "nader.data.load",
    "make_synthetic": "nader.data.synthetic",
}

__all__ = [
    "DatasetError",
    "DatasetRequest",
    "DatasetSplits",
    "ImageSplit",
    "load_dataset",
    "make_synthetic",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nader.data' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
