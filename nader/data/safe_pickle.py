"""Read the datasets' standard pickle files without letting them run code.

CIFAR and ImageNet16 ship as Python pickles, and a pickle can name any importable callable — a
crafted ``data_batch_1`` could call ``os.system`` the moment it is loaded. :class:`DatasetUnpickler`
resolves globals from a fixed table instead of importing: only the callables numpy needs to rebuild
an array (``_reconstruct``, ``_frombuffer``, ``ndarray``, ``dtype``) and a latin-1-only stand-in for
``_codecs.encode`` (how Python 3 writes ``bytes`` at pickle protocol 2, as the CIFAR files do).
Anything else is rejected before it is imported, with an error naming the file.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nader.data.errors import DatasetError


def _numpy_callable(module: str, name: str) -> Callable[..., Any]:
    """``numpy._core.<module>.<name>`` (numpy >= 2), else ``numpy.core.<module>.<name>``.

    numpy 2 renamed ``numpy.core`` to ``numpy._core``; files name either, so both map here.
    """
    core = getattr(np, "_core", None)
    if core is None or not hasattr(core, module):
        core = np.core  # type: ignore[attr-defined]
    return getattr(getattr(core, module), name)  # type: ignore[no-any-return]


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """The one use of ``_codecs.encode`` pickle makes: ``bytes`` stored as latin-1 text."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(
            f"_codecs.encode is admitted only as encode(str, 'latin1'), got ({type(text).__name__}, {encoding!r})"
        )
    return text.encode("latin-1")


_RECONSTRUCT = _numpy_callable("multiarray", "_reconstruct")  # arrays at protocols 0-3
_FROMBUFFER = _numpy_callable("numeric", "_frombuffer")  # arrays at protocols 4-5

#: (module, name) as written in the pickle → the object it stands for. Nothing else resolves.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class UnsafePickleError(DatasetError):
    """A pickle named a global outside :data:`ALLOWED_GLOBALS`; nothing from it was imported."""


class DatasetUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` whose globals come only from :data:`ALLOWED_GLOBALS`."""

    def __init__(self, file: Any, *, source: Path, encoding: str = "latin1") -> None:
        super().__init__(file, encoding=encoding)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.source}: refusing to load {module}.{name} — a dataset pickle may only "
                "rebuild numpy arrays; this file is not a standard dataset file"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(
            f"{self.source}: persistent ids are not allowed in a dataset pickle"
        )


def load_dataset_pickle(path: Path) -> dict[str, Any]:
    """Load one dataset pickle as a dict with ``str`` keys.

    Files written by Python 2 (keys ``str``, read as latin-1) and by Python 3 (keys ``bytes``) both
    come back with ``str`` keys.

    :raises DatasetError: the file is missing, truncated, not a pickle, not a dict, or unsafe.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"dataset file not found: {path}")
    try:
        with path.open("rb") as handle:
            loaded = DatasetUnpickler(handle, source=path).load()
    except UnsafePickleError:
        raise
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
    ) as err:
        raise DatasetError(
            f"{path}: corrupt or not a dataset pickle ({type(err).__name__}: {err})"
        ) from err
    except OSError as err:
        raise DatasetError(f"{path}: cannot be read ({err})") from err
    if not isinstance(loaded, dict):
        raise DatasetError(f"{path}: expected a pickled dict, found {type(loaded).__name__}")
    return {
        key.decode("latin-1") if isinstance(key, bytes) else str(key): value
        for key, value in loaded.items()
    }
