"""The restricted unpickler: numpy arrays load, anything else is refused before it runs."""

from __future__ import annotations

import codecs
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from nader.data.errors import DatasetError
from nader.data.safe_pickle import UnsafePickleError, load_dataset_pickle


def dump(path: Path, record: object, protocol: int = 2) -> Path:
    path.write_bytes(pickle.dumps(record, protocol=protocol))
    return path


@pytest.mark.parametrize("protocol", [0, 2, 3, 5])
def test_numpy_batches_load_at_every_protocol(tmp_path: Path, protocol: int) -> None:
    rows = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    path = dump(tmp_path / "batch", {b"data": rows, b"labels": [3, 7]}, protocol)
    record = load_dataset_pickle(path)
    assert set(record) == {"data", "labels"}  # bytes keys come back as str
    assert record["data"].dtype == np.uint8
    assert np.array_equal(record["data"], rows)
    assert record["labels"] == [3, 7]


def test_numpy_1_module_path_is_admitted(tmp_path: Path) -> None:
    """Files pickled under numpy 1 name ``numpy.core.multiarray``; numpy 2 writes ``numpy._core``."""
    blob = pickle.dumps({"data": np.ones((1, 4), np.uint8)}, protocol=2)
    assert b"numpy._core.multiarray" in blob
    path = tmp_path / "old"
    path.write_bytes(blob.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    assert np.array_equal(load_dataset_pickle(path)["data"], np.ones((1, 4), np.uint8))


class RunsShell:
    """What an attacker would plant: unpickling calls os.system(command)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


class CallsEval:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (eval, ("__import__('os')",))


@pytest.mark.parametrize("protocol", [2, 5])
def test_pickle_that_runs_a_command_is_refused_before_running(
    tmp_path: Path, protocol: int
) -> None:
    marker = tmp_path / "pwned"
    path = dump(tmp_path / "data_batch_1", {b"data": RunsShell(f"touch {marker}")}, protocol)
    with pytest.raises(UnsafePickleError) as caught:
        load_dataset_pickle(path)
    assert not marker.exists()
    message = str(caught.value)
    assert str(path) in message
    assert "system" in message


def test_pickle_calling_builtins_is_refused(tmp_path: Path) -> None:
    path = dump(tmp_path / "test_batch", CallsEval(), protocol=4)
    with pytest.raises(UnsafePickleError, match="builtins.eval"):
        load_dataset_pickle(path)


def test_codecs_encode_is_admitted_only_for_latin1(tmp_path: Path) -> None:
    class Rot13:
        def __reduce__(self) -> tuple[object, tuple[str, str]]:
            return (codecs.encode, ("payload", "rot13"))

    path = dump(tmp_path / "batch", {b"data": Rot13()})
    with pytest.raises(DatasetError, match="latin1"):
        load_dataset_pickle(path)


def test_truncated_pickle_is_a_clear_error(tmp_path: Path) -> None:
    blob = pickle.dumps({b"data": np.zeros((4, 3072), np.uint8)}, protocol=2)
    path = tmp_path / "data_batch_2"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DatasetError, match="corrupt") as caught:
        load_dataset_pickle(path)
    assert str(path) in str(caught.value)


def test_garbage_bytes_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "data_batch_3"
    path.write_bytes(b"this is not a pickle at all\n" * 4)
    with pytest.raises(DatasetError, match="data_batch_3"):
        load_dataset_pickle(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found: .*data_batch_4"):
        load_dataset_pickle(tmp_path / "data_batch_4")


def test_a_pickle_that_is_not_a_dict_is_rejected(tmp_path: Path) -> None:
    path = dump(tmp_path / "batch", [1, 2, 3])
    with pytest.raises(DatasetError, match="expected a pickled dict, found list"):
        load_dataset_pickle(path)
