"""The runtime factory with in-test plugins: built-ins, every hook, clashes, crashes, bad items."""

from __future__ import annotations

from typing import Any

import pytest
from plugin_helpers import make_plugin, naming, operator, registering
from pydantic import BaseModel

from nader import hookimpl
from nader.errors import PluginError
from nader.ir import OpParams, builtin_operator_specs
from nader.plugins import HOOK_NAMES, build_runtime
from nader.plugins import manager as manager_module

FACTORY_HOOKS = [name for name in HOOK_NAMES if name != "register_operators"]


def runtime_with(*plugins: tuple[str, Any]):  # type: ignore[no-untyped-def]
    return build_runtime(load_entry_points=False, extra_plugins=plugins)


def test_builtin_operators_arrive_through_the_hook() -> None:
    runtime = runtime_with()
    expected = [spec.name for spec in builtin_operator_specs()]
    assert runtime.operators.names() == expected
    assert {spec.source for spec in runtime.operators} == {"nader"}
    builtin = runtime.plugin("nader")
    assert builtin.builtin and builtin.registered["operators"] == expected
    assert builtin.loaded_from == list(manager_module.BUILTIN_PLUGIN_MODULES)
    assert runtime.errors == []


def test_every_call_builds_its_own_manager_and_registries() -> None:
    first = runtime_with(("alpha", make_plugin(register_operators=registering(operator("Swish")))))
    second = runtime_with()
    assert "Swish" in first.operators and "Swish" not in second.operators
    assert first.plugin_manager is not second.plugin_manager
    assert [p.name for p in second.plugins] == ["nader"]


def test_each_hook_fills_its_own_registry() -> None:
    torch = pytest.importorskip("torch")

    def register_operators(register: Any) -> None:
        register(operator("Swish"), lowering=lambda ctx: torch.nn.Identity())

    plugin = make_plugin(
        register_operators=register_operators,
        register_llm_providers=naming("echo"),
        register_search_policies=naming("newest"),
        register_datasets=naming("tiny"),
        register_embedders=naming("alpha-embedder"),
        register_executors=naming("inline"),
    )
    runtime = runtime_with(("alpha", plugin))
    info = runtime.plugin("alpha")
    assert info.errors == []
    assert info.registered == {
        "operators": ["Swish"],
        "llm_providers": ["echo"],
        "search_policies": ["newest"],
        "datasets": ["tiny"],
        "embedders": ["alpha-embedder"],
        "executors": ["inline"],
    }
    assert runtime.operators.get("Swish").source == "alpha"
    assert isinstance(runtime.lowerings["Swish"]("ctx"), torch.nn.Identity)
    for table, name in [
        (runtime.llm_providers, "echo"),
        (runtime.search_policies, "newest"),
        (runtime.datasets, "tiny"),
        (runtime.embedders, "alpha-embedder"),
        (runtime.executors, "inline"),
    ]:
        assert table.get(name) is dict and table.owner(name) == "alpha"
    with pytest.raises(PluginError, match="no dataset named 'huge'; available: .*tiny"):
        runtime.datasets.get("huge")


# ------------------------------------------------------------------------------ duplicate names


def test_two_plugins_registering_one_operator_name_is_an_error_naming_both() -> None:
    alpha = make_plugin(register_operators=registering(operator("Swish")))
    beta = make_plugin(register_operators=registering(operator("Swish")))
    with pytest.raises(PluginError) as caught:
        runtime_with(("alpha", alpha), ("beta", beta))
    message = str(caught.value)
    assert "operator 'Swish' is registered by both plugin 'alpha' and plugin 'beta'" in message
    assert "NADER_LOAD_PLUGINS" in message


@pytest.mark.parametrize(
    ("name", "aliases", "expected"),
    [
        ("conv2d", (), "operator 'conv2d' is registered by both plugin 'nader' (as 'Conv2d')"),
        (
            "MyNorm",
            ("batchnorm2d",),
            "'batchnorm2d' is registered by both plugin 'nader' (as 'BN')",
        ),
    ],
)
def test_a_plugin_cannot_take_a_builtin_name_in_another_case_or_as_an_alias(
    name: str, aliases: tuple[str, ...], expected: str
) -> None:
    plugin = make_plugin(register_operators=registering(operator(name, aliases=aliases)))
    with pytest.raises(PluginError, match="registered by both") as caught:
        runtime_with(("alpha", plugin))
    assert expected in str(caught.value)


@pytest.mark.parametrize("hook_name", FACTORY_HOOKS)
def test_two_plugins_registering_one_factory_name_is_an_error_naming_both(hook_name: str) -> None:
    alpha = make_plugin(**{hook_name: naming("shared")})
    beta = make_plugin(**{hook_name: naming("shared")})
    with pytest.raises(PluginError) as caught:
        runtime_with(("alpha", alpha), ("beta", beta))
    assert "'shared' is registered by both plugin 'alpha' and plugin 'beta'" in str(caught.value)


def test_one_plugin_registering_a_name_twice_is_an_error() -> None:
    plugin = make_plugin(
        register_operators=registering(operator("Swish"), operator("swish")),
        register_llm_providers=naming("echo", "echo"),
    )
    with pytest.raises(PluginError) as caught:
        runtime_with(("alpha", plugin))
    message = str(caught.value)
    assert "plugin 'alpha' registers operator 'swish' twice" in message
    assert "plugin 'alpha' registers LLM provider 'echo' twice" in message


# ----------------------------------------------------------------------------- crashing plugins


def test_a_crashing_hook_is_rolled_back_and_the_rest_keeps_working() -> None:
    def register_operators(register: Any) -> None:
        register(operator("Swish"))
        raise RuntimeError("lost my weights file")

    crashing = make_plugin(
        register_operators=register_operators, register_search_policies=naming("newest")
    )
    healthy = make_plugin(register_operators=registering(operator("Mish")))
    runtime = runtime_with(("crashy", crashing), ("healthy", healthy))
    assert "Swish" not in runtime.operators
    assert "Mish" in runtime.operators and "Conv2d" in runtime.operators
    assert "newest" in runtime.search_policies  # its other hook still ran
    assert runtime.errors == [
        "crashy: register_operators raised RuntimeError: lost my weights file; "
        "the 1 item(s) it had registered were dropped"
    ]
    assert runtime.plugin("crashy").registered == {"search_policies": ["newest"]}


def test_a_builtin_module_that_fails_to_import_leaves_the_others_working(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    modules = (*manager_module.BUILTIN_PLUGIN_MODULES, "nader.plugins.no_such_builtin")
    monkeypatch.setattr(manager_module, "BUILTIN_PLUGIN_MODULES", modules)
    runtime = runtime_with()
    assert "Conv2d" in runtime.operators
    assert len(runtime.errors) == 1
    assert runtime.errors[0].startswith(
        "nader: cannot import built-in module nader.plugins.no_such_builtin: ModuleNotFoundError"
    )


# ---------------------------------------------------------------------------- malformed items


class LooseParams(BaseModel):  # not an OpParams: unknown keys would pass silently
    size: int = 1


class SizeParams(OpParams):
    size: int = 1


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (
            {"name": "Swish"},
            "registered {'name': 'Swish'} as an operator; register_operators takes",
        ),
        (
            operator("Hard Swish"),
            "invalid operator 'Hard Swish': name 'Hard Swish' is not an identifier",
        ),
        (operator("Swish", shape_rule="x"), "invalid operator 'Swish': shape_rule is not callable"),
        (operator("Swish", params=LooseParams), "params must be a subclass of nader.ir.OpParams"),
        (
            operator("Swish", params=SizeParams, positional=("sise",)),
            "positional names ['sise'] that are not parameters (['size'])",
        ),
        (operator("Swish", min_inputs=2, max_inputs=1), "max_inputs must be None or an integer"),
        (operator("Source", min_inputs=0, max_inputs=0), "an operator takes at least one input"),
        (operator("Swish", aliases=("hard-swish",)), "aliases ['hard-swish'] are not identifiers"),
        (operator("Swish", aliases=None), "a field has the wrong type (TypeError"),
    ],
)
def test_a_malformed_operator_is_refused_and_the_plugins_others_kept(bad: Any, reason: str) -> None:
    plugin = make_plugin(register_operators=registering(operator("GoodOp"), bad, operator("Mish")))
    runtime = runtime_with(("sloppy", plugin))
    assert "GoodOp" in runtime.operators and "Mish" in runtime.operators
    assert "Swish" not in runtime.operators and "Source" not in runtime.operators
    assert runtime.plugin("sloppy").registered == {"operators": ["GoodOp", "Mish"]}
    [error] = runtime.errors
    assert error.startswith("sloppy: ")
    assert reason in error


def test_a_lowering_that_is_not_callable_refuses_the_operator() -> None:
    def register_operators(register: Any) -> None:
        register(operator("Swish"), lowering="torch.nn.Hardswish")

    runtime = runtime_with(("sloppy", make_plugin(register_operators=register_operators)))
    assert "Swish" not in runtime.operators and "Swish" not in runtime.lowerings
    assert runtime.errors == [
        "sloppy: registered an invalid operator 'Swish': lowering 'torch.nn.Hardswish' is not callable"
    ]


@pytest.mark.parametrize(
    ("name", "factory", "reason"),
    [
        ("echo", 42, "registered LLM provider 'echo' with 42, not a factory"),
        ("", dict, "registered a LLM provider with an invalid name ''"),
        (" echo", dict, "registered a LLM provider with an invalid name ' echo'"),
        (None, dict, "registered a LLM provider with an invalid name None"),
    ],
)
def test_an_invalid_factory_is_refused(name: Any, factory: Any, reason: str) -> None:
    def register_llm_providers(register: Any) -> None:
        register(name, factory)
        register("kept", dict)

    runtime = runtime_with(("sloppy", make_plugin(register_llm_providers=register_llm_providers)))
    assert runtime.plugin("sloppy").registered.get("llm_providers") == ["kept"]
    assert "kept" in runtime.llm_providers and name not in runtime.llm_providers.names()
    assert runtime.errors == [f"sloppy: {reason}"]


# ---------------------------------------------------------------------- mistakes pluggy accepts


def test_a_misspelt_hook_is_reported_with_a_suggestion() -> None:
    runtime = runtime_with(("typo", make_plugin(register_operator=registering(operator("Swish")))))
    assert "Swish" not in runtime.operators
    [error] = runtime.errors
    assert (
        "typo: implements unknown hook 'register_operator' (did you mean 'register_operators'?)"
        in error
    )


def test_an_unmarked_hook_function_is_reported() -> None:
    class Unmarked:
        @staticmethod
        def register_operators(register: Any) -> None:
            register(operator("Swish"))

    runtime = runtime_with(("unmarked", Unmarked()))
    assert "Swish" not in runtime.operators
    assert runtime.errors == [
        "unmarked: defines register_operators without the @nader.hookimpl marker, so it is never called"
    ]


def test_a_hook_with_the_wrong_argument_name_is_not_loaded() -> None:
    class WrongArgument:
        @hookimpl
        def register_operators(self, registry: Any) -> None:
            registry(operator("Swish"))

        @hookimpl
        def register_search_policies(self, register: Any) -> None:
            register("newest", dict)

    runtime = runtime_with(("wrong", WrongArgument()))
    assert "Swish" not in runtime.operators and "newest" not in runtime.search_policies
    [error] = runtime.errors
    assert error.startswith("wrong: not loaded:") and "registry" in error
    assert runtime.plugin_manager.get_plugin("wrong") is None


def test_a_hook_returning_its_items_is_told_to_call_register() -> None:
    def register_operators(register: Any) -> list[Any]:
        return [operator("Swish")]

    runtime = runtime_with(("returner", make_plugin(register_operators=register_operators)))
    assert "Swish" not in runtime.operators
    assert runtime.errors == [
        "returner: register_operators returned list; hooks return nothing and call "
        "register(...) once per item"
    ]


def test_a_hook_wrapper_is_refused() -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def register_operators(self, register: Any) -> Any:
            register(operator("Swish"))
            return (yield)

    runtime = runtime_with(("wrapper", Wrapper()))
    assert "Swish" not in runtime.operators
    assert runtime.errors == [
        "wrapper: register_operators is a hook wrapper, which nader does not support"
    ]


def test_a_crash_after_an_invalid_item_reports_both() -> None:
    def register_operators(register: Any) -> None:
        register(operator("Bad Name"))
        raise ValueError("gave up")

    runtime = runtime_with(("sloppy", make_plugin(register_operators=register_operators)))
    assert runtime.plugin("sloppy").registered == {}
    assert runtime.errors == [
        "sloppy: registered an invalid operator 'Bad Name': name 'Bad Name' is not an identifier",
        "sloppy: register_operators raised ValueError: gave up",
    ]
