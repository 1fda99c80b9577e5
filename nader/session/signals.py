"""Stop signals handled like Ctrl-C: ``kill PID``, ``docker stop`` and systemd send SIGTERM, a
closed terminal sends SIGHUP.

Without a handler either signal ends the driver at once, skipping the cleanup that stops its
training workers, so a worker lived on, and a ``--resume`` trained the same architecture beside
it. Raised as :class:`Stopped`, a ``KeyboardInterrupt``, the signal takes exactly the path Ctrl-C
takes: every ``finally`` runs (workers stopped, the store closed, the lock released) and the run
stays resumable.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: signals that stop a session cleanly (SIGINT already raises KeyboardInterrupt)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; ``signum`` says which (the exit status is 128 + signum)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Stopped` while the block runs (main thread only:
    Python delivers signals there; elsewhere this does nothing).

    Only the first signal raises: a second one, while the first one's cleanup stops the
    workers, is ignored so that the cleanup finishes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        raise Stopped(signum)

    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
