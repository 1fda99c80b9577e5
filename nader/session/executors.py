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

import contextlib
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nader.session.worker_process import (
    JobFunction,
    fresh_worker_main,
    pool_worker_main,
    run_guarded,
)
from nader.training.job import JobOutcome, TrainingJob


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
    #: local: keep worker processes warm between candidates (False: a fresh process each)
    reuse_workers: bool = True
    #: torch intra-op threads per worker (None: the usable cores / workers, at least 1)
    threads: int | None = Field(default=None, ge=1)
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


@dataclass
class _Worker:
    """One local worker process and the job it is running (None: idle, warm workers only)."""

    process: Any
    conn: Any = None
    job: TrainingJob | None = None
    started: float = 0.0
    result_path: Path | None = None


class LocalExecutor:
    """Candidates train in local worker processes, at most ``workers`` at once.

    With ``reuse_workers`` (the default) a worker is long-lived: it keeps torch, nader and the
    datasets it loaded between candidates; a worker that crashed, ran out of memory or timed out
    is killed and replaced. Without it every candidate gets a fresh process (isolation). Either
    way the memory limit is set in the worker and the timeout is counted per candidate.
    """

    def __init__(self, config: ExecutorConfig, target: JobFunction, scratch: Path) -> None:
        self.config = config
        self.target = target
        self.scratch = Path(scratch)
        self.scratch.mkdir(parents=True, exist_ok=True)
        self._context: Any = multiprocessing.get_context(config.start_method)
        self._workers: list[_Worker] = []
        self._waiting: list[tuple[TrainingJob, JobFunction]] = []
        #: processes started so far (a warm pool starts one per slot, plus replacements)
        self.started_processes = 0

    @property
    def capacity(self) -> int:
        return self.config.workers

    def running(self) -> int:
        return sum(w.job is not None for w in self._workers) + len(self._waiting)

    def worker_pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.is_alive()]

    def submit(self, job: TrainingJob) -> None:
        self._waiting.append((job, self.target))
        self._start_waiting()

    def _start_waiting(self) -> None:
        while self._waiting:
            idle = next((w for w in self._workers if w.job is None), None)
            if idle is None and len(self._workers) >= self.config.workers:
                return
            job, target = self._waiting.pop(0)
            if self.config.reuse_workers:
                worker = idle or self._start_warm()
                worker.conn.send((target, job.model_dump_json()))
            else:
                worker = self._start_fresh(job, target)
            worker.job, worker.started = job, time.monotonic()

    def _start_warm(self) -> _Worker:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=pool_worker_main,
            args=(theirs, self.config.memory_limit_mb, os.getpid()),
            name="nader-train-worker",
            daemon=True,
        )
        process.start()
        theirs.close()
        self.started_processes += 1
        worker = _Worker(process, conn=ours)
        self._workers.append(worker)
        return worker

    def _start_fresh(self, job: TrainingJob, target: JobFunction) -> _Worker:
        result_path = self.scratch / f"{job.arch_id}.result.json"
        result_path.unlink(missing_ok=True)
        process = self._context.Process(
            target=fresh_worker_main,
            args=(
                target,
                job.model_dump_json(),
                str(result_path),
                self.config.memory_limit_mb,
                os.getpid(),
            ),
            name=f"nader-train-{job.arch_id}",
            daemon=True,
        )
        process.start()
        self.started_processes += 1
        worker = _Worker(process, result_path=result_path)
        self._workers.append(worker)
        return worker

    def poll(self, timeout: float = 0.0) -> list[JobOutcome]:
        deadline = time.monotonic() + timeout
        while True:
            done = self._collect()
            self._start_waiting()
            if done or time.monotonic() >= deadline or not self.running():
                return done
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))

    def _collect(self) -> list[JobOutcome]:
        done: list[JobOutcome] = []
        now = time.monotonic()
        for worker in list(self._workers):
            job = worker.job
            if job is None:
                continue
            elapsed = now - worker.started
            outcome = self._answer(worker, job.arch_id, elapsed)
            if outcome is not None:
                done.append(outcome)
                worker.job = None
                if not self.config.reuse_workers or not worker.process.is_alive():
                    self._retire(worker)
            elif elapsed > self.config.timeout_s:
                self._retire(worker)
                done.append(_timed_out(job.arch_id, self.config.timeout_s, elapsed))
        return done

    def _answer(self, worker: _Worker, arch_id: str, elapsed: float) -> JobOutcome | None:
        """The worker's outcome if it has one (or died without one), else None."""
        if worker.conn is not None:
            try:
                if worker.conn.poll():
                    text = worker.conn.recv_bytes().decode("utf-8", errors="replace")
                    return read_outcome(arch_id, text, elapsed)
            except (EOFError, OSError):
                pass
            if worker.process.is_alive():
                return None
        elif worker.process.is_alive():
            return None
        worker.process.join(5)
        if worker.result_path is not None and worker.result_path.exists():
            text = worker.result_path.read_text(encoding="utf-8")
            return read_outcome(arch_id, text, elapsed)
        self._retire(worker)
        return JobOutcome.failure(arch_id, f"worker process died: {_death(worker)}", wall_s=elapsed)

    def _retire(self, worker: _Worker) -> None:
        """Stop ``worker`` (if it still runs) and forget it; a new one takes its slot on demand."""
        if worker.process.is_alive():
            worker.process.terminate()
            worker.process.join(5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(5)
        if worker.conn is not None:
            worker.conn.close()
        if worker in self._workers:
            self._workers.remove(worker)

    def shutdown(self) -> None:
        for worker in self._workers:
            if worker.conn is not None and worker.job is None and worker.process.is_alive():
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
        for worker in list(self._workers):
            if worker.job is None:
                worker.process.join(2)
            self._retire(worker)
        self._waiting.clear()


def _death(worker: _Worker) -> str:
    code = worker.process.exitcode
    reason = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    if code == -9:
        reason += " (often the out-of-memory killer)"
    return reason


# --------------------------------------------------------------------------- ray


class RayExecutor:
    """Candidates on Ray actors with CPU/GPU requests, on a local ``ray.init()`` or a cluster.

    Like the local pool, at most ``workers`` actors stay warm between candidates; an actor that
    timed out or died is killed and replaced."""

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
        self._actor_class = ray.remote(RayWorker).options(
            num_cpus=config.num_cpus, num_gpus=config.num_gpus, max_restarts=0
        )
        self._target = target
        self._idle: list[Any] = []
        self._actors = 0
        self._waiting: list[TrainingJob] = []
        #: task ref -> (job, its actor, when it started)
        self._refs: dict[Any, tuple[TrainingJob, Any, float]] = {}

    @property
    def capacity(self) -> int:
        return self.config.workers

    def running(self) -> int:
        return len(self._refs) + len(self._waiting)

    def submit(self, job: TrainingJob) -> None:
        self._waiting.append(job)
        self._start_waiting()

    def _start_waiting(self) -> None:
        while self._waiting and (self._idle or self._actors < self.config.workers):
            if self._idle:
                actor = self._idle.pop()
            else:
                actor = self._actor_class.remote()
                self._actors += 1
            job = self._waiting.pop(0)
            ref = actor.run.remote(self._target, job.model_dump_json())
            self._refs[ref] = (job, actor, time.monotonic())

    def _drop(self, actor: Any) -> None:
        """Kill an actor that timed out or died; a new one takes its place on demand."""
        self._ray.kill(actor, no_restart=True)
        self._actors -= 1

    def poll(self, timeout: float = 0.0) -> list[JobOutcome]:
        if not self._refs:
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=len(self._refs), timeout=timeout)
        done: list[JobOutcome] = []
        for ref in ready:
            job, actor, started = self._refs.pop(ref)
            elapsed = time.monotonic() - started
            try:
                output = self._ray.get(ref)
            except Exception as err:  # noqa: BLE001 - a task failure is a candidate failure
                self._drop(actor)
                done.append(
                    JobOutcome.failure(
                        job.arch_id, f"{type(err).__name__}: {err}"[:2000], wall_s=elapsed
                    )
                )
            else:
                self._idle.append(actor)
                done.append(read_outcome(job.arch_id, str(output), elapsed))
        now = time.monotonic()
        for ref, (job, actor, started) in list(self._refs.items()):
            if now - started > self.config.timeout_s:
                self._refs.pop(ref)
                self._drop(actor)
                done.append(_timed_out(job.arch_id, self.config.timeout_s, now - started))
        self._start_waiting()
        return done

    def shutdown(self) -> None:
        for _job, actor, _started in self._refs.values():
            self._ray.kill(actor, no_restart=True)
        for actor in self._idle:
            self._ray.kill(actor, no_restart=True)
        self._refs.clear()
        self._idle.clear()
        self._waiting.clear()
        self._actors = 0
        if self._owns_ray:
            self._ray.shutdown()


class RayWorker:
    """A Ray actor: the warm worker of a cluster (one process serving candidates in turn)."""

    def run(self, target: JobFunction, job_json: str) -> str:
        return run_guarded(target, job_json)


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
