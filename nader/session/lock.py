"""The run directory's own lock: one process at a time writes a run.

An OS file lock (``flock`` on ``RUN_DIR/.lock``) is held for the life of the run and released by
the kernel however the process ends, ``kill -9`` included, so a stale lock never needs cleaning
up. The file holds the holder's PID, so a refused second process can say who holds the run. It is
taken before anything else in the directory is written, and it does not depend on the knowledge
pool's storage refusing a second opener (a Qdrant server never would).
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from nader.errors import NaderError

LOCK_NAME = ".lock"
#: held by the worker training an architecture, in its folder ``RUN_DIR/arch/<id>/``
TRAINING_LOCK_NAME = ".training.lock"


class RunLocked(NaderError):
    """Another live process holds the run directory."""


class RunLock:
    """Held while the ``with`` block runs (or until :meth:`release`).

    ``name`` is the lock file in ``run_dir``; :data:`TRAINING_LOCK_NAME` in an architecture's
    folder is the lock its training worker holds.
    """

    def __init__(self, run_dir: Path, name: str = LOCK_NAME) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / name
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock without waiting.

        :raises RunLocked: a live process holds it (the message names its PID).
        :raises NaderError: the directory cannot be created or the lock file opened.
        """
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as err:
            raise NaderError(
                f"cannot lock the run directory {self.run_dir}: {err.strerror or err}"
            ) from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = _read_pid(fd)
            if holder is None:  # the holder may be between its flock and writing its PID
                time.sleep(0.2)
                holder = _read_pid(fd)
            os.close(fd)
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise NaderError(f"cannot lock {self.path}: {err.strerror or err}") from err
            who = f"process PID {holder}" if holder else "another process"
            raise RunLocked(
                f"the run directory {self.run_dir} is in use by {who} (lock {self.path}); "
                "wait for it to finish or stop it, then run again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Let go of the lock (the file stays: removing it would race with a new holder)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def check_no_orphan_training(run_dir: Path) -> None:
    """Refuse to go on while a process still trains an architecture of this run.

    A driver killed with SIGKILL cannot stop its workers; one that outlived it still holds its
    architecture's training lock, and a resume would train that architecture beside it.

    :raises RunLocked: naming the architecture and the worker's PID.
    """
    for path in sorted(Path(run_dir).glob(f"arch/*/{TRAINING_LOCK_NAME}")):
        try:
            RunLock(path.parent, TRAINING_LOCK_NAME).acquire().release()
        except RunLocked:
            with open(path, "rb") as handle:
                text = handle.read(32).decode("ascii", "replace").strip()
            who = f"process PID {text}" if text.isdigit() else "another process"
            raise RunLocked(
                f"architecture {path.parent.name} of {run_dir} is still being trained by {who}, "
                "left from an earlier run of it; stop that process or wait for it, then resume"
            ) from None
