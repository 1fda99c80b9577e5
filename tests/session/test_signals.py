"""SIGTERM and SIGHUP stop a session the way Ctrl-C does (issue 15), with real signals."""

from __future__ import annotations

import os
import signal
import time

import pytest

from nader.session.signals import Stopped, stop_on_signals


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_raises_like_ctrl_c_once_and_handlers_are_restored(signum: int) -> None:
    before = signal.getsignal(signum)
    cleaned = False
    with pytest.raises(Stopped) as caught, stop_on_signals():
        try:
            os.kill(os.getpid(), signum)
            time.sleep(5)  # the signal interrupts this
        finally:
            os.kill(os.getpid(), signum)  # a second signal during the cleanup is ignored
            time.sleep(0.05)
            cleaned = True
    assert cleaned and caught.value.signum == signum
    assert isinstance(caught.value, KeyboardInterrupt)
    assert signal.getsignal(signum) is before
