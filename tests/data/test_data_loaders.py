"""Dataset loaders on fake standard files, on the real CIFAR subsets, and the embedded datasets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from nader.data import DatasetRequest, DatasetSplits, load_dataset
from nader.data.errors import DatasetError
from nader.data.synthetic import make_synthetic
from nader.errors import PluginError
from nader.plugins.manager import Runtime, build_runtime


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return build_runtime(load_entry_points=False)


def as_images(rows: np.ndarray, side: int) -> torch.Tensor:
    return torch.from_numpy(rows.reshape(-1, 3, side, side))


def test_builtin_datasets_are_registered_by_the_nader_plugin(runtime: Runtime) -> None:
    assert set(runtime.datasets.names()) >= {
        "cifar10",
        "cifar100",
        "imagenet16-120",
        "digits",
        "synthetic",
    }
    assert runtime.datasets.owner("cifar10") == "nader"
    with pytest.raises(PluginError, match="no dataset named 'svhn'"):
        load_dataset("svhn", runtime=runtime)


def test_cifar10_default_split_halves_the_training_set(
    fake_cifar10: Callable[..., tuple], runtime: Runtime
) -> None:
    data_dir, train_rows, train_labels, test_rows, test_labels = fake_cifar10()
    data = load_dataset("cifar10", data_dir=data_dir, seed=3, runtime=runtime)
    assert (len(data.train), len(data.valid), len(data.test)) == (20, 20, 10)
    assert data.input_shape == (3, 32, 32) and data.num_classes == 10
    assert (data.crop_padding, data.horizontal_flip) == (4, True)
    assert torch.equal(data.test.images, as_images(test_rows, 32))
    assert data.test.labels.tolist() == test_labels.tolist()
    # train and valid together are exactly the 40 training rows, each once
    together = torch.cat([data.train.images, data.valid.images]).reshape(40, -1)
    assert sorted(map(bytes, together.numpy())) == sorted(map(bytes, train_rows))
    again = load_dataset("cifar10", data_dir=data_dir, seed=3, runtime=runtime)
    assert torch.equal(again.valid.images, data.valid.images)
    other = load_dataset("cifar10", data_dir=data_dir, seed=4, runtime=runtime)
    assert not torch.equal(other.valid.labels, data.valid.labels) or not torch.equal(
        other.valid.images, data.valid.images
    )


def test_cifar10_split_file_picks_exact_rows(
    fake_cifar10: Callable[..., tuple], write_split: Callable[..., Path], runtime: Runtime
) -> None:
    data_dir, train_rows, train_labels, _, _ = fake_cifar10()
    split = write_split({"train": [39, 0, 17], "valid": [5, 8]})
    data = load_dataset(
        "cifar10", data_dir=data_dir / "cifar-10-batches-py", split_file=split, runtime=runtime
    )
    assert torch.equal(data.train.images, as_images(train_rows[[39, 0, 17]], 32))
    assert data.valid.labels.tolist() == train_labels[[5, 8]].tolist()
    assert "split file" in data.split


def test_cifar10_split_file_beyond_the_data(
    fake_cifar10: Callable[..., tuple], write_split: Callable[..., Path], runtime: Runtime
) -> None:
    data_dir = fake_cifar10()[0]
    split = write_split({"train": [0, 40], "valid": [1]})
    with pytest.raises(
        DatasetError, match="references row 40 but cifar10's train set has only 40 rows"
    ):
        load_dataset("cifar10", data_dir=data_dir, split_file=split, runtime=runtime)


def test_cifar100_uses_fine_labels_and_halves_the_test_set(
    fake_cifar100: Callable[..., tuple], write_split: Callable[..., Path], runtime: Runtime
) -> None:
    data_dir, test_rows, fine = fake_cifar100()
    data = load_dataset("cifar100", data_dir=data_dir, runtime=runtime)
    assert (len(data.train), len(data.valid), len(data.test)) == (12, 5, 5)
    assert data.num_classes == 100
    split = write_split({"xvalid": [9, 1], "xtest": [0, 2, 3]})
    data = load_dataset("cifar100", data_dir=data_dir, split_file=split, runtime=runtime)
    assert data.valid.labels.tolist() == fine[[9, 1]].tolist()
    assert torch.equal(data.test.images, as_images(test_rows[[0, 2, 3]], 32))


def test_imagenet16_keeps_the_first_120_classes_zero_based(
    fake_imagenet16: Callable[..., tuple], runtime: Runtime
) -> None:
    data_dir, val_rows, val_labels = fake_imagenet16()
    data = load_dataset("imagenet16-120", data_dir=data_dir, runtime=runtime)
    assert data.input_shape == (3, 16, 16) and data.num_classes == 120
    assert data.crop_padding == 2
    kept = val_labels <= 120
    assert len(data.valid) + len(data.test) == int(kept.sum()) == 10
    assert set(torch.cat([data.valid.labels, data.test.labels]).tolist()) == {0, 119}
    assert int(data.train.labels.max()) <= 119 and int(data.train.labels.min()) >= 0
    all_val = torch.cat([data.valid.images, data.test.images]).reshape(10, -1).numpy()
    assert sorted(map(bytes, all_val)) == sorted(map(bytes, val_rows[kept]))


def test_imagenet16_rejects_zero_based_labels(
    fake_imagenet16: Callable[..., tuple], runtime: Runtime
) -> None:
    data_dir, val_rows, _ = fake_imagenet16()
    import pickle

    (data_dir / "ImageNet16" / "val_data").write_bytes(
        pickle.dumps({"data": val_rows, "labels": [0] * len(val_rows)}, protocol=2)
    )
    with pytest.raises(DatasetError, match="1-based"):
        load_dataset("imagenet16-120", data_dir=data_dir, runtime=runtime)


def test_missing_batch_names_the_file(fake_cifar10: Callable[..., tuple], runtime: Runtime) -> None:
    data_dir = fake_cifar10()[0]
    (data_dir / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(DatasetError, match="data_batch_3"):
        load_dataset("cifar10", data_dir=data_dir, runtime=runtime)


def test_corrupt_batch_names_the_file(fake_cifar10: Callable[..., tuple], runtime: Runtime) -> None:
    data_dir = fake_cifar10()[0]
    batch = data_dir / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(batch.read_bytes()[:500])
    with pytest.raises(DatasetError, match="test_batch: corrupt"):
        load_dataset("cifar10", data_dir=data_dir, runtime=runtime)


def test_wrong_row_length_and_label_count(
    fake_cifar10: Callable[..., tuple], runtime: Runtime
) -> None:
    import pickle

    data_dir = fake_cifar10()[0]
    batch = data_dir / "cifar-10-batches-py" / "data_batch_2"
    batch.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(
        DatasetError, match="data_batch_2: 'data' must be a uint8 array of rows of 3072"
    ):
        load_dataset("cifar10", data_dir=data_dir, runtime=runtime)
    batch.write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}))
    with pytest.raises(DatasetError, match="2 images but 1 labels"):
        load_dataset("cifar10", data_dir=data_dir, runtime=runtime)


def test_missing_data_dir(tmp_path: Path, runtime: Runtime) -> None:
    with pytest.raises(DatasetError, match="needs data_dir"):
        load_dataset("cifar10", runtime=runtime)
    with pytest.raises(DatasetError, match="cifar-100-python/test not found"):
        load_dataset("cifar100", data_dir=tmp_path, runtime=runtime)


def test_request_forbids_unknown_keys() -> None:
    with pytest.raises(ValueError, match="extra"):
        DatasetRequest.model_validate({"data_dir": "x", "valid_fraction": 0.5})


@pytest.mark.corpus
def test_real_cifar_subsets_load(corpus: Path, runtime: Runtime) -> None:
    root = corpus / "cifar-subsets"
    cifar10 = load_dataset("cifar10", data_dir=root, runtime=runtime)
    assert (len(cifar10.train) + len(cifar10.valid), len(cifar10.test)) == (5170, 1017)
    assert set(cifar10.test.labels.tolist()) == set(range(10))
    cifar100 = load_dataset("cifar100", data_dir=root, runtime=runtime)
    assert (len(cifar100.train), len(cifar100.valid) + len(cifar100.test)) == (486, 916)
    # real photos: the mean pixel is near NB201's CIFAR-10 mean, not the 127.5 of uniform noise
    measured = cifar10.train.images.float().mean(dim=(0, 2, 3)) / 255
    assert torch.allclose(measured, torch.tensor(cifar10.mean), atol=0.03)


@pytest.mark.corpus
def test_real_split_file_on_the_subset_is_a_clear_error(corpus: Path, runtime: Runtime) -> None:
    splits = corpus / "nader-official" / "nb201-splits"
    with pytest.raises(
        DatasetError, match="references row 49994 but cifar10's train set has only 5170 rows"
    ):
        load_dataset(
            "cifar10",
            data_dir=corpus / "cifar-subsets",
            split_file=splits / "cifar-split.txt",
            runtime=runtime,
        )
    with pytest.raises(DatasetError, match="cifar100's test set has only 916 rows"):
        load_dataset(
            "cifar100",
            data_dir=corpus / "cifar-subsets",
            split_file=splits / "cifar100-test-split.txt",
            runtime=runtime,
        )


@pytest.mark.corpus
def test_real_split_file_applies_to_a_full_size_pool(
    corpus: Path, tmp_path: Path, runtime: Runtime
) -> None:
    """cifar100-test-split.txt's xvalid/xtest on a 10,000-row test set (real split, fake pixels)."""
    import pickle

    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(0)
    test_labels = rng.integers(0, 100, 10_000)
    for name, count, labels in (("train", 4, [0, 1, 2, 3]), ("test", 10_000, test_labels.tolist())):
        rows = np.zeros((count, 3072), np.uint8)
        (folder / name).write_bytes(pickle.dumps({b"data": rows, b"fine_labels": labels}))
    split_path = corpus / "nader-official" / "nb201-splits" / "cifar100-test-split.txt"
    data = load_dataset("cifar100", data_dir=tmp_path, split_file=split_path, runtime=runtime)
    xvalid = [int(v) for v in json.loads(split_path.read_text())["xvalid"][1]]
    assert data.valid.labels.tolist() == test_labels[xvalid].tolist()
    assert (len(data.valid), len(data.test)) == (5000, 5000)


def test_digits_is_real_embedded_data(runtime: Runtime) -> None:
    from sklearn.datasets import load_digits

    data = load_dataset("digits", seed=0, runtime=runtime)
    assert (len(data.train), len(data.valid), len(data.test)) == (1079, 359, 359)
    assert data.input_shape == (3, 16, 16) and data.num_classes == 10
    assert not data.horizontal_flip
    assert torch.equal(data.train.images[:, 0], data.train.images[:, 2])  # grey replicated
    original = load_digits().images
    scaled = np.rint(original * 255 / 16).astype(np.uint8)
    first = data.train.images[0, 0, ::2, ::2].numpy()
    assert any(np.array_equal(first, image) for image in scaled)
    with pytest.raises(DatasetError, match="no NAS-Bench-201 split file"):
        load_dataset("digits", split_file="x.txt", runtime=runtime)


def test_synthetic_is_seeded_and_balanced(runtime: Runtime) -> None:
    data = load_dataset("synthetic", seed=1, runtime=runtime)
    again = load_dataset("synthetic", seed=1, runtime=runtime)
    other = load_dataset("synthetic", seed=2, runtime=runtime)
    assert torch.equal(data.train.images, again.train.images)
    assert not torch.equal(data.train.images, other.train.images)
    assert torch.bincount(data.train.labels).tolist() == [256] * 4
    small = make_synthetic(
        num_train=8, num_valid=4, num_test=4, num_classes=4, image_size=8, channels=1
    )
    assert small.input_shape == (1, 8, 8)


def test_dataset_splits_checks_its_invariants() -> None:
    good = make_synthetic(num_train=8, num_valid=4, num_test=4, image_size=8)
    with pytest.raises(DatasetError, match="labels span"):
        DatasetSplits(**{**good.__dict__, "num_classes": 2})
    with pytest.raises(DatasetError, match="one value per channel"):
        DatasetSplits(**{**good.__dict__, "mean": (0.5,)})


def test_registering_datasets_does_not_import_torch() -> None:
    """``nader check`` must keep working where torch is absent: the loaders import it lazily."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from nader.plugins.manager import build_runtime\n"
        "runtime = build_runtime(load_entry_points=False)\n"
        "print(sorted(runtime.datasets.names()), runtime.errors)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "'cifar10'" in done.stdout and "'digits'" in done.stdout
