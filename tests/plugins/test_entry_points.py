"""Third-party plugins found through the ``nader`` entry-point group, and NADER_LOAD_PLUGINS."""

from __future__ import annotations

import pytest
from plugin_helpers import Installer

from nader.errors import PluginError
from nader.ir import check_text
from nader.plugins import build_runtime

ALPHA = """
    from nader import hookimpl
    from nader.ir import OperatorSpec

    @hookimpl
    def register_operators(register):
        register(OperatorSpec("AlphaOp", lambda inputs, params: inputs[0], summary="alpha"))
"""
BETA = """
    from nader import hookimpl

    @hookimpl
    def register_search_policies(register):
        register("beta-policy", dict)
"""
ALPHA_BLOCK = "##Cell##\n0:input\n1:output\n2:AlphaOp\n0->2\n2->1\n"
OURS = {"nader", "nader-alpha", "Nader_Beta"}


def ours(names: list[str]) -> list[str]:
    """``names`` without plugins this machine happens to have installed (e.g. the example)."""
    return [name for name in names if name in OURS]


def install_alpha(install_dist: Installer) -> None:
    install_dist(
        "nader-alpha",
        modules_source={"alpha_plugin": ALPHA},
        entry_points={"alpha": "alpha_plugin"},
    )


@pytest.fixture
def two_plugins(install_dist: Installer) -> None:
    install_alpha(install_dist)
    install_dist(
        "Nader_Beta",
        modules_source={"beta_plugin": BETA},
        entry_points={"beta": "beta_plugin"},
        version="2.3",
    )


def test_installed_plugins_load_with_their_versions(two_plugins: None) -> None:
    runtime = build_runtime()
    assert ours([p.name for p in runtime.plugins]) == ["nader", "nader-alpha", "Nader_Beta"]
    alpha, beta = runtime.plugin("nader-alpha"), runtime.plugin("Nader_Beta")
    assert (alpha.version, alpha.loaded_from) == ("1.0", ["alpha = alpha_plugin"])
    assert alpha.registered == {"operators": ["AlphaOp"]}
    assert (beta.version, beta.registered) == ("2.3", {"search_policies": ["beta-policy"]})
    assert runtime.errors == [] and runtime.skipped == []
    assert check_text(ALPHA_BLOCK, runtime.operators).valid


def test_load_entry_points_false_loads_only_builtins(two_plugins: None) -> None:
    runtime = build_runtime(load_entry_points=False)
    assert [p.name for p in runtime.plugins] == ["nader"]


@pytest.mark.parametrize("allow", ["NADER_ALPHA", "nader.alpha , ", "nader_alpha,nader-gamma"])
def test_the_allowlist_matches_normalised_distribution_names(
    two_plugins: None, monkeypatch: pytest.MonkeyPatch, allow: str
) -> None:
    monkeypatch.setenv("NADER_LOAD_PLUGINS", allow)
    runtime = build_runtime()
    assert ours([p.name for p in runtime.plugins]) == ["nader", "nader-alpha"]
    assert ours(runtime.skipped) == ["Nader_Beta"]
    assert "beta-policy" not in runtime.search_policies


def test_an_allowlist_naming_nothing_installed_is_reported(
    two_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NADER_LOAD_PLUGINS", "nader-alpha,nader-gamma,nader")
    runtime = build_runtime()
    [problem] = runtime.errors
    assert problem.startswith(
        "NADER_LOAD_PLUGINS: no installed nader plugin is named 'nader-gamma' (installed: "
    )
    assert "nader-alpha, nader-beta" in problem


def test_set_and_empty_loads_no_third_party_plugin(
    two_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NADER_LOAD_PLUGINS", "")
    runtime = build_runtime()
    assert [p.name for p in runtime.plugins] == ["nader"]
    assert ours(runtime.skipped) == ["nader-alpha", "Nader_Beta"]
    assert "Conv2d" in runtime.operators  # built-ins always load
    report = check_text(ALPHA_BLOCK, runtime.operators)
    assert not report.valid
    [error] = report.blocks[0].errors
    assert error.code == "undefined-operator" and "'AlphaOp' is not an operator" in error.message


def test_a_plugin_that_cannot_be_imported_is_reported_and_the_others_load(
    install_dist: Installer,
) -> None:
    install_dist(
        "nader-broken",
        modules_source={"broken_plugin": "import a_module_nobody_installed\n"},
        entry_points={"broken": "broken_plugin", "missing": "no_such_module"},
    )
    install_alpha(install_dist)
    runtime = build_runtime()
    assert "AlphaOp" in runtime.operators
    broken = runtime.plugin("nader-broken")
    assert broken.registered == {}
    assert broken.errors == [
        "cannot load entry point 'broken_plugin': ModuleNotFoundError: "
        "No module named 'a_module_nobody_installed'",
        "cannot load entry point 'no_such_module': ModuleNotFoundError: "
        "No module named 'no_such_module'",
    ]


def test_two_distributions_with_one_operator_name_clash_until_one_is_excluded(
    install_dist: Installer, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_alpha(install_dist)
    install_dist(
        "nader-alpha-fork",
        modules_source={"alpha_fork": ALPHA},
        entry_points={"alpha": "alpha_fork"},
    )
    with pytest.raises(PluginError) as caught:
        build_runtime()
    assert (
        "operator 'AlphaOp' is registered by both plugin 'nader-alpha' and plugin 'nader-alpha-fork'"
        in str(caught.value)
    )
    monkeypatch.setenv("NADER_LOAD_PLUGINS", "nader-alpha-fork")
    runtime = build_runtime()
    assert runtime.operators.get("AlphaOp").source == "nader-alpha-fork"
