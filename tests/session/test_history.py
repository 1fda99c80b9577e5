"""Per-epoch history and progress through a real session (real workers, real training)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus_paths import REPO, nader_command, nader_env  # noqa: E402

from nader.cli.progress import Progress  # noqa: E402
from nader.plugins.manager import build_runtime  # noqa: E402
from nader.session.config import load_config  # noqa: E402
from nader.session.jobs import training_job, usable_cores, worker_threads  # noqa: E402
from nader.session.runner import Session  # noqa: E402
from nader.session.store import Architecture, RunStore  # noqa: E402

HISTORY_KEYS = {
    "epoch",
    "train_loss",
    "train_acc",
    "valid_acc",
    "lr",
    "images_per_second",
    "seconds",
}

CONFIG = """
[run]
name = "history"
max_architectures = {max_architectures}
max_wall_clock_s = 900
queue_size = 1

[base]
network = "{network}"
skeleton = "nader"
width = 4

[dataset]
name = "digits"

[train]
epochs = {epochs}
batch_size = 64
max_train_batches = {batches}
max_eval_batches = 2
device = "cpu"
patience_epochs = 0

[llm]
provider = "offline"
model = "offline-designer"

[executor]
name = "local"
workers = 1
timeout_s = 300
"""


def _write_config(tmp_path: Path, *, max_architectures: int, epochs: int, batches: int) -> Path:
    network = tmp_path / "resnet_basic.txt"
    shutil.copy(REPO / "examples" / "resnet_basic.txt", network)
    path = tmp_path / "session.toml"
    path.write_text(
        CONFIG.format(
            max_architectures=max_architectures, network=network, epochs=epochs, batches=batches
        )
    )
    return path


def _epoch_events(store: RunStore) -> Counter[tuple[str, int]]:
    return Counter((e["data"]["id"], e["data"]["epoch"]) for e in store.events("epoch"))


def test_every_epoch_reaches_the_store_metrics_and_console_once(tmp_path: Path) -> None:
    config, _ = load_config(_write_config(tmp_path, max_architectures=2, epochs=3, batches=3))
    console = io.StringIO()
    run_dir = tmp_path / "run"
    with Progress(stream=console, live=False) as progress:
        Session(config, run_dir, runtime=build_runtime(), progress=progress).run()
    store = RunStore(run_dir)
    try:
        trained = [a for a in store.all() if a.status == "trained"]
        assert len(trained) >= 2
        counts = _epoch_events(store)
        updates = store.events("architecture_updated")
        for arch in trained:
            history = arch.extra["history"]
            assert [row["epoch"] for row in history] == [1, 2, 3]
            assert all(set(row) == HISTORY_KEYS for row in history)
            assert all(row["images_per_second"] > 0 and row["seconds"] > 0 for row in history)
            assert [counts[(arch.id, e)] for e in (1, 2, 3)] == [1, 1, 1]
            # streamed as it happened: each epoch event precedes the outcome's update
            finished = next(
                e["seq"] for e in updates if e["data"]["id"] == arch.id and "valid_acc" in e["data"]
            )
            epochs_seq = [e["seq"] for e in store.events("epoch") if e["data"]["id"] == arch.id]
            assert max(epochs_seq) < finished
            metrics = json.loads((run_dir / "arch" / arch.id / "metrics.json").read_text())
            assert metrics["extra"]["history"] == history
            assert set(arch.extra["proxies"]) == {"naswot", "synflow"}
        summary = json.loads((run_dir / "summary.json").read_text())
        assert all(
            "history" in a["extra"] for a in summary["architectures"] if a["status"] == "trained"
        )
    finally:
        store.close()
    lines = console.getvalue().splitlines()
    for arch in trained:
        for epoch in (1, 2, 3):
            pattern = re.compile(rf"^{arch.id}: epoch {epoch}/3 loss ")
            assert sum(bool(pattern.match(line)) for line in lines) == 1, console.getvalue()


@pytest.mark.slow
def test_history_survives_kill_9_and_resume(tmp_path: Path) -> None:
    # Epochs long enough (40 batches, ~0.5 s each here) and a poll short enough (20 ms) that the
    # window "one candidate finished, the next one mid-training" spans dozens of polls: with 3
    # short epochs and a 0.2 s poll the run could finish between two reads (CI run of 1aa23dc).
    epochs = 4
    config = _write_config(tmp_path, max_architectures=2, epochs=epochs, batches=40)
    run_dir = tmp_path / "run"
    command = nader_command("run", str(config), "--run-dir", str(run_dir), "--no-live")
    process = subprocess.Popen(
        command, env=nader_env(), stdout=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    seen: dict[str, list[dict[str, Any]]] = {}
    while time.monotonic() < deadline and process.poll() is None:
        seen = _histories(run_dir)
        if any(0 < len(rows) < epochs for rows in seen.values()) and len(seen) >= 2:
            break  # one candidate finished, another is mid-training
        time.sleep(0.02)
    finished_before_kill = process.poll() is not None
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    assert not finished_before_kill, f"the run ended before it could be killed: {seen}"
    assert any(0 < len(rows) < epochs for rows in seen.values()), seen
    again = subprocess.run(
        [*command, "--resume"], env=nader_env(), capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stderr[-3000:]
    store = RunStore(run_dir)
    try:
        archs = {a.id: a for a in store.all()}
        counts = _epoch_events(store)
    finally:
        store.close()
    every_epoch = list(range(1, epochs + 1))
    for arch_id, rows in seen.items():
        history = archs[arch_id].extra["history"]
        assert [row["epoch"] for row in history] == every_epoch
        assert history[: len(rows)] == rows  # epochs recorded before the kill are kept as they were
    trained = [a for a in archs.values() if a.status == "trained"]
    assert len(trained) >= 2
    for arch in trained:
        assert [row["epoch"] for row in arch.extra["history"]] == every_epoch
        assert all(counts[(arch.id, e)] == 1 for e in every_epoch)  # never twice


def _histories(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in (run_dir / "arch").glob("*/metrics.json") if (run_dir / "arch").is_dir() else []:
        try:
            found[path.parent.name] = json.loads(path.read_text())["extra"]["history"]
        except (KeyError, ValueError):
            continue
    return found


def test_each_worker_gets_its_share_of_the_cores_unless_configured(tmp_path: Path) -> None:
    config, _ = load_config(_write_config(tmp_path, max_architectures=2, epochs=1, batches=1))
    store = RunStore(tmp_path / "run")
    try:
        arch = Architecture("0", 0, None, None, "queued", network_text="x", width=4)
        store.add(arch)
        cores = usable_cores()
        for workers in (1, 2, 64):
            sized = config.model_copy(
                update={"executor": config.executor.model_copy(update={"workers": workers})}
            )
            assert training_job(arch, sized, store).threads == max(1, cores // workers)
        fixed = config.model_copy(
            update={"executor": config.executor.model_copy(update={"threads": 3})}
        )
        assert worker_threads(fixed) == 3
    finally:
        store.close()


def test_the_live_panel_shows_training_epochs_and_its_clock_ticks() -> None:
    from rich.console import Console

    from nader.cli.progress import _LivePanel
    from nader.session.progress import ProgressState
    from nader.training.job import EpochHistory

    state = ProgressState(target=3)
    record = EpochHistory(
        epoch=2,
        train_loss=0.5,
        train_acc=0.8,
        valid_acc=0.75,
        lr=0.01,
        images_per_second=900.0,
        seconds=1.0,
    )
    assert state.saw_epoch("7", record, 3).startswith("7: epoch 2/3 loss 0.5000 acc 0.8000")
    panel = _LivePanel(state)  # one renderable, drawn again on every refresh

    def draw() -> str:
        console = Console(file=io.StringIO(), width=160, color_system=None)
        console.print(panel)
        return console.file.getvalue()  # type: ignore[attr-defined]

    first = draw()
    assert "training 7" in first and "epoch 2/3 loss 0.5000 acc 0.8000 valid 0.7500" in first
    state.started -= 5  # five seconds later, nothing else changed
    assert re.search(r"(\d+)s elapsed", draw()).group(1) != re.search(
        r"(\d+)s elapsed", first
    ).group(1)  # type: ignore[union-attr]
