"""What users, servers and disks do to a run directory: a second process, damaged state, bad
config values, budgets across ``--resume``, a run that trains nothing (issue 15).

The CLI runs in this process (``nader.cli.main.main``) so each refusal costs no interpreter
start; the lock holder and the training workers are real processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import jobs  # noqa: E402

from nader.cli.main import main  # noqa: E402
from nader.cli.progress import Progress  # noqa: E402
from nader.plugins.manager import builtin_runtime  # noqa: E402
from nader.session.config import load_config  # noqa: E402
from nader.session.runner import Session  # noqa: E402
from nader.session.store import Architecture, RunStore  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
[run]
name = "faults"
max_architectures = {max_architectures}
max_designs = 2
queue_size = 1

[base]
network = "{network}"
width = 4

[train]
epochs = 1
batch_size = 64
max_train_batches = 2
max_eval_batches = 1
device = "cpu"
patience_epochs = 0

[llm]
provider = "offline"
model = "offline-designer"

[agents]
max_try = 2

[executor]
workers = {workers}
timeout_s = 300
"""


@pytest.fixture(autouse=True)
def _no_third_party_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NADER_LOAD_PLUGINS", "")


def write_config(folder: Path, max_architectures: int = 1, workers: int = 1) -> Path:
    network = folder / "base.txt"
    network.write_bytes((REPO / "examples" / "resnet_basic.txt").read_bytes())
    path = folder / "session.toml"
    path.write_text(
        CONFIG.format(max_architectures=max_architectures, network=network, workers=workers),
        encoding="utf-8",
    )
    return path


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (but lock files) and a digest of its bytes."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.endswith(".lock")
    }


def error_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


# ------------------------------------------------------------------------------- the lock


def hold_lock(path: Path) -> subprocess.Popen[str]:
    """Another process that takes an OS lock on ``path`` (writing its PID) and keeps it."""
    code = f"""
        import fcntl, os, time
        handle = open({str(path)!r}, "a+")
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.truncate(0); handle.write(str(os.getpid())); handle.flush()
        print("locked", flush=True)
        time.sleep(120)
    """
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True
    )


def test_a_run_directory_locked_by_a_live_process_is_refused_naming_its_pid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15 ("No run-directory lock"): with a Qdrant server nothing else refuses an intruder,
    and today it rewrites the run's config before failing."""
    config = write_config(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text('{"written by": "the live run"}\n')
    before = snapshot(run_dir)
    holder = hold_lock(run_dir / ".lock")
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        for resume in ([], ["--resume"]):
            status = main(
                [
                    "run",
                    str(config),
                    "--run-dir",
                    str(run_dir),
                    "--no-live",
                    "--set",
                    "agents.qdrant_url=http://127.0.0.1:9",
                    *resume,
                ]
            )
            lines = error_lines(capsys)
            assert status == 2, lines
            assert len(lines) == 1 and f"PID {holder.pid}" in lines[0], lines
            assert str(run_dir) in lines[0]
            assert snapshot(run_dir) == before
    finally:
        holder.kill()
        holder.wait()


def test_a_resume_never_trains_beside_a_worker_that_outlived_its_driver(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15 (SIGTERM/SIGKILL to the driver alone): its worker lived on, and a --resume
    trained the same architecture in a second worker beside it."""
    config = write_config(tmp_path)
    run_dir = tmp_path / "run"
    _stored_run(run_dir, config)
    store = RunStore(run_dir)
    store.update("0", status="training")  # the driver was killed while 0 trained
    store.close()
    before = snapshot(run_dir)
    orphan = hold_lock(run_dir / "arch" / "0" / ".training.lock")
    try:
        assert orphan.stdout is not None and orphan.stdout.readline().strip() == "locked"
        status = main(["run", str(config), "--run-dir", str(run_dir), "--no-live", "--resume"])
        lines = error_lines(capsys)
        assert status == 2, lines
        assert len(lines) == 1 and "architecture 0" in lines[0], lines
        assert f"PID {orphan.pid}" in lines[0], lines
        assert snapshot(run_dir) == before
    finally:
        orphan.kill()
        orphan.wait()


# ------------------------------------------------------------------------------- damaged state


def _stored_run(run_dir: Path, config_path: Path) -> None:
    """A run directory as a run leaves it: a stored config, the base architecture, its files."""
    config, _ = load_config(config_path)
    store = RunStore(run_dir)
    store.set_meta("config", json.dumps(config.model_dump(mode="json"), sort_keys=True))
    text = (REPO / "examples" / "resnet_basic.txt").read_text()
    for index in range(40):  # several pages, so that a truncated file loses some of them
        parent, suggestion = (None, None) if index == 0 else ("0", f"change {index}")
        store.add(
            Architecture(
                str(index), index, parent, suggestion, "trained", network_text=text, width=4
            )
        )
    store.write_summary({"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0})
    store.close()


def _zero_bytes(run_dir: Path) -> None:
    (run_dir / "state.db").write_bytes(b"")


def _garbage(run_dir: Path) -> None:
    (run_dir / "state.db").write_bytes(os.urandom(8192))


def _truncated(run_dir: Path) -> None:
    db = run_dir / "state.db"
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])


def _bad_json_cell(run_dir: Path) -> None:
    db = sqlite3.connect(run_dir / "state.db", isolation_level=None)
    db.execute("UPDATE architectures SET extra = '{not json' WHERE id = '3'")
    db.close()


@pytest.mark.parametrize(
    ("damage", "resume"),
    [
        (_zero_bytes, True),
        (_zero_bytes, False),
        (_garbage, True),
        (_truncated, True),
        (_bad_json_cell, True),
    ],
    ids=["zero-byte-resume", "zero-byte-fresh", "garbage", "truncated", "bad-json-cell"],
)
def test_damaged_state_is_refused_in_one_line_and_left_as_it_is(
    damage, resume: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15 ("Damaged state"): raw sqlite3/JSON tracebacks, and a zero-byte state.db under
    --resume silently started over, overwriting summary.json and arch/*."""
    config = write_config(tmp_path)
    run_dir = tmp_path / "run"
    _stored_run(run_dir, config)
    for wal in run_dir.glob("state.db-*"):
        wal.unlink()
    damage(run_dir)
    before = snapshot(run_dir)
    args = ["run", str(config), "--run-dir", str(run_dir), "--no-live"]
    status = main(args + (["--resume"] if resume else []))
    lines = error_lines(capsys)
    assert status == 2, lines
    assert len(lines) == 1, lines
    assert "state.db" in lines[0], lines
    assert snapshot(run_dir) == before


@pytest.mark.parametrize(
    "content", [b"\xff\xfe\x00\x81binary", b"[1, 2]", b'{"architectures": "x"}']
)
def test_report_refuses_a_damaged_summary_in_one_line(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15 ("Damaged state"): a binary summary.json gave a raw UnicodeDecodeError."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "summary.json").write_bytes(content)
    assert main(["report", str(run_dir)]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and "summary.json" in lines[0], lines
    assert not (run_dir / "report.html").exists()


# ------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("train.device=potato", "train.device"),
        ("executor.start_method=nope", "executor.start_method"),
        ("base.skeleton=nope", "base.skeleton"),
        ("executor.name=nope", "executor.name"),
        ("dataset.name=nope", "dataset.name"),
        ("llm.provider=nope", "llm.provider"),
        ("llm.api_key_env=NADER_TEST_NO_SUCH_KEY", "NADER_TEST_NO_SUCH_KEY"),
        ("train.lr=inf", "train.lr"),
        ("train.momentum=nan", "train.momentum"),
        ('base.network="/dev/zero"', "base.network"),
        ("base.network=LATIN1", "base.network"),
        ("base.network=BROKEN", "base.network"),
        ("CONFIG=LATIN1", "session.toml"),
    ],
)
def test_every_config_value_and_the_base_are_validated_before_any_work(
    setting: str, key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15 ("Validated before any work"): tracebacks, values accepted until every candidate
    failed, /dev/zero read without bound, and a run directory created for a run that never ran."""
    config = write_config(tmp_path)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("##Zelle für é##\n0:input\n1:output\n0->1\n".encode("latin-1"))
    broken = tmp_path / "broken.txt"
    broken.write_text("##Cell##\n0:input\n1:output\n2:Conv2d(\n", encoding="utf-8")
    setting = setting.replace("LATIN1", f'"{latin1}"').replace("BROKEN", f'"{broken}"')
    if setting.startswith("CONFIG="):
        config.write_bytes(config.read_bytes().replace(b'"faults"', '"fäults"'.encode("latin-1")))
        overrides: list[str] = []
    else:
        overrides = ["--set", setting]
    if "api_key_env" in setting:  # a live provider without its key
        overrides += ["--set", "llm.provider=anthropic", "--set", "llm.model=claude-sonnet-4-5"]
    run_dir = tmp_path / "run"
    status = main(["run", str(config), "--run-dir", str(run_dir), "--no-live", *overrides])
    lines = error_lines(capsys)
    assert status == 2, lines
    assert len(lines) == 1 and key in lines[0], lines
    assert "Traceback" not in lines[0]
    assert not run_dir.exists()


# ------------------------------------------------------------------------------- budgets


def test_budgets_hold_across_resume(tmp_path: Path) -> None:
    """Issue 15 ("Budgets across resume"): max_designs restarted from 0 at every --resume, and a
    resume with a smaller max_architectures trained more than it allows."""
    runtime = builtin_runtime()
    config, _ = load_config(write_config(tmp_path, max_architectures=5, workers=2))
    # run 1: 0-2 train at once, 3 and 4 are still training when the wall-clock budget ends
    stopped = config.model_copy(
        update={"run": config.run.model_copy(update={"max_designs": None, "max_wall_clock_s": 10})}
    )
    run_dir = tmp_path / "run"
    first = Session(
        stopped,
        run_dir,
        runtime=runtime,
        job_function=jobs.stalls_from_3_job,
        progress=Progress(live=False),
    ).run()
    statuses = [a["status"] for a in first.summary["architectures"]]
    assert statuses.count("trained") >= 1 and statuses.count("queued") >= 1, statuses
    designs_before = len([a for a in first.summary["architectures"] if a["parent"] is not None])
    assert designs_before >= 1

    # run 2: only three architectures allowed (nothing left queued may train beyond them), and
    # no design budget left: the first run spent it
    smaller = config.model_copy(
        update={
            "run": config.run.model_copy(
                update={"max_architectures": 3, "max_designs": designs_before}
            )
        }
    )
    second = Session(
        smaller, run_dir, runtime=runtime, resume=True, job_function=jobs.instant_job
    ).run()
    archs = second.summary["architectures"]
    assert sum(a["status"] == "trained" for a in archs) == 3, [
        (a["id"], a["status"]) for a in archs
    ]
    assert len([a for a in archs if a["parent"] is not None]) == designs_before

    # run 3: a larger architecture budget, the same design budget: still no new design
    bigger = smaller.model_copy(
        update={"run": smaller.run.model_copy(update={"max_architectures": 20})}
    )
    third = Session(
        bigger, run_dir, runtime=runtime, resume=True, job_function=jobs.instant_job
    ).run()
    after = len([a for a in third.summary["architectures"] if a["parent"] is not None])
    assert after == designs_before, third.stopped_because
    assert "design budget" in third.stopped_because


# ------------------------------------------------------------------------------- exit status


def test_a_run_that_trains_no_designed_architecture_exits_non_zero_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15 ("A run that achieves nothing exits 0"): every candidate failing ended with rc 0."""
    config = write_config(tmp_path, max_architectures=3)
    run_dir = tmp_path / "run"
    status = main(
        [
            "run",
            str(config),
            "--run-dir",
            str(run_dir),
            "--no-live",
            "--set",
            "executor.timeout_s=0.05",  # every candidate times out
        ]
    )
    err = capsys.readouterr().err
    assert status == 1, err
    assert "no designed architecture was trained" in err and "timeout" in err, err
