"""What the CIFAR and ImageNet16 loaders share: decoding image batches and the NB201 split.

Both ship as pickled dicts ``{"data": uint8 (N, 3*S*S) rows in RGB-plane order, <labels>: [...]}``.
NAS-Bench-201's protocol then draws the validation set from one of two pools:

- ``pool="train"`` (CIFAR-10): valid comes out of the official training set, test is the
  official test set;
- ``pool="test"`` (CIFAR-100, ImageNet16-120): train is the whole official training set, and the
  official test set is halved into valid and test.

With a split file the halves are the file's parts; without one they are :func:`seeded_halves`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from nader.data.base import DatasetSplits, ImageSplit
from nader.data.errors import DatasetError
from nader.data.request import DatasetRequest
from nader.data.safe_pickle import load_dataset_pickle
from nader.data.splits import check_indices, read_split_file, seeded_halves


def find_folder(request: DatasetRequest, folder: str, marker: str, dataset: str) -> Path:
    """``data_dir/folder`` or ``data_dir`` itself when it already holds ``marker``."""
    if request.data_dir is None:
        raise DatasetError(f"{dataset} needs data_dir (the folder that holds {folder}/)")
    base = Path(request.data_dir)
    for candidate in (base / folder, base):
        if (candidate / marker).is_file():
            return candidate
    raise DatasetError(f"{dataset}: {base / folder / marker} not found (data_dir={base})")


def read_image_batch(path: Path, label_key: str, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, side, side) uint8 and labels (N,) int64 from one pickled batch."""
    record = load_dataset_pickle(path)
    for key in ("data", label_key):
        if key not in record:
            raise DatasetError(f"{path}: missing key {key!r} (found {sorted(record)})")
    data, labels = record["data"], record[label_key]
    row = 3 * side * side
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != row
    ):
        shape = getattr(data, "shape", None)
        raise DatasetError(
            f"{path}: 'data' must be a uint8 array of rows of {row} values, found {shape}"
        )
    label_array = _as_labels(path, label_key, labels)
    if label_array.shape[0] != data.shape[0]:
        raise DatasetError(f"{path}: {data.shape[0]} images but {label_array.shape[0]} labels")
    return data.reshape(-1, 3, side, side), label_array


def _as_labels(path: Path, key: str, labels: Any) -> np.ndarray:
    if isinstance(labels, np.ndarray) and labels.dtype.kind in "iu" and labels.ndim == 1:
        return labels.astype(np.int64)
    if isinstance(labels, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in labels
    ):
        return np.asarray(labels, dtype=np.int64)
    raise DatasetError(f"{path}: {key!r} must be a list of integers")


@dataclass(frozen=True)
class StandardLayout:
    """How one dataset's standard release is laid out, and NAS-Bench-201's facts about it.

    ``keep`` (optional) filters and relabels each batch after decoding (ImageNet16-120 keeps
    classes 1..120 and makes them 0-based).
    """

    name: str
    folder: str
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    label_key: str
    side: int
    pool: Literal["train", "test"]
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    crop_padding: int
    keep: Callable[[Path, tuple[np.ndarray, np.ndarray]], tuple[np.ndarray, np.ndarray]] | None = (
        None
    )


def load_standard(layout: StandardLayout, request: DatasetRequest) -> DatasetSplits:
    """Read a standard release and cut it into train/valid/test as NAS-Bench-201 does."""
    folder = find_folder(request, layout.folder, layout.test_files[0], layout.name)
    train_all = _read_files(layout, [folder / name for name in layout.train_files])
    test_all = _read_files(layout, [folder / name for name in layout.test_files])
    source = train_all if layout.pool == "train" else test_all
    part_names = ("train", "valid") if layout.pool == "train" else ("xvalid", "xtest")
    if request.split_file is not None:
        split_file = read_split_file(request.split_file)
        first, second = split_file.require(part_names, dataset=layout.name)
        for part, indices in zip(part_names, (first, second), strict=True):
            what = f"{layout.name}'s {layout.pool} set"
            check_indices(indices, len(source), source=split_file.path, part=part, what=what)
        how = f"NAS-Bench-201 split file {split_file.path.name}"
    else:
        first, second = seeded_halves(len(source), request.seed)
        how = f"seeded halves of the {layout.pool} set (seed {request.seed})"
    if layout.pool == "train":
        train, valid, test = source.take(first), source.take(second), test_all
    else:
        train, valid, test = train_all, source.take(first), source.take(second)
    return DatasetSplits(
        name=layout.name,
        train=train,
        valid=valid,
        test=test,
        num_classes=layout.num_classes,
        mean=layout.mean,
        std=layout.std,
        crop_padding=layout.crop_padding,
        horizontal_flip=True,
        split=how,
    )


def _read_files(layout: StandardLayout, paths: Sequence[Path]) -> ImageSplit:
    batches = []
    for path in paths:
        batch = read_image_batch(path, layout.label_key, layout.side)
        batches.append(layout.keep(path, batch) if layout.keep is not None else batch)
    return ImageSplit.from_numpy(
        np.concatenate([images for images, _ in batches]),
        np.concatenate([labels for _, labels in batches]),
    )
