"""NAS-Bench-201 split files: the real ones parse, malformed ones fail clearly, indices are checked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from nader.data.errors import DatasetError
from nader.data.splits import check_indices, read_split_file, seeded_halves, seeded_thirds

REAL_SPLITS = {
    "cifar-split.txt": ({"train": 25_000, "valid": 25_000}, 50_000),
    "cifar100-test-split.txt": ({"xvalid": 5_000, "xtest": 5_000}, 10_000),
    "imagenet-16-120-test-split.txt": ({"xvalid": 3_000, "xtest": 3_000}, 6_000),
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(REAL_SPLITS))
def test_real_split_files_parse_and_partition_their_pool(corpus: Path, name: str) -> None:
    sizes, pool = REAL_SPLITS[name]
    split = read_split_file(corpus / "nader-official" / "nb201-splits" / name)
    assert {part: len(indices) for part, indices in split.parts.items()} == sizes
    everything = np.concatenate(list(split.parts.values()))
    assert np.array_equal(np.sort(everything), np.arange(pool))  # disjoint and covering


def test_small_split_file_keeps_file_order(write_split: Callable[..., Path]) -> None:
    path = write_split({"train": [4, 0, 2], "valid": [1, 3]})
    split = read_split_file(path)
    assert split.parts["train"].tolist() == [4, 0, 2]
    assert split.parts["valid"].dtype == np.int64
    train, valid = split.require(("train", "valid"), dataset="cifar10")
    assert valid.tolist() == [1, 3]


def test_integer_entries_are_accepted_too(tmp_path: Path) -> None:
    path = tmp_path / "split.txt"
    path.write_text('{"xvalid": ["int", [0, 2]], "xtest": ["int", ["1"]]}')
    assert read_split_file(path).parts["xvalid"].tolist() == [0, 2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not a JSON split file"),
        ("[1, 2]", "JSON object of parts"),
        ("{}", "JSON object of parts"),
        ('{"train": [0, 1]}', 'must be \\["int", \\[indices...\\]\\]'),
        ('{"train": ["float", ["0.5"]]}', "element type 'float'"),
        ('{"train": ["int", ["1", "x2"]]}', "position 1: 'x2' is not a non-negative integer"),
        ('{"train": ["int", ["-3"]]}', "'-3' is not a non-negative integer"),
        ('{"train": ["int", [-3]]}', "negative index -3"),
        ('{"train": ["int", [true]]}', "True is not an index"),
        ('{"train": ["int", ["1", "2", "1"]]}', "repeats index 1"),
        (
            '{"train": ["int", ["1", "2"]], "valid": ["int", ["2"]]}',
            "index 2 is in both part 'train' and part 'valid'",
        ),
    ],
)
def test_malformed_split_files_fail_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad-split.txt"
    path.write_text(text)
    with pytest.raises(DatasetError, match=message) as caught:
        read_split_file(path)
    assert str(path) in str(caught.value)


def test_missing_split_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="split file not found"):
        read_split_file(tmp_path / "nope.txt")


def test_wrong_parts_for_the_dataset(write_split: Callable[..., Path]) -> None:
    split = read_split_file(write_split({"train": [0], "valid": [1]}))
    with pytest.raises(DatasetError, match=r"cifar100 must have parts \['xvalid', 'xtest'\]"):
        split.require(("xvalid", "xtest"), dataset="cifar100")


def test_indices_beyond_the_data_are_a_clear_error(tmp_path: Path) -> None:
    check_indices(np.array([0, 9]), 10, source=tmp_path, part="train", what="the data")
    with pytest.raises(
        DatasetError, match="references row 12 but the data has only 10 rows \\(2 of 3"
    ):
        check_indices(np.array([0, 11, 12]), 10, source=tmp_path, part="train", what="the data")


def test_seeded_halves_are_deterministic_disjoint_and_cover() -> None:
    first, second = seeded_halves(11, seed=5)
    again = seeded_halves(11, seed=5)
    assert np.array_equal(first, again[0]) and np.array_equal(second, again[1])
    assert (len(first), len(second)) == (5, 6)
    assert np.array_equal(np.sort(np.concatenate([first, second])), np.arange(11))
    other = seeded_halves(11, seed=6)
    assert not np.array_equal(first, other[0])


def test_seeded_thirds_fractions() -> None:
    train, valid, test = seeded_thirds(100, seed=0, valid=0.2, test=0.3)
    assert (len(train), len(valid), len(test)) == (50, 20, 30)
    assert np.array_equal(np.sort(np.concatenate([train, valid, test])), np.arange(100))
    with pytest.raises(DatasetError, match="cannot split 2 rows"):
        seeded_thirds(2, seed=0, valid=0.2, test=0.2)
