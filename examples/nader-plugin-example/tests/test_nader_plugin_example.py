"""Tests of the installed plugin, run as a user's nader would run it (entry points, CLI).

Run after ``pip install ./examples/nader-plugin-example``; without the installation the tests
skip rather than fail, so a plain checkout of nader still passes.
"""

from __future__ import annotations

import importlib.util
import json
import random
from importlib import metadata
from pathlib import Path

import pytest

from nader.cli.main import main
from nader.ir import check_text
from nader.plugins import build_runtime

BLOCK_FILE = Path(__file__).resolve().parents[1] / "blocks" / "resnet_hardswish.txt"
DIST = "nader-plugin-example"

try:
    metadata.distribution(DIST)
except metadata.PackageNotFoundError:
    pytestmark = pytest.mark.skip(reason=f"{DIST} is not installed")


@pytest.fixture(autouse=True)
def _no_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NADER_LOAD_PLUGINS", raising=False)


def test_entry_point_names_the_plugin_module() -> None:
    entries = [
        ep for ep in metadata.entry_points(group="nader") if ep.dist and ep.dist.name == DIST
    ]
    assert [(ep.name, ep.value) for ep in entries] == [("example", "nader_plugin_example")]


def test_runtime_lists_what_the_plugin_registered() -> None:
    runtime = build_runtime()
    info = runtime.plugin(DIST)
    assert info.version == metadata.version(DIST)
    assert info.registered == {"operators": ["HardSwish"], "search_policies": ["newest"]}
    assert info.errors == []
    assert runtime.operators.get("HardSwish").source == DIST
    assert "HardSwish" in runtime.lowerings


def test_block_using_hardswish_checks_like_its_relu_twin() -> None:
    runtime = build_runtime()
    text = BLOCK_FILE.read_text()
    report = check_text(text, runtime.operators, source=str(BLOCK_FILE))
    relu = check_text(text.replace("HardSwish", "ReLU"), runtime.operators)
    assert report.valid, [str(e) for b in report.blocks for e in b.errors]
    cell, relu_cell = report.blocks[0], relu.blocks[0]
    assert cell.output_shape == relu_cell.output_shape
    assert (cell.params, cell.flops) == (relu_cell.params, relu_cell.flops)  # HardSwish is free
    assert cell.hash != relu_cell.hash  # but a different architecture


def test_nader_check_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(BLOCK_FILE), "--json"]) == 0
    blocks = json.loads(capsys.readouterr().out)["blocks"]
    assert [b["valid"] for b in blocks] == [True, True, True]


def test_block_is_invalid_when_plugins_are_turned_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NADER_LOAD_PLUGINS", "")
    assert main(["check", str(BLOCK_FILE), "--json"]) == 1
    cell = json.loads(capsys.readouterr().out)["blocks"][0]
    assert {e["code"] for e in cell["errors"]} == {"undefined-operator"}
    assert all("'HardSwish'" in e["message"] for e in cell["errors"])


def test_lowering_is_a_real_hardswish() -> None:
    torch = pytest.importorskip("torch")
    runtime = build_runtime()
    module = runtime.lowerings["HardSwish"](None)  # the lowering reads nothing from its context
    x = torch.tensor([-4.0, -1.0, 0.0, 1.0, 4.0])
    expected = x * torch.clamp(x + 3, 0, 6) / 6
    assert torch.allclose(module(x), expected)


@pytest.mark.skipif(
    importlib.util.find_spec("nader.backends") is None
    or importlib.util.find_spec("nader.backends.lowering") is None
    or importlib.util.find_spec("nader.cli.compile") is None,
    reason="nader's torch backend (nader.backends.lowering, nader compile) is not in this build",
)
def test_block_using_hardswish_compiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(BLOCK_FILE), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["params"] > 0 and result["flops"] > 0


def test_newest_policy_picks_the_last_added_node() -> None:
    from nader.agents.tree import ModificationTree

    policy = build_runtime().search_policies.get("newest")()
    tree = ModificationTree()
    with pytest.raises(ValueError, match="no nodes"):
        policy.select(tree, random.Random(0))
    tree.add_root("##A##\n0:input\n1:output\n0->1\n")
    assert policy.select(tree, random.Random(0)) == 0
    tree.add_child(0, "##B##\n0:input\n1:output\n0->1\n", suggestion="b")
    tree.add_child(0, "##C##\n0:input\n1:output\n0->1\n", suggestion="c")
    assert policy.select(tree, random.Random(0)) == 2
    with pytest.raises(TypeError):
        build_runtime().search_policies.get("newest")(depth=3)  # it takes no options
