"""A plugin's shape rule, cost rule or lowering that misbehaves yields an error, not a crash."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from plugin_helpers import make_plugin, operator

from nader.errors import BackendError
from nader.ir import Cost, ShapeProblem, TensorShape, check_text, default_registry
from nader.plugins import build_runtime
from nader.plugins.registries import Runtime

CELL = "##Cell##\n0:input\n1:output\n2:Odd\n0->2\n2->1\n"


def runtime_with_odd(**fields: Any) -> Runtime:
    lowering = fields.pop("lowering", None)

    def register_operators(register: Any) -> None:
        register(operator("Odd", **fields), lowering=lowering)

    plugin = make_plugin(register_operators=register_operators)
    return build_runtime(load_entry_points=False, extra_plugins=[("nader-odd", plugin)])


def crash(*args: Any) -> Any:
    raise KeyError("channels")


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"shape_rule": crash}, "its shape rule raised KeyError: 'channels'"),
        (
            {"shape_rule": lambda inputs, params: (2, 64, 32, 32)},
            "returned (2, 64, 32, 32), not a TensorShape",
        ),
        (
            {"shape_rule": lambda inputs, params: TensorShape((2, 64), (False,))},
            "not a TensorShape of integers",
        ),
        ({"cost_rule": crash}, "its cost rule raised KeyError"),
        ({"cost_rule": lambda i, o, p: Cost(params=-1)}, "not a Cost of non-negative integers"),
        ({"cost_rule": lambda i, o, p: 0}, "returned 0, not a Cost"),
    ],
)
def test_a_misbehaving_rule_becomes_a_diagnostic_naming_operator_and_plugin(
    fields: dict[str, Any], fragment: str
) -> None:
    report = check_text(CELL, runtime_with_odd(**fields).operators)
    [error] = report.blocks[0].errors
    assert (error.code, error.node) == ("plugin-error", 2)
    assert error.message.startswith("Odd (from plugin 'nader-odd'): ")
    assert fragment in error.message


def test_a_shape_problem_raised_on_purpose_passes_through() -> None:
    def picky(inputs: list[TensorShape], params: Mapping[str, Any]) -> TensorShape:
        raise ShapeProblem("odd-channels", "Odd needs an odd number of channels")

    [error] = check_text(CELL, runtime_with_odd(shape_rule=picky).operators).blocks[0].errors
    assert (error.code, error.message) == ("odd-channels", "Odd needs an odd number of channels")


def test_rules_and_lowerings_are_registered_as_written() -> None:
    """One guard per failure, where the node is known: nothing is wrapped at registration."""
    runtime = runtime_with_odd(shape_rule=crash, lowering=crash)
    assert runtime.operators.get("ReLU").shape_rule is default_registry().get("ReLU").shape_rule
    assert runtime.operators.get("Odd").shape_rule is crash
    assert runtime.lowerings["Odd"] is crash


def _build_odd(runtime: Runtime) -> Any:
    from nader.backends.fx_build import build_network
    from nader.backends.plan import NetworkPlanner
    from nader.backends.presets import dataset_preset
    from nader.backends.skeletons import skeleton_named
    from nader.ir import parse_network

    stem = (
        "##Cell_stem##\n0:input\n1:output\n2:Conv2d(out_channels=dim,kernel_size=3)\n0->2\n2->1\n"
    )
    down = stem.replace("_stem", "_downsample").replace("kernel_size=3", "kernel_size=3,stride=2")
    network = parse_network(CELL + stem + down)
    skeleton = skeleton_named("nader").with_depths((1, 1, 1))
    planner = NetworkPlanner(network, runtime.operators, skeleton, dataset_preset("cifar10"))
    return build_network(planner.plan(8), runtime.lowerings)


def test_a_crashing_lowering_is_a_backend_error_naming_node_and_plugin() -> None:
    pytest.importorskip("torch")
    runtime = runtime_with_odd(lowering=crash)
    with pytest.raises(
        BackendError,
        match=r"node 2: the lowering of operator 'Odd' \(from plugin 'nader-odd'\) raised KeyError",
    ) as caught:
        _build_odd(runtime)
    assert isinstance(caught.value.__cause__, KeyError)


def test_a_lowering_must_return_a_torch_module() -> None:
    torch = pytest.importorskip("torch")
    runtime = runtime_with_odd(lowering=lambda ctx: torch.relu)
    with pytest.raises(
        BackendError, match="returned builtin_function_or_method, not a torch.nn.Module"
    ):
        _build_odd(runtime)
    good = runtime_with_odd(lowering=lambda ctx: torch.nn.ReLU())
    assert _build_odd(good) is not None
