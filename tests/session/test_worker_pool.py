"""The warm worker pool, against real worker processes: reuse, replacement, death with the
driver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import jobs  # noqa: E402
from jobs import make_job  # noqa: E402

from nader.session.executors import ExecutorConfig, LocalExecutor  # noqa: E402
from nader.training.job import JobOutcome  # noqa: E402


def _run_one(executor: LocalExecutor, arch_id: str, timeout: float = 60.0) -> JobOutcome:
    executor.submit(make_job(arch_id))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for outcome in executor.poll(timeout=0.2):
            return outcome
    raise AssertionError(f"no outcome for {arch_id}")


def test_the_pool_reuses_one_worker_for_consecutive_candidates(tmp_path: Path) -> None:
    executor = LocalExecutor(ExecutorConfig(workers=1, start_method="fork"), jobs.pid_job, tmp_path)
    try:
        pids = [_run_one(executor, f"a{i}").valid_acc for i in range(3)]
    finally:
        executor.shutdown()
    assert len(set(pids)) == 1 and pids[0] != os.getpid()
    assert executor.started_processes == 1


def test_fresh_mode_starts_a_process_per_candidate(tmp_path: Path) -> None:
    config = ExecutorConfig(workers=1, start_method="fork", reuse_workers=False)
    executor = LocalExecutor(config, jobs.pid_job, tmp_path)
    try:
        pids = [_run_one(executor, f"a{i}").valid_acc for i in range(2)]
    finally:
        executor.shutdown()
    assert len(set(pids)) == 2 and executor.started_processes == 2


def test_a_crashed_or_timed_out_worker_is_replaced(tmp_path: Path) -> None:
    config = ExecutorConfig(workers=1, start_method="fork", timeout_s=2)
    executor = LocalExecutor(config, jobs.crash_once_job, tmp_path)
    try:
        first = _run_one(executor, "a").valid_acc
        crashed = _run_one(executor, "crash")
        second = _run_one(executor, "b").valid_acc
        hung = _run_one(executor, "hang")
        third = _run_one(executor, "c").valid_acc
    finally:
        executor.shutdown()
    assert crashed.status == "failed" and "exit code 7" in (crashed.error or "")
    assert hung.status == "timeout"
    assert len({first, second, third}) == 3  # each failure cost its worker, and only that
    assert executor.started_processes == 3


def test_a_memory_limit_still_applies_to_each_candidate_in_a_warm_worker(tmp_path: Path) -> None:
    config = ExecutorConfig(workers=1, start_method="fork", memory_limit_mb=1024)
    executor = LocalExecutor(config, jobs.echo_job, tmp_path)
    try:
        fine = _run_one(executor, "fine")
        executor.target = jobs.memory_hog_job
        executor.submit(make_job("oom", width=4096))
        oom = next(o for _ in range(200) for o in executor.poll(timeout=0.3))
    finally:
        executor.shutdown()
    assert fine.status == "trained"
    assert oom.status == "failed" and oom.error == "out of memory"


DRIVER = """
import sys, time
sys.path.insert(0, {tests!r})
import jobs
from nader.session.executors import ExecutorConfig, LocalExecutor
executor = LocalExecutor(ExecutorConfig(workers=2, start_method="spawn"), jobs.sleepy_job, {scratch!r})
executor.submit(jobs.make_job("x", width=600))
executor.submit(jobs.make_job("y", width=600))
executor.poll(timeout=0.5)
print(" ".join(str(pid) for pid in executor.worker_pids()), flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_their_driver_whatever_kills_it(tmp_path: Path, signum: int) -> None:
    script = DRIVER.format(tests=str(Path(__file__).parent), scratch=str(tmp_path))
    driver = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert driver.stdout is not None
        pids = [int(pid) for pid in driver.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
        driver.send_signal(signum)  # the driver only, not its process group
        driver.wait(10)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in pids)
    finally:
        driver.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) counts as dead
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False
