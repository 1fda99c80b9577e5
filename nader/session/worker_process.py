"""What runs inside a local worker process: limits, the parent-death signal, and the job loop.

A warm worker (:func:`pool_worker_main`) serves jobs one after another over a pipe and keeps
whatever the job function cached (torch, nader, datasets); a fresh worker
(:func:`fresh_worker_main`) runs one job and exits. Both ask Linux to SIGKILL them when their
parent dies (``prctl(PR_SET_PDEATHSIG)``), so no worker outlives a driver killed by any signal.

What comes back is the outcome's JSON as bytes (``send_bytes``): the driver never unpickles
anything a worker sent.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

from nader.training.job import JobOutcome, TrainingJob

#: What a worker runs: one job in, its outcome out (:func:`nader.training.worker.train_job`).
JobFunction = Callable[[TrainingJob], JobOutcome]

#: prctl option number from <linux/prctl.h>
PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> bool:
    """SIGKILL this process when its parent exits (Linux); False where unsupported.

    The signal fires when the *thread* that started the worker ends, so executors are created
    on the driver's main thread. A parent that died before the call is caught by the pid check.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        return False
    if os.getppid() != parent_pid:
        os._exit(1)
    return True


def apply_memory_limit(memory_limit_mb: int | None) -> None:
    """Cap the address space: an allocation beyond it fails with ``MemoryError``."""
    if memory_limit_mb is not None:
        import resource

        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def fresh_worker_main(
    target: JobFunction,
    job_json: str,
    result_path: str,
    memory_limit_mb: int | None,
    parent_pid: int,
) -> None:
    """One job in a new process: the outcome is written atomically to ``result_path``."""
    die_with_parent(parent_pid)
    apply_memory_limit(memory_limit_mb)
    output = run_guarded(target, job_json)
    tmp = f"{result_path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(output)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, result_path)


def pool_worker_main(conn: Any, memory_limit_mb: int | None, parent_pid: int) -> None:
    """Serve ``(target, job_json)`` messages until the pipe closes or ``None`` arrives; each
    answer is the outcome JSON as UTF-8 bytes. A ``MemoryError`` outcome ends the worker after
    it is sent (its heap may be fragmented), and the executor starts a fresh one."""
    die_with_parent(parent_pid)
    apply_memory_limit(memory_limit_mb)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        target, job_json = message
        output = run_guarded(target, job_json)
        conn.send_bytes(output.encode("utf-8"))
        outcome = JobOutcome.model_validate_json(output)
        if outcome.status == "failed" and outcome.error == "out of memory":
            return


def run_guarded(target: JobFunction, job_json: str) -> str:
    """Run a job from its JSON; an exception or an out-of-memory becomes a ``failed`` outcome,
    not a crash. Returns the outcome as JSON (what crosses back to the driver)."""
    job = TrainingJob.model_validate_json(job_json)
    try:
        outcome = target(job)
    except MemoryError:
        outcome = JobOutcome.failure(job.arch_id, "out of memory")
    except Exception as err:  # noqa: BLE001 - every failure becomes a recorded status
        tail = traceback.format_exc(limit=6)
        outcome = JobOutcome.failure(job.arch_id, f"{type(err).__name__}: {err}\n{tail}")
    return outcome.model_dump_json()
