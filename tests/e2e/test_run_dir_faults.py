"""What servers and users do to a live run, through the CLI as a user runs it (issue 15):
``kill PID`` of the driver alone, two starts at once, a damaged ``state.db``."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from corpus_paths import REPO, nader_command, nader_env  # noqa: E402


def _summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())


def _group(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (the driver started a session of its own)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _workers(driver: int) -> list[int]:
    """The driver's training workers (spawned interpreters)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == driver and b"spawn_main" in cmdline:
            found.append(int(proc.name))
    return found


def _trained_events(run_dir: Path) -> Counter[str]:
    """How many times each architecture was recorded as trained (each must be once)."""
    db = sqlite3.connect(f"file:{run_dir / 'state.db'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT data FROM events WHERE kind = 'architecture_updated'").fetchall()
    finally:
        db.close()
    events = [json.loads(data) for (data,) in rows]
    return Counter(e["id"] for e in events if e.get("status") == "trained")


def test_sigterm_to_the_driver_alone_stops_the_whole_run_and_resume_trains_nothing_twice(
    write_config, tmp_path: Path
) -> None:
    """``kill PID``, ``docker stop``, systemd: the driver died at once and its worker lived on,
    rewriting the checkpoint while a --resume trained the same architecture beside it."""
    # longer training than the fast config, so that a worker is mid-training when the signal
    # comes and (before the fix) outlived the 10 s below
    config = write_config(max_architectures=2)
    slow = [
        "--set",
        "train.epochs=3",
        "--set",
        "base.width=16",
        "--set",
        "train.max_train_batches=8",
    ]
    run_dir = tmp_path / "run"
    driver = subprocess.Popen(
        nader_command("run", str(config), "--run-dir", str(run_dir), "--no-live", *slow),
        env=nader_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not _workers(driver.pid):
            assert time.monotonic() < deadline, "no training worker started within 300 s"
            assert driver.poll() is None, driver.stderr.read() if driver.stderr else ""
            time.sleep(0.2)
        time.sleep(1.0)  # the worker is importing torch or training
        summary = _summary(run_dir) if (run_dir / "summary.json").exists() else None
        archs = summary["architectures"] if summary else []
        finished = {a["id"]: a for a in archs if a["status"] == "trained"}
        os.kill(driver.pid, signal.SIGTERM)  # the driver's PID only, not its group
        time.sleep(10)
        alive = _group(driver.pid)
        assert alive == [], f"alive 10 s after SIGTERM to the driver: {alive}"
        assert driver.wait(5) == 128 + signal.SIGTERM
        err = driver.stderr.read() if driver.stderr else ""
        assert "stopped by SIGTERM" in err and "--resume" in err, err
    finally:
        for pid in _group(driver.pid):  # whatever the outcome, leave no process behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        driver.wait(30)

    # the resume may lower the budget: only the base (interrupted mid-training) trains again
    again = subprocess.run(
        nader_command(
            "run",
            str(config),
            "--run-dir",
            str(run_dir),
            "--resume",
            "--no-live",
            *slow,
            "--set",
            "run.max_architectures=1",
        ),
        env=nader_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    after = {a["id"]: a for a in _summary(run_dir)["architectures"]}
    for arch_id, arch in finished.items():
        assert after[arch_id] == arch  # finished work is neither lost nor changed
    assert after["0"]["status"] == "trained"
    assert max(_trained_events(run_dir).values()) == 1  # nothing trained twice


def test_two_starts_at_once_one_runs_the_other_is_refused_in_one_line(
    write_config, tmp_path: Path
) -> None:
    """Only embedded Qdrant's storage lock refused the second start, with a 50-line traceback,
    after it had rewritten the run's stored config and config.json."""
    config = write_config(max_architectures=2)
    run_dir = tmp_path / "run"
    command = nader_command("run", str(config), "--run-dir", str(run_dir), "--no-live")
    runs = [
        subprocess.Popen(
            command, env=nader_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [(run, *run.communicate(timeout=600)) for run in runs]
    codes = sorted(run.returncode for run, _, _ in results)
    assert codes == [0, 2], [(run.returncode, err[-2000:]) for run, _, err in results]
    [winner] = [run for run, _, _ in results if run.returncode == 0]
    [(_, _, refused)] = [r for r in results if r[0].returncode == 2]
    lines = refused.strip().splitlines()
    assert len(lines) == 1 and f"PID {winner.pid}" in lines[0], lines
    summary = _summary(run_dir)
    assert sum(a["status"] == "trained" for a in summary["architectures"]) >= 2
    assert max(_trained_events(run_dir).values()) == 1


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


@pytest.mark.parametrize("damage", ["zero-byte", "garbage"])
def test_a_damaged_state_db_is_refused_and_every_file_left_as_it_was(
    damage: str, write_config, tmp_path: Path
) -> None:
    """A zero-byte state.db under --resume started a new run over summary.json and arch/*."""
    config = write_config(max_architectures=2)
    run_dir = tmp_path / "run"
    (run_dir / "arch" / "0").mkdir(parents=True)
    (run_dir / "arch" / "0" / "network.txt").write_bytes(
        (REPO / "examples" / "resnet_basic.txt").read_bytes()
    )
    (run_dir / "arch" / "0" / "metrics.json").write_text('{"id": "0", "status": "trained"}\n')
    (run_dir / "summary.json").write_text(
        json.dumps({"architectures": [{"id": "0", "status": "trained"}], "best": "0"}) + "\n"
    )
    (run_dir / "config.json").write_text("{}\n")
    (run_dir / "state.db").write_bytes(b"" if damage == "zero-byte" else os.urandom(4096))
    before = _digests(run_dir)
    for resume in (["--resume"], []):
        done = subprocess.run(
            nader_command("run", str(config), "--run-dir", str(run_dir), "--no-live", *resume),
            env=nader_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, done.stderr[-3000:]
        assert len(lines) == 1 and "state.db" in lines[0], lines
        assert _digests(run_dir) == before
