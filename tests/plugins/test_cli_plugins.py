"""``nader plugins [--json]`` and how the other commands surface plugin problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plugin_helpers import Installer

from nader.cli.main import main

GOOD = """
    from nader import hookimpl
    from nader.ir import OperatorSpec

    @hookimpl
    def register_operators(register):
        register(OperatorSpec("GoodOp", lambda inputs, params: inputs[0], summary="good"))

    @hookimpl
    def register_embedders(register):
        register("good-embedder", dict)
"""
CRASHING = """
    from nader import hookimpl

    @hookimpl
    def register_datasets(register):
        raise OSError("dataset folder is missing")
"""
CELL = "##Cell##\n0:input\n1:output\n2:ReLU\n0->2\n2->1\n"


def test_listing_shows_plugins_versions_and_registrations(
    install_dist: Installer, capsys: pytest.CaptureFixture[str]
) -> None:
    install_dist(
        "nader-good", modules_source={"good_plugin": GOOD}, entry_points={"good": "good_plugin"}
    )
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "nader 0.1.0 (built-in)\n  from: nader.backends.plugin" in out
    assert "\n  operators (29):" in out  # the authors' 27, plus Identity and Zero (NAS-Bench-201)
    assert (
        "nader-good 1.0\n  from: good = good_plugin\n  operators (1):\n    GoodOp\n"
        "  embedders (1):\n    good-embedder\n"
    ) in out


def test_json_listing(install_dist: Installer, capsys: pytest.CaptureFixture[str]) -> None:
    install_dist(
        "nader-good", modules_source={"good_plugin": GOOD}, entry_points={"good": "good_plugin"}
    )
    assert main(["plugins", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"plugins", "skipped", "problems"}
    plugins = {plugin["name"]: plugin for plugin in payload["plugins"]}
    builtin, good = plugins["nader"], plugins["nader-good"]
    assert builtin["name"] == "nader" and builtin["builtin"] is True
    assert "Conv2d" in builtin["registered"]["operators"]
    assert good == {
        "name": "nader-good",
        "version": "1.0",
        "builtin": False,
        "loaded_from": ["good = good_plugin"],
        "registered": {"operators": ["GoodOp"], "embedders": ["good-embedder"]},
        "errors": [],
    }


def test_plugin_errors_are_listed_warned_and_make_the_listing_fail(
    install_dist: Installer, capsys: pytest.CaptureFixture[str]
) -> None:
    install_dist(
        "nader-crashy",
        modules_source={"crashy_plugin": CRASHING},
        entry_points={"crashy": "crashy_plugin"},
    )
    assert main(["plugins", "--json"]) == 1
    captured = capsys.readouterr()
    [crashy] = [p for p in json.loads(captured.out)["plugins"] if p["name"] == "nader-crashy"]
    message = "register_datasets raised OSError: dataset folder is missing"
    assert crashy["errors"] == [message]
    assert f"nader: warning: nader-crashy: {message}" in captured.err


def test_other_commands_warn_about_a_broken_plugin_and_carry_on(
    install_dist: Installer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_dist(
        "nader-crashy",
        modules_source={"crashy_plugin": CRASHING},
        entry_points={"crashy": "crashy_plugin"},
    )
    cell = tmp_path / "cell.txt"
    cell.write_text(CELL)
    assert main(["check", str(cell)]) == 0
    assert "nader: warning: nader-crashy: register_datasets raised OSError" in (
        capsys.readouterr().err
    )


def test_skipped_plugins_are_shown(
    install_dist: Installer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install_dist(
        "nader-good", modules_source={"good_plugin": GOOD}, entry_points={"good": "good_plugin"}
    )
    monkeypatch.setenv("NADER_LOAD_PLUGINS", "")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "GoodOp" not in out
    [skipped] = [line for line in out.splitlines() if line.startswith("not loaded")]
    assert skipped.startswith("not loaded (NADER_LOAD_PLUGINS): ") and "nader-good" in skipped


def test_a_name_clash_stops_every_command_with_both_names(
    install_dist: Installer, capsys: pytest.CaptureFixture[str]
) -> None:
    install_dist(
        "nader-good", modules_source={"good_plugin": GOOD}, entry_points={"good": "good_plugin"}
    )
    install_dist(
        "nader-copy", modules_source={"copy_plugin": GOOD}, entry_points={"copy": "copy_plugin"}
    )
    assert main(["plugins"]) == 2
    err = capsys.readouterr().err
    assert "nader: plugin error: plugins register the same name:" in err
    assert (
        "operator 'GoodOp' is registered by both plugin 'nader-copy' and plugin 'nader-good'" in err
    )
    assert (
        "embedder 'good-embedder' is registered by both plugin 'nader-copy' and plugin 'nader-good'"
        in err
    )
