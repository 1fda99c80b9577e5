"""``load_dataset``: the one way to get a dataset, through the plugin registry.

Built-in and third-party datasets are both factories registered under a name with the
``register_datasets`` hook; this function looks the name up in a :class:`~nader.plugins.manager.Runtime`
and calls the factory with a :class:`~nader.data.request.DatasetRequest`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nader.data.base import DatasetSplits
from nader.data.errors import DatasetError
from nader.data.request import DatasetRequest

if TYPE_CHECKING:
    from nader.plugins.registries import Runtime


def load_dataset(
    name: str,
    *,
    data_dir: str | Path | None = None,
    split_file: str | Path | None = None,
    seed: int = 0,
    runtime: Runtime,
) -> DatasetSplits:
    """Load dataset ``name`` (``cifar10``, ``cifar100``, ``imagenet16-120``, ``digits``, ``synthetic``
    or a plugin's) from ``data_dir``.

    :param split_file: a NAS-Bench-201 split file; without one the dataset's seeded default split.
    :param seed: seed of the default split.
    :param runtime: the plugin runtime to look ``name`` up in.
    :raises DatasetError: files missing, corrupt or unsafe, or a split that does not fit the data.
    :raises PluginError: no dataset of that name is registered.
    """
    factory = runtime.datasets.get(name)
    request = DatasetRequest(
        data_dir=Path(data_dir) if data_dir is not None else None,
        split_file=Path(split_file) if split_file is not None else None,
        seed=seed,
    )
    dataset = factory(request)
    if not isinstance(dataset, DatasetSplits):
        raise DatasetError(
            f"dataset factory {name!r} returned {type(dataset).__name__}, not DatasetSplits"
        )
    return dataset
