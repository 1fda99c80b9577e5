"""NAS-Bench-201 split files, and the seeded default split used when none is given.

NAS-Bench-201 fixes which images a search may look at. Its files are JSON objects whose values
are ``[type, [indices as strings]]``, e.g. ``{"train": ["int", ["0", "5", ...]], "valid": [...]}``:

- ``cifar-split.txt`` (keys ``train``, ``valid``) divides the 50,000 CIFAR-10 *training* images;
- ``cifar100-test-split.txt`` and ``imagenet-16-120-test-split.txt`` (keys ``xvalid``, ``xtest``)
  divide the official *test* set of CIFAR-100 / ImageNet16-120 into validation and test halves.

The files are read with :mod:`json` (never evaluated) and checked: known element type, integer
indices, no repeats, parts pairwise disjoint; whether every index exists is checked against the
data it is applied to (:func:`take_parts`), so a split written for the full CIFAR-10 is a clear
error on a subset rather than an ``IndexError`` deep inside numpy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nader.data.errors import DatasetError


@dataclass(frozen=True)
class SplitFile:
    """A parsed split file: part name → row indices (int64, in file order)."""

    path: Path
    parts: Mapping[str, np.ndarray]

    def require(self, names: Sequence[str], *, dataset: str) -> tuple[np.ndarray, ...]:
        """The index arrays for ``names``, or an error saying which file this dataset expects."""
        missing = [name for name in names if name not in self.parts]
        if missing:
            raise DatasetError(
                f"{self.path}: split file for {dataset} must have parts {list(names)}, found "
                f"{sorted(self.parts)} (is this the split file of another dataset?)"
            )
        return tuple(self.parts[name] for name in names)


def read_split_file(path: Path) -> SplitFile:
    """Parse and check a NAS-Bench-201 split file.

    :raises DatasetError: the file is missing, not JSON, or its parts are malformed, repeat an
        index or overlap; the message names the file and the part.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"split file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path}: cannot be read as a split file ({err})") from err
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path}: not a JSON split file ({err})") from err
    if not isinstance(raw, dict) or not raw:
        raise DatasetError(
            f'{path}: a split file is a JSON object of parts, e.g. {{"train": ["int", [...]]}}'
        )
    parts = {str(name): _parse_part(path, str(name), value) for name, value in raw.items()}
    seen: dict[int, str] = {}
    for name, indices in parts.items():
        for index in indices.tolist():
            if index in seen:
                raise DatasetError(
                    f"{path}: index {index} is in both part {seen[index]!r} and part {name!r}"
                )
            seen[index] = name
    return SplitFile(path=path, parts=parts)


def _parse_part(path: Path, name: str, value: object) -> np.ndarray:
    where = f"{path}: part {name!r}"
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], list)):
        raise DatasetError(f'{where} must be ["int", [indices...]], found {type(value).__name__}')
    kind, items = value
    if kind != "int":
        raise DatasetError(f'{where} has element type {kind!r}; only "int" is supported')
    indices: list[int] = []
    for position, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise DatasetError(f"{where}, position {position}: {item!r} is not an index")
        if isinstance(item, str) and not item.isdigit():
            raise DatasetError(
                f"{where}, position {position}: {item!r} is not a non-negative integer"
            )
        index = int(item)
        if index < 0:
            raise DatasetError(f"{where}, position {position}: negative index {index}")
        indices.append(index)
    array = np.asarray(indices, dtype=np.int64)
    if np.unique(array).size != array.size:
        values, counts = np.unique(array, return_counts=True)
        raise DatasetError(f"{where} repeats index {int(values[counts > 1][0])}")
    return array


def check_indices(indices: np.ndarray, rows: int, *, source: Path, part: str, what: str) -> None:
    """Fail clearly when a split part points past the end of the data it is applied to."""
    if indices.size and int(indices.max()) >= rows:
        beyond = int((indices >= rows).sum())
        raise DatasetError(
            f"{source}: part {part!r} references row {int(indices.max())} but {what} has only "
            f"{rows} rows ({beyond} of {indices.size} indices out of range; a split file for the "
            "full dataset cannot be applied to a subset)"
        )


def seeded_halves(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The default split: a seeded random permutation of ``rows`` cut into two halves.

    Halves match NAS-Bench-201's proportions (25k/25k of CIFAR-10 train, 5k/5k of the CIFAR-100
    test set, 3k/3k of ImageNet16-120's). The first half comes first in the permutation; both are
    returned sorted so the data keep their file order.
    """
    order = np.random.default_rng(seed).permutation(rows)
    middle = rows // 2
    return np.sort(order[:middle]), np.sort(order[middle:])


def seeded_thirds(rows: int, seed: int, *, valid: float, test: float) -> tuple[np.ndarray, ...]:
    """Seeded train/valid/test split for datasets without an official test set (``digits``)."""
    order = np.random.default_rng(seed).permutation(rows)
    n_valid, n_test = round(rows * valid), round(rows * test)
    n_train = rows - n_valid - n_test
    if min(n_train, n_valid, n_test) <= 0:
        raise DatasetError(
            f"cannot split {rows} rows into train/valid/test fractions {valid}, {test}"
        )
    cuts = (order[:n_train], order[n_train : n_train + n_valid], order[n_train + n_valid :])
    return tuple(np.sort(part) for part in cuts)
