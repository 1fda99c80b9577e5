"""A plugin operator gets what a built-in one gets: parsing, checking, costs, hashing, printing,
lowering. The example plugin (HardSwish) is imported from its source tree here; its installed
form is tested in ``test_installed_example.py``.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from typing import Any

import pytest
from plugin_helpers import EXAMPLE_BLOCK, Installer, make_plugin, registering

from nader.cli.main import main
from nader.ir import (
    Cost,
    OperatorSpec,
    OpParams,
    ShapeProblem,
    TensorShape,
    canonical_hash,
    check_text,
    parse_block,
    print_block,
)
from nader.ir.ops import Size
from nader.plugins import build_runtime
from nader.plugins.registries import Runtime


def with_example(example_module: Any) -> Runtime:
    return build_runtime(
        load_entry_points=False, extra_plugins=[("nader-plugin-example", example_module)]
    )


# ---------------------------------------------------------------------- the example: HardSwish


def test_a_block_using_hardswish_checks_like_its_relu_twin(example_module: Any) -> None:
    runtime = with_example(example_module)
    text = EXAMPLE_BLOCK.read_text()
    report = check_text(text, runtime.operators)
    twin = check_text(text.replace("HardSwish", "ReLU"), runtime.operators)
    assert report.valid, [str(e) for block in report.blocks for e in block.errors]
    cell, relu_cell = report.blocks[0], twin.blocks[0]
    assert (cell.output_shape, cell.params, cell.flops) == (
        relu_cell.output_shape,
        relu_cell.params,
        relu_cell.flops,
    )
    assert cell.params > 0 and cell.hash != relu_cell.hash


def test_without_the_plugin_hardswish_is_an_undefined_operator() -> None:
    report = check_text(EXAMPLE_BLOCK.read_text(), build_runtime(load_entry_points=False).operators)
    cell = report.blocks[0]
    assert not cell.valid
    assert [(e.code, e.node) for e in cell.errors] == [
        ("undefined-operator", 4),
        ("undefined-operator", 8),
    ]
    assert "'HardSwish' is not an operator" in cell.errors[0].message


def test_the_hardswish_lowering_is_torch_hardswish(example_module: Any) -> None:
    torch = pytest.importorskip("torch")
    module = with_example(example_module).lowerings["HardSwish"](None)
    assert isinstance(module, torch.nn.Hardswish)
    x = torch.linspace(-5, 5, 11)
    assert torch.allclose(module(x), x * torch.clamp(x + 3, 0, 6) / 6)


@pytest.mark.skipif(
    importlib.util.find_spec("nader.backends") is None
    or importlib.util.find_spec("nader.backends.lowering") is None,
    reason="nader.backends.lowering is not in this build yet",
)
def test_a_block_using_hardswish_compiles(
    example_module: Any, install_dist: Installer, capsys: pytest.CaptureFixture[str]
) -> None:
    install_dist(
        "nader-plugin-example",
        modules_source={},
        entry_points={"example": "nader_plugin_example"},
    )
    assert main(["compile", str(EXAMPLE_BLOCK), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["params"] > 0 and result["flops"] > 0


# ------------------------------------------------- a parametrised plugin operator, end to end


class ShuffleParams(OpParams):
    groups: Size


def shuffle_shape(inputs: list[TensorShape], params: Mapping[str, Any]) -> TensorShape:
    channels, groups = inputs[0].dims[1], params["groups"]
    if channels % groups:
        raise ShapeProblem(
            "shuffle-groups", f"ChannelShuffle groups={groups} must divide the {channels} channels"
        )
    return inputs[0]


def scale_cost(inputs: list[TensorShape], output: TensorShape, params: Mapping[str, Any]) -> Cost:
    return Cost(params=inputs[0].dims[1])  # one learnable scale per channel


def elementwise_max(inputs: list[TensorShape], params: Mapping[str, Any]) -> TensorShape:
    if inputs[0] != inputs[1]:
        raise ShapeProblem(
            "shape-mismatch", f"Max2 needs equal shapes, got {inputs[0]} and {inputs[1]}"
        )
    return inputs[0]


SHUFFLE = OperatorSpec(
    "ChannelShuffle",
    shuffle_shape,
    ShuffleParams,
    positional=("groups",),
    positive=("groups",),
    summary="interleave channel groups",
    example="ChannelShuffle(groups=4)",
)
SCALE = OperatorSpec("Scale", lambda inputs, params: inputs[0], cost_rule=scale_cost)
MAX2 = OperatorSpec(
    "Max2", elementwise_max, min_inputs=2, max_inputs=2, commutative=True, summary="max of two"
)


@pytest.fixture
def runtime() -> Runtime:
    plugin = make_plugin(register_operators=registering(SHUFFLE, SCALE, MAX2))
    return build_runtime(load_entry_points=False, extra_plugins=[("nader-extras", plugin)])


def cell_with(node: str) -> str:
    return f"##Cell##\n0:input\n1:output\n2:{node}\n0->2\n2->1\n"


@pytest.mark.parametrize(
    ("node", "code", "fragment"),
    [
        ("ChannelShuffle(groups=3)", "shuffle-groups", "groups=3 must divide the 64 channels"),
        (
            "ChannelShuffle(groups=4,group=4)",
            "unknown-parameter",
            "ChannelShuffle has no parameter 'group'",
        ),
        ("ChannelShuffle()", "missing-parameter", "ChannelShuffle needs parameter 'groups'"),
        ("ChannelShuffle(groups=C-C)", "non-positive-size", "'groups' evaluates to 0"),
        ("channelshuffle(4,2)", "invalid-parameter", "at most 1 positional arguments"),
    ],
)
def test_plugin_operator_parameters_are_checked_like_builtin_ones(
    runtime: Runtime, node: str, code: str, fragment: str
) -> None:
    [error] = check_text(cell_with(node), runtime.operators).blocks[0].errors
    assert (error.code, error.node) == (code, 2)
    assert fragment in error.message


def test_plugin_operator_accepts_positional_and_symbolic_arguments(runtime: Runtime) -> None:
    for node in ("ChannelShuffle(4)", "ChannelShuffle(groups=C/16)", "channelshuffle(groups=2)"):
        assert check_text(cell_with(node), runtime.operators).valid, node


def test_plugin_operator_costs_add_to_the_block(runtime: Runtime) -> None:
    conv = check_text(cell_with("Conv2d(out_channels=C,kernel_size=1)"), runtime.operators)
    text = (
        "##Cell##\n0:input\n1:output\n2:Conv2d(out_channels=C,kernel_size=1)\n3:Scale\n"
        "0->2\n2->3\n3->1\n"
    )
    scaled = check_text(text, runtime.operators).blocks[0]
    assert scaled.params == conv.blocks[0].params + 64  # C = 64 at the default probe


def test_plugin_operator_hashing_and_printing(runtime: Runtime) -> None:
    left = "##Cell##\n0:input\n1:output\n2:ReLU\n3:Sigmoid\n4:Max2\n0->2\n0->3\n2,3->4\n4->1\n"
    right = left.replace("2,3->4", "3,2->4")
    registry = runtime.operators
    assert canonical_hash(parse_block(left), registry) == canonical_hash(
        parse_block(right), registry
    )
    printed = print_block(parse_block(left), registry)
    assert "Max2" in printed
    assert canonical_hash(parse_block(printed), registry) == canonical_hash(
        parse_block(left), registry
    )
    shuffle = print_block(parse_block(cell_with("ChannelShuffle(4)")), registry)
    assert "ChannelShuffle(groups=4)" in shuffle
