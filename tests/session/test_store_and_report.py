"""Run store consistency and the HTML report, rendered in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from nader.session.report import pareto_front, render_report, write_report
from nader.session.store import Architecture, RunStore

CELL = (Path(__file__).resolve().parents[2] / "examples" / "resnet_basic.txt").read_text()


def _make_run(root: Path) -> RunStore:
    store = RunStore(root)
    store.add(
        Architecture(
            "0",
            0,
            None,
            None,
            "trained",
            hash="h0",
            network_text=CELL,
            params=1000,
            flops=5000,
            valid_acc=0.5,
            test_acc=0.48,
        )
    )
    store.add(
        Architecture(
            "1",
            1,
            "0",
            "add SE <script>alert(1)</script> attention",
            "trained",
            hash="h1",
            network_text=CELL,
            params=1200,
            flops=5200,
            valid_acc=0.6,
            test_acc=0.1,
        )
    )
    store.add(Architecture("2", 2, "0", "wider kernels", "failed", error="boom", network_text=CELL))
    store.add(
        Architecture(
            "3",
            3,
            "1",
            "bottleneck",
            "trained",
            hash="h3",
            network_text=CELL,
            params=800,
            flops=4000,
            valid_acc=0.55,
            test_acc=0.9,
        )
    )
    store.write_summary({"input_tokens": 10, "output_tokens": 5, "cost_usd": 0.001})
    return store


def test_summary_follows_the_contract_and_best_is_by_validation(tmp_path: Path) -> None:
    store = _make_run(tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    keys = {
        "id",
        "parent",
        "suggestion",
        "hash",
        "params",
        "flops",
        "status",
        "valid_acc",
        "test_acc",
    }
    assert all(keys <= set(a) for a in summary["architectures"])
    assert summary["best"] == "1"  # highest valid_acc, though "3" has the highest test_acc
    assert set(summary["usage"]) >= {"input_tokens", "output_tokens", "cost_usd"}
    store.update("2", status="trained", valid_acc=0.7)
    assert store.write_summary({})["best"] == "2"
    assert json.loads((tmp_path / "arch" / "2" / "metrics.json").read_text())["valid_acc"] == 0.7


def test_store_reopens_with_everything(tmp_path: Path) -> None:
    _make_run(tmp_path).close()
    again = RunStore(tmp_path)
    assert [a.id for a in again.all()] == ["0", "1", "2", "3"]
    assert again.by_hash("h3").id == "3"
    assert again.next_seq() == 4
    assert any(e["kind"] == "architecture_added" for e in again.events())


def test_pareto_front_keeps_only_undominated_points() -> None:
    points = [(1.0, 0.5, "a"), (2.0, 0.4, "b"), (3.0, 0.7, "c"), (2.5, 0.7, "d")]
    assert [p[2] for p in pareto_front(points)] == ["a", "d"]


def test_report_escapes_model_text(tmp_path: Path) -> None:
    _make_run(tmp_path)
    page = render_report(tmp_path)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count('class="node"') == 4


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_report_renders_in_headless_chromium_without_console_errors(tmp_path: Path) -> None:
    _make_run(tmp_path / "run")
    report = write_report(tmp_path / "run")
    profile = tmp_path / "profile"
    result = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = result.stdout
    assert 'id="arch-table"' in dom and dom.count("<tr>") >= 5
    assert 'id="tree"' in dom and 'class="pareto"' in dom
