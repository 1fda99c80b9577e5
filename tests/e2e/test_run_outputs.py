"""What a researcher takes away from a real (small) run: exported networks with their trained
weights, TensorBoard event files, and the JSONL mirror. One session is shared by the module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from small_run import REPO, make_small_run

from nader.backends.export import load_trained_weights
from nader.cli.export import compile_trained, resolve_arch
from nader.plugins import builtin_runtime

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_small_run(tmp_path_factory.mktemp("small"))


def nader_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NADER_LOAD_PLUGINS": ""}
    return subprocess.run(
        [sys.executable, "-m", "nader", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


def trained_module(run_dir: Path, arch_id: str) -> torch.nn.Module:
    """The trained network as nader builds it: compiled, then the checkpoint loaded."""
    summary = json.loads((run_dir / "summary.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    result = compile_trained(run_dir, resolve_arch(summary, arch_id), config, builtin_runtime())
    load_trained_weights(result.module, run_dir / "arch" / arch_id / "checkpoint.pt")
    return result.module.eval()


def batch() -> torch.Tensor:
    """Digits as the run saw them: 3 channels, 16×16."""
    return torch.randn(5, 3, 16, 16, generator=torch.Generator().manual_seed(3))


def test_onnx_export_carries_the_trained_weights(run_dir: Path, tmp_path: Path) -> None:
    import onnxruntime

    done = nader_cli("export", str(run_dir), "--arch", "best", "--out", "m.onnx", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    best = json.loads((run_dir / "summary.json").read_text())["best"]
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    (got,) = session.run(None, {"images": batch().numpy()})
    with torch.no_grad():
        want = trained_module(run_dir, best)(batch()).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # the weights are trained ones: a freshly initialised network answers differently
    fresh = compile_trained(
        run_dir,
        resolve_arch(json.loads((run_dir / "summary.json").read_text()), best),
        json.loads((run_dir / "config.json").read_text()),
        builtin_runtime(),
    ).module.eval()
    with torch.no_grad():
        assert not np.allclose(fresh(batch()).numpy(), got, atol=1e-4)


def test_pt_state_dict_loads_into_the_exported_source(run_dir: Path, tmp_path: Path) -> None:
    for out in ("m.py", "m.pt"):
        done = nader_cli("export", str(run_dir), "--arch", "1", "--out", out, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    torch.save(batch(), tmp_path / "batch.pt")
    # the generated source runs in its own interpreter: nader never imports generated code
    program = (
        "import torch, m\n"
        "net = m.Network().eval()\n"
        "net.load_state_dict(torch.load('m.pt', weights_only=True), strict=True)\n"
        "with torch.no_grad():\n"
        "    torch.save(net(torch.load('batch.pt', weights_only=True)), 'out.pt')\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert loaded.returncode == 0, loaded.stderr
    got = torch.load(tmp_path / "out.pt", weights_only=True)
    with torch.no_grad():
        want = trained_module(run_dir, "1")(batch())
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_export_refuses_an_unknown_architecture(run_dir: Path, tmp_path: Path) -> None:
    done = nader_cli("export", str(run_dir), "--arch", "99", "--out", "m.pt", cwd=tmp_path)
    assert done.returncode == 2
    assert "no architecture '99'" in done.stderr and not (tmp_path / "m.pt").exists()


def test_tensorboard_reader_loads_the_run(run_dir: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (log_dir,) = {p.parent for p in (run_dir / "tracking" / "tensorboard").glob("events.*")}
    events = EventAccumulator(str(log_dir))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    summary = json.loads((run_dir / "summary.json").read_text())
    trained = [a for a in summary["architectures"] if a["status"] == "trained"]
    assert {"run/best_valid_acc", "architectures/valid_acc", "llm/input_tokens"} <= tags
    best = events.Scalars("run/best_valid_acc")
    assert len(best) == len(trained)
    assert best[-1].value == pytest.approx(max(a["valid_acc"] for a in trained), rel=1e-6)
    tokens = events.Scalars("llm/input_tokens")
    assert tokens[-1].value == summary["usage"]["input_tokens"]


def test_jsonl_tracker_mirrors_each_architecture_and_the_end(run_dir: Path) -> None:
    lines = [
        json.loads(line)
        for line in (run_dir / "tracking" / "events.jsonl").read_text().splitlines()
    ]
    summary = json.loads((run_dir / "summary.json").read_text())
    by_id = {a["id"]: a for a in summary["architectures"]}
    recorded = {line["record"]["id"]: line for line in lines if line["event"] == "architecture"}
    assert summary["best"] in recorded
    for arch_id, line in recorded.items():
        assert line["record"]["status"] == by_id[arch_id]["status"]
        assert line["record"]["valid_acc"] == by_id[arch_id]["valid_acc"]
    assert lines[-1] == {"event": "run_end", "best": summary["best"], "usage": summary["usage"]}


def test_report_of_the_real_run(run_dir: Path, tmp_path: Path) -> None:
    done = nader_cli("report", str(run_dir), "--out", "report.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "report.html").read_text()
    best = json.loads((run_dir / "summary.json").read_text())["best"]
    assert f"Best architecture: {best}" in page
    # the base cell's skip connection (input 0 → Add 7) is its own edge, through its own lane
    base = page.split('<details class="arch" data-id="0">', 1)[1].split("</details>", 1)[0]
    assert '<path class="edge" data-source="0" data-target="7"' in base
    assert ">Conv 3×3 → C<" in base and ">Add<" in base
