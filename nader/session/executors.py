"""Executors train candidates away from the design loop: local worker processes, or Ray.

Both are registered through ``register_executors`` (see :mod:`nader.session.plugin`). The loop
submits :class:`~nader.training.job.TrainingJob` s and polls for
:class:`~nader.training.job.JobOutcome` s, so agents keep proposing while candidates train. Both
cross to the worker as JSON and are validated on arrival. A crash, an out-of-memory, a timeout or
a malformed outcome marks that candidate failed; the run goes on.

The function a job runs is passed in as a Python callable by the host (never named by a config
string), so no user or model text decides what gets imported.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nader.training.job import JobOutcome, TrainingJob

#: What a worker runs: one job in, its outcome out (:func:`nader.training.worker.train_job`).
JobFunction = Callable[[TrainingJob], JobOutcome]


class ExecutorConfig(BaseModel):
    """``[executor]``: where and how candidates train."""

    model_config = ConfigDict(extra="forbid")

    name: str = "local"
    #: candidates training at the same time
    workers: int = Field(default=1, ge=1, le=1024)
    #: seconds a candidate may train before it is stopped and marked ``timeout``
    timeout_s: float = Field(default=3600.0, gt=0)
    #: local: address-space limit per worker in MiB (an allocation beyond it fails as out of memory)
    memory_limit_mb: int | None = Field(default=None, ge=64)
    #: local: multiprocessing start method ("spawn" is safe with threads; "fork" starts faster)
    start_method: str = "spawn"
    #: ray: cluster address ("auto", "ray://host:10001"), or None for a local ray.init()
    address: str | None = None
    #: ray: resources requested per candidate
    num_cpus: float = Field(default=1.0, ge=0)
    num_gpus: float = Field(default=0.0, ge=0)
    #: ray: CPUs for a local ray.init() (None = all)
    local_cpus: int | None = Field(default=None, ge=1)


class Executor(Protocol):
    def submit(self, job: TrainingJob) -> None: ...

    def poll(self, timeout: float = 0.0) -> list[JobOutcome]: ...

    def running(self) -> int: ...

    @property
    def capacity(self) -> int: ...

    def shutdown(self) -> None: ...


# --------------------------------------------------------------------------- local processes


def _child_main(
    target: JobFunction, job_json: str, result_path: str, memory_limit_mb: int | None
) -> None:
    """Runs in the worker process: apply limits, run the job, write the result atomically."""
    if memory_limit_mb is not None:
        import resource

        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    output = run_guarded(target, job_json)
    tmp = f"{result_path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(output)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, result_path)


@dataclass
class _Running:
    job: TrainingJob
    process: Any
    started: float
    result_path: Path


class LocalExecutor:
    """Each candidate trains in its own worker process (at most ``workers`` at once)."""

    def __init__(self, config: ExecutorConfig, target: JobFunction, scratch: Path) -> None:
        self.config = config
        self.target = target
        self.scratch = Path(scratch)
        self.scratch.mkdir(parents=True, exist_ok=True)
        self._context: Any = multiprocessing.get_context(config.start_method)
        self._running: dict[str, _Running] = {}
        self._waiting: list[TrainingJob] = []

    @property
    def capacity(self) -> int:
        return self.config.workers

    def running(self) -> int:
        return len(self._running) + len(self._waiting)

    def submit(self, job: TrainingJob) -> None:
        self._waiting.append(job)
        self._start_waiting()

    def _start_waiting(self) -> None:
        while self._waiting and len(self._running) < self.config.workers:
            job = self._waiting.pop(0)
            result_path = self.scratch / f"{job.arch_id}.result.json"
            result_path.unlink(missing_ok=True)
            process = self._context.Process(
                target=_child_main,
                args=(
                    self.target,
                    job.model_dump_json(),
                    str(result_path),
                    self.config.memory_limit_mb,
                ),
                name=f"nader-train-{job.arch_id}",
                daemon=True,
            )
            process.start()
            self._running[job.arch_id] = _Running(job, process, time.monotonic(), result_path)

    def poll(self, timeout: float = 0.0) -> list[JobOutcome]:
        deadline = time.monotonic() + timeout
        while True:
            done = self._collect()
            self._start_waiting()
            if done or time.monotonic() >= deadline or not self._running:
                return done
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))

    def _collect(self) -> list[JobOutcome]:
        done: list[JobOutcome] = []
        now = time.monotonic()
        for arch_id, item in list(self._running.items()):
            elapsed = now - item.started
            if item.process.is_alive():
                if elapsed > self.config.timeout_s:
                    item.process.terminate()
                    item.process.join(5)
                    if item.process.is_alive():
                        item.process.kill()
                        item.process.join(5)
                    done.append(_timed_out(arch_id, self.config.timeout_s, elapsed))
                    del self._running[arch_id]
                continue
            item.process.join()
            del self._running[arch_id]
            if item.result_path.exists():
                text = item.result_path.read_text(encoding="utf-8")
                done.append(read_outcome(arch_id, text, elapsed))
            else:
                code = item.process.exitcode
                reason = (
                    f"killed by signal {-code}"
                    if code is not None and code < 0
                    else f"exit code {code}"
                )
                if code == -9:
                    reason += " (often the out-of-memory killer)"
                done.append(
                    JobOutcome.failure(arch_id, f"worker process died: {reason}", wall_s=elapsed)
                )
        return done

    def shutdown(self) -> None:
        for item in self._running.values():
            if item.process.is_alive():
                item.process.kill()
                item.process.join(5)
        self._running.clear()
        self._waiting.clear()


# --------------------------------------------------------------------------- ray


class RayExecutor:
    """Candidates as Ray tasks with CPU/GPU requests, on a local ``ray.init()`` or a cluster."""

    def __init__(self, config: ExecutorConfig, target: JobFunction, scratch: Path) -> None:
        try:
            import ray
        except ImportError as err:  # pragma: no cover - depends on the environment
            from nader.errors import ConfigError

            raise ConfigError(
                "executor 'ray' needs Ray: pip install 'nader[ray]' (or pip install 'ray[default]')"
            ) from err
        self._ray = ray
        self.config = config
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "ignore_reinit_error": True,
                "include_dashboard": False,
                "log_to_driver": False,
            }
            if config.address:
                kwargs["address"] = config.address
            else:
                # a local cluster's workers see the driver's import path (a checkout, a venv)
                import sys

                paths = [p for p in sys.path if p and os.path.isdir(p)]
                kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}}
                if config.local_cpus is not None:
                    kwargs["num_cpus"] = config.local_cpus
            ray.init(**kwargs)
            self._owns_ray = True
        else:
            self._owns_ray = False
        self._remote = ray.remote(run_guarded).options(
            num_cpus=config.num_cpus, num_gpus=config.num_gpus, max_retries=0
        )
        self._target = target
        self._refs: dict[Any, tuple[TrainingJob, float]] = {}

    @property
    def capacity(self) -> int:
        return self.config.workers

    def running(self) -> int:
        return len(self._refs)

    def submit(self, job: TrainingJob) -> None:
        ref = self._remote.remote(self._target, job.model_dump_json())
        self._refs[ref] = (job, time.monotonic())

    def poll(self, timeout: float = 0.0) -> list[JobOutcome]:
        if not self._refs:
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=len(self._refs), timeout=timeout)
        done: list[JobOutcome] = []
        for ref in ready:
            job, started = self._refs.pop(ref)
            elapsed = time.monotonic() - started
            try:
                output = self._ray.get(ref)
            except Exception as err:  # noqa: BLE001 - a task failure is a candidate failure
                done.append(
                    JobOutcome.failure(
                        job.arch_id, f"{type(err).__name__}: {err}"[:2000], wall_s=elapsed
                    )
                )
            else:
                done.append(read_outcome(job.arch_id, str(output), elapsed))
        now = time.monotonic()
        for ref, (job, started) in list(self._refs.items()):
            if now - started > self.config.timeout_s:
                self._ray.cancel(ref, force=True)
                self._refs.pop(ref)
                done.append(_timed_out(job.arch_id, self.config.timeout_s, now - started))
        return done

    def shutdown(self) -> None:
        for ref in list(self._refs):
            self._ray.cancel(ref, force=True)
        self._refs.clear()
        if self._owns_ray:
            self._ray.shutdown()


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


def read_outcome(arch_id: str, text: str, wall_s: float) -> JobOutcome:
    """The worker's outcome, validated: a malformed one (no status, an unknown status, another
    architecture's id) is a failure of that candidate, never a success."""
    try:
        outcome = JobOutcome.model_validate_json(text)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "outcome"
        return JobOutcome.failure(
            arch_id,
            f"the worker returned a malformed outcome ({where}: {first['msg']})",
            wall_s=wall_s,
        )
    if outcome.arch_id != arch_id:
        return JobOutcome.failure(
            arch_id, f"the worker returned the outcome of {outcome.arch_id!r}", wall_s=wall_s
        )
    return outcome.model_copy(update={"wall_s": wall_s})


def _timed_out(arch_id: str, limit_s: float, wall_s: float) -> JobOutcome:
    return JobOutcome.failure(
        arch_id, f"training exceeded {limit_s:g} s", status="timeout", wall_s=wall_s
    )
