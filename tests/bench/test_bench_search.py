"""``nader bench search`` and ``nader compare`` end to end, on digits with tiny training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nader.backends.nb201 import network_to_arch
from nader.bench.nb201_space import edge_distance
from nader.cli.main import main
from nader.ir import default_registry
from nader.ir.parser import parse_network

CONFIG = """
[run]
name = "search-test"
max_wall_clock_s = 900
queue_size = 0

[base]
nb201_arch = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
skeleton = "nb201-mini"
width = 4

[dataset]
name = "digits"

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
max_try = 3

[executor]
name = "local"
workers = 1
timeout_s = 300
"""


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "search.toml"
    path.write_text(CONFIG)
    return path


def _arch_of(run_dir: Path, arch_id: str) -> str:
    text = (run_dir / "arch" / arch_id / "network.txt").read_text()
    return network_to_arch(parse_network(text, "t"), default_registry())


def test_rea_search_mutates_tournament_winners_and_compare_reads_it(tmp_path, capsys):
    out = tmp_path / "bench"
    argv = ["bench", "search", str(_config(tmp_path)), "--out", str(out), "--strategies", "rea"]
    argv += [
        "--seeds",
        "1",
        "--architectures",
        "3",
        "--set",
        "llm.provider_options.population_size=2",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "valid@3 (%)" in printed and "rea" in printed
    run_dir = out / "rea" / "seed0"
    summary = json.loads((run_dir / "summary.json").read_text())
    trained = [a for a in summary["architectures"] if a["status"] == "trained"]
    assert len(trained) == 3
    assert summary["usage"]["input_tokens"] == 0  # a NAS baseline spends no tokens
    bench = json.loads((run_dir / "bench.json").read_text())
    assert bench["finished"] and bench["seed"] == 0 and bench["wall_s"] > 0
    # after the population (base + 1 sample), every child is one edge away from its parent
    for arch in trained:
        if int(arch["id"]) >= 2:
            child, parent = _arch_of(run_dir, arch["id"]), _arch_of(run_dir, arch["parent"])
            assert edge_distance(child, parent) == 1
    table = json.loads((out / "search.json").read_text())
    assert table["ks"] == [1, 3]
    row = table["table"][0]
    best = max(a["valid_acc"] for a in trained)
    assert row["best_valid_after"]["3"]["mean"] == pytest.approx(best)

    # finished runs are not run again; compare reads them like any run directory
    assert main(argv) == 0
    assert json.loads((run_dir / "bench.json").read_text())["wall_s"] == bench["wall_s"]
    capsys.readouterr()
    assert main(["compare", str(run_dir), "--k", "2", "--json", str(tmp_path / "c.json")]) == 0
    assert "valid@2 (%)" in capsys.readouterr().out
    compared = json.loads((tmp_path / "c.json").read_text())["runs"][0]
    assert compared["strategy"] == "rea" and len(compared["valid"]) == 3


@pytest.mark.slow
def test_three_strategies_two_seeds(tmp_path, capsys):
    out = tmp_path / "bench"
    argv = ["bench", "search", str(_config(tmp_path)), "--out", str(out)]
    argv += ["--seeds", "2", "--architectures", "3"]
    assert main(argv) == 0
    rows = json.loads((out / "search.json").read_text())["table"]
    assert [r["strategy"] for r in rows] == ["agents", "random", "rea"]
    assert all(r["seeds"] == 2 for r in rows)
    assert rows[0]["tokens"]["mean"] > 0 and rows[1]["tokens"]["mean"] == 0


def test_the_prescreen_strategy_trains_one_of_three_cells_per_design(tmp_path):
    out = tmp_path / "bench"
    argv = ["bench", "search", str(_config(tmp_path)), "--out", str(out)]
    argv += ["--strategies", "agents,agents-prescreen", "--seeds", "1", "--architectures", "3"]
    assert main(argv) == 0
    rows = {r["strategy"]: r for r in json.loads((out / "search.json").read_text())["table"]}
    assert set(rows) == {"agents", "agents-prescreen"}
    # three cell dialogues per design cost more tokens than one
    assert rows["agents-prescreen"]["tokens"]["mean"] > rows["agents"]["tokens"]["mean"] > 0
    summary = json.loads((out / "agents-prescreen" / "seed0" / "summary.json").read_text())
    designed = [a for a in summary["architectures"] if a["parent"] is not None]
    assert len(summary["architectures"]) == 3 and designed
    for arch in designed:
        candidates = arch["extra"]["prescreen"]
        assert len(candidates) == 3 and sum(c["chosen"] for c in candidates) == 1
    plain = json.loads((out / "agents" / "seed0" / "summary.json").read_text())
    assert all("prescreen" not in a["extra"] for a in plain["architectures"])
