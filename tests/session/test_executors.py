"""Executors against real worker processes (and a real local Ray cluster)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import jobs  # noqa: E402

from nader.session.executors import ExecutorConfig, JobResult, LocalExecutor, TrainingJob  # noqa: E402


def _drain(executor, count: int, timeout: float = 120.0) -> dict[str, JobResult]:
    import time

    results: dict[str, JobResult] = {}
    deadline = time.monotonic() + timeout
    while len(results) < count and time.monotonic() < deadline:
        for result in executor.poll(timeout=0.5):
            results[result.arch_id] = result
    return results


def test_local_executor_runs_jobs_in_other_processes(tmp_path: Path) -> None:
    executor = LocalExecutor(
        ExecutorConfig(workers=2, start_method="fork"), jobs.echo_job, tmp_path
    )
    for i in range(3):
        executor.submit(TrainingJob(f"a{i}", {"acc": 0.1 * (i + 1)}))
    results = _drain(executor, 3)
    executor.shutdown()
    assert sorted(results) == ["a0", "a1", "a2"]
    assert results["a2"].status == "trained"
    assert results["a2"].valid_acc == pytest.approx(0.3)
    import os

    assert results["a0"].metrics["pid"] != os.getpid()


def test_local_executor_records_crash_oom_and_timeout_and_goes_on(tmp_path: Path) -> None:
    config = ExecutorConfig(workers=5, start_method="fork", timeout_s=3, memory_limit_mb=1024)
    executor = LocalExecutor(config, jobs.failing_job, tmp_path)
    executor.submit(TrainingJob("raise", {}))
    executor.target = jobs.memory_hog_job
    executor.submit(TrainingJob("oom", {"bytes": 4 * 1024**3}))
    executor.target = jobs.sleepy_job
    executor.submit(TrainingJob("slow", {"seconds": 60}))
    executor.target = jobs.hard_crash_job
    executor.submit(TrainingJob("crash", {}))
    executor.target = jobs.echo_job
    executor.submit(TrainingJob("fine", {"acc": 0.9}))
    results = _drain(executor, 5)
    executor.shutdown()
    assert results["raise"].status == "failed" and "the network exploded" in (
        results["raise"].error or ""
    )
    assert results["oom"].status == "failed" and "out of memory" in (results["oom"].error or "")
    assert results["slow"].status == "timeout"
    assert results["crash"].status == "failed" and "exit code 3" in (results["crash"].error or "")
    assert results["fine"].status == "trained" and results["fine"].valid_acc == pytest.approx(0.9)


@pytest.mark.slow
def test_ray_executor_with_two_local_workers(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from nader.session.executors import RayExecutor

    executor = RayExecutor(
        ExecutorConfig(name="ray", workers=2, local_cpus=2, num_cpus=1), jobs.echo_job, tmp_path
    )
    try:
        for i in range(4):
            executor.submit(TrainingJob(f"r{i}", {"acc": 0.2}))
        executor_fail = executor
        results = _drain(executor_fail, 4, timeout=300)
        assert len(results) == 4
        assert {r.status for r in results.values()} == {"trained"}
        pids = {r.metrics["pid"] for r in results.values()}
        assert len(pids) >= 1
        executor._target = jobs.failing_job
        executor.submit(TrainingJob("bad", {}))
        bad = _drain(executor, 1, timeout=120)
        assert bad["bad"].status == "failed" and "exploded" in (bad["bad"].error or "")
    finally:
        executor.shutdown()
