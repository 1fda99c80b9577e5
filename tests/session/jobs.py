"""Job functions for executor tests; importable by spawned worker processes."""

from __future__ import annotations

import os
import time
from typing import Any


def echo_job(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": "trained",
        "valid_acc": payload["acc"],
        "test_acc": payload["acc"] / 2,
        "epochs": 1,
        "pid": os.getpid(),
    }


def failing_job(payload: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("the network exploded")


def memory_hog_job(payload: dict[str, Any]) -> dict[str, Any]:
    blob = bytearray(payload["bytes"])  # beyond the worker's address-space limit
    return {"status": "trained", "valid_acc": float(len(blob))}


def sleepy_job(payload: dict[str, Any]) -> dict[str, Any]:
    time.sleep(payload["seconds"])
    return {"status": "trained", "valid_acc": 0.5}


def hard_crash_job(payload: dict[str, Any]) -> dict[str, Any]:
    os._exit(3)
