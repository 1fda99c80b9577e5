"""Executors against real worker processes (and a real local Ray cluster)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import jobs  # noqa: E402
from jobs import make_job  # noqa: E402

from nader.session.executors import ExecutorConfig, LocalExecutor, read_outcome  # noqa: E402
from nader.training.job import JobOutcome  # noqa: E402


def _drain(executor, count: int, timeout: float = 120.0) -> dict[str, JobOutcome]:
    import time

    results: dict[str, JobOutcome] = {}
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
        executor.submit(make_job(f"a{i}", width=i + 1, checkpoint=tmp_path / f"a{i}.pid"))
    results = _drain(executor, 3)
    executor.shutdown()
    assert sorted(results) == ["a0", "a1", "a2"]
    assert results["a2"].status == "trained"
    assert results["a2"].valid_acc == pytest.approx(0.3)
    assert results["a2"].wall_s > 0
    import os

    assert int((tmp_path / "a0.pid").read_text()) != os.getpid()


def test_local_executor_records_crash_oom_and_timeout_and_goes_on(tmp_path: Path) -> None:
    config = ExecutorConfig(workers=5, start_method="fork", timeout_s=3, memory_limit_mb=1024)
    executor = LocalExecutor(config, jobs.failing_job, tmp_path)
    executor.submit(make_job("raise"))
    executor.target = jobs.memory_hog_job
    executor.submit(make_job("oom", width=4096))
    executor.target = jobs.sleepy_job
    executor.submit(make_job("slow", width=60))
    executor.target = jobs.hard_crash_job
    executor.submit(make_job("crash"))
    executor.target = jobs.echo_job
    executor.submit(make_job("fine", width=9))
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
            executor.submit(make_job(f"r{i}", width=2, checkpoint=tmp_path / f"r{i}.pid"))
        executor_fail = executor
        results = _drain(executor_fail, 4, timeout=300)
        assert len(results) == 4
        assert {r.status for r in results.values()} == {"trained"}
        pids = {int((tmp_path / f"r{i}.pid").read_text()) for i in range(4)}
        assert len(pids) >= 1
        executor._target = jobs.failing_job
        executor.submit(make_job("bad"))
        bad = _drain(executor, 1, timeout=120)
        assert bad["bad"].status == "failed" and "exploded" in (bad["bad"].error or "")
    finally:
        executor.shutdown()


def test_a_worker_outcome_without_a_known_status_is_a_failure_never_trained() -> None:
    """The job boundary is typed both ways: a missing or unknown status is refused."""
    missing = read_outcome("7", '{"arch_id": "7", "valid_acc": 0.9}', 1.5)
    assert missing.status == "failed" and missing.valid_acc is None
    assert "malformed outcome (status: Field required)" in (missing.error or "")
    unknown = read_outcome("7", '{"arch_id": "7", "status": "great", "valid_acc": 0.9}', 1.5)
    assert unknown.status == "failed" and "status" in (unknown.error or "")
    garbage = read_outcome("7", "not json at all", 0.1)
    assert garbage.status == "failed"
    good = read_outcome("7", JobOutcome(arch_id="7", status="trained").model_dump_json(), 2.0)
    assert good.status == "trained" and good.wall_s == 2.0


def test_an_outcome_for_another_architecture_is_a_failure(tmp_path: Path) -> None:
    executor = LocalExecutor(ExecutorConfig(start_method="fork"), jobs.other_arch_job, tmp_path)
    executor.submit(make_job("mine"))
    results = _drain(executor, 1)
    executor.shutdown()
    assert results["mine"].status == "failed"
    assert "outcome of 'someone-else'" in (results["mine"].error or "")
