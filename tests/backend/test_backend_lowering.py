"""IR → torch.fx: padding semantics, shapes node by node, live B/H/W, plugin lowerings."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import torch
from backend_helpers import corpus_files, corpus_id, load, small_plan
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from nader import hookimpl
from nader.backends import layers
from nader.backends.fx_build import build_network, count_parameters, example_input
from nader.backends.lowering import (
    LoweringContext,
    builtin_lowerings,
    lower_avg_pool,
    lower_conv2d,
    lower_max_pool,
)
from nader.backends.nb201 import NB201_DOWNSAMPLE, NB201_STEM
from nader.backends.plan import NetworkPlanner
from nader.backends.presets import dataset_preset
from nader.backends.skeletons import skeleton_named
from nader.errors import BackendError
from nader.ir import OperatorSpec, parse_network
from nader.ir.expr import Const, Sym
from nader.plugins.manager import Runtime, build_runtime


def _context(op: str, params: dict[str, Any], shape: tuple[int, ...]) -> LoweringContext:
    return LoweringContext(
        op=op, params=params, exprs={}, input_shapes=(shape,), output_shape=shape
    )


@pytest.mark.parametrize(
    ("kernel", "stride", "dilation"),
    [
        (1, 1, 1),
        (2, 1, 1),
        (3, 1, 1),
        (2, 2, 1),
        (3, 2, 1),
        (4, 2, 1),
        (5, 3, 1),
        (3, 1, 2),
        (2, 1, 3),
        (7, 2, 1),
    ],
)
def test_conv_output_size_is_ceil_of_input_over_stride(
    kernel: int, stride: int, dilation: int
) -> None:
    for height, width in itertools.product((5, 8, 9, 16), (6, 7)):
        ctx = _context(
            "Conv2d",
            {
                "out_channels": 3,
                "kernel_size": kernel,
                "stride": stride,
                "dilation": dilation,
                "groups": 1,
                "bias": True,
            },
            (1, 2, height, width),
        )
        out = lower_conv2d(ctx)(torch.randn(1, 2, height, width))
        assert out.shape == (1, 3, -(-height // stride), -(-width // stride))


@pytest.mark.parametrize("lowering", [lower_max_pool, lower_avg_pool])
@pytest.mark.parametrize(("kernel", "stride"), [(2, 1), (2, 2), (3, 1), (3, 2), (4, 4), (1, 2)])
def test_pool_output_size_is_ceil_of_input_over_stride(
    lowering: Callable[[LoweringContext], nn.Module], kernel: int, stride: int
) -> None:
    for size in (7, 8, 15):
        module = lowering(
            _context("Pool", {"kernel_size": kernel, "stride": stride}, (1, 2, size, size))
        )
        assert module(torch.randn(1, 2, size, size)).shape == (
            1,
            2,
            -(-size // stride),
            -(-size // stride),
        )


def test_odd_kernels_use_torch_modules_and_even_ones_pad_asymmetrically() -> None:
    conv = {"out_channels": 4, "stride": 1, "dilation": 1, "groups": 1, "bias": False}
    assert (
        type(lower_conv2d(_context("Conv2d", {**conv, "kernel_size": 3}, (1, 4, 8, 8))))
        is nn.Conv2d
    )
    even = lower_conv2d(_context("Conv2d", {**conv, "kernel_size": 2}, (1, 4, 8, 8)))
    assert isinstance(even, layers.SameConv2d) and even.padding == (0, 0)
    # stride 1, kernel 2: one extra row/column after (the authors' crop of one row/column)
    assert layers.same_padding(8, 2, 1) == (0, 1)
    assert layers.same_padding(9, 2, 2) == (0, 1) and layers.same_padding(8, 2, 2) == (0, 0)
    # odd kernels with stride 2 pad like torch's padding=k//2 (the extra trailing one is unused)
    assert layers.same_padding(8, 3, 2) == (1, 0)
    assert layers.same_padding(9, 3, 2) == (1, 1)


def test_even_average_pool_averages_real_cells_only() -> None:
    x = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out = layers.SameAvgPool2d(2, 1)(x)
    # last column/row windows see 2 (or 1) real cells, not zeros
    assert out[0, 0, 0].tolist() == [3.0, 4.0, 4.5]
    assert out[0, 0, 2].tolist() == [7.5, 8.5, 9.0]
    torch.testing.assert_close(
        layers.SameAvgPool2d(3, 1)(x), nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x)
    )


@pytest.mark.parametrize("path", corpus_files(), ids=corpus_id)
def test_every_node_has_the_shape_the_ir_inferred(path: Path, runtime: Runtime) -> None:
    plan = small_plan(load(path), runtime.operators)
    module = build_network(plan, runtime.lowerings).eval()  # batch 1 at 1x1 pixels: BN needs eval
    module.graph.lint()
    for batch in (1, 3):
        images = example_input(plan, batch=batch)
        ShapeProp(module).propagate(images)
        for node in module.graph.nodes:
            if node.op == "call_module":
                instance = next(i for i in plan if i.name == node.target)
                block = module.get_submodule(node.target)
                assert isinstance(block, torch.fx.GraphModule)
                block.graph.lint()
                inputs = [arg.meta["tensor_meta"].shape for arg in node.args]
                assert [tuple(s)[1:] for s in inputs] == [s[1:] for s in instance.input_shapes]
                ShapeProp(block).propagate(*(torch.randn(*s) for s in inputs))
                for inner in block.graph.nodes:
                    if inner.op == "call_module":
                        node_id = int(inner.target.rsplit("_", 1)[1])
                        got = tuple(inner.meta["tensor_meta"].shape)
                        want = instance.shapes[node_id].dims
                        # the IR probes batch 1; every corpus tensor keeps the batch first
                        assert got == (batch, *want[1:]), inner.target


ATTENTION_CELL = """\
##Attention##
0:input
1:output
2:reshape(B,C,H*W)
3:permute(0,2,1)
4:Linear(out_channels=C)
5:softmax(dim=1)
6:permute(0,2,1)
7:reshape(B,C,H,W)
8:Mul
9:repeat(1,1,1,1)
10:Add
0->2
2->3
3->4
4->5
5->6
6->7
7->8
0->8
8->9
9->10
0->10
10->1
"""


def _attention_network(
    runtime: Runtime, lowerings: Mapping[str, Any] | None = None
) -> tuple[Any, Any]:
    network = parse_network(ATTENTION_CELL + NB201_STEM + NB201_DOWNSAMPLE)
    planner = NetworkPlanner(
        network,
        runtime.operators,
        skeleton_named("nader").with_depths((1, 1, 1)),
        dataset_preset("cifar10"),
    )
    plan = planner.plan(8)
    return plan, build_network(plan, runtime.lowerings if lowerings is None else lowerings)


def test_reshape_reads_batch_and_image_size_from_the_live_tensor(runtime: Runtime) -> None:
    plan, module = _attention_network(runtime)
    for batch in (1, 4):
        assert module(example_input(plan, batch=batch)).shape == (batch, 10)
    cell = module.get_submodule("stage1_cell1")
    # a cell does not care about the image size it was planned at: H, W are read when it runs
    x = torch.randn(2, 8, 6, 10)
    out = cell(x)
    assert out.shape == x.shape
    tokens = x.reshape(2, 8, 60).permute(0, 2, 1)
    linear = cell.get_submodule("linear_4")
    attention = torch.softmax(linear(tokens), dim=1).permute(0, 2, 1).reshape(2, 8, 6, 10)
    torch.testing.assert_close(out, attention * x + x)


def test_contexts_carry_evaluated_sizes_and_live_expressions(runtime: Runtime) -> None:
    seen: dict[str, LoweringContext] = {}

    def recording(
        name: str, lowering: Callable[[LoweringContext], nn.Module]
    ) -> Callable[[LoweringContext], nn.Module]:
        def lower(ctx: LoweringContext) -> nn.Module:
            seen.setdefault(name, ctx)
            return lowering(ctx)

        return lower

    table = {name: recording(name, fn) for name, fn in runtime.lowerings.items()}
    _attention_network(runtime, table)
    reshape = seen["reshape"]  # the first one: stage 1, C = 8, at the 32x32 probe
    assert reshape.params["dims"] == (1, 8, 32 * 32)
    assert reshape.exprs["dims"][0] == Sym("B") and reshape.exprs["dims"][1] == Const(8)
    assert "H" in str(reshape.exprs["dims"][2]) and reshape.input_shapes == ((1, 8, 32, 32),)
    linear = seen["Linear"]
    assert linear.params == {"out_channels": 8, "bias": True}
    assert linear.input_shapes == ((1, 1024, 8),) and linear.output_shape == (1, 1024, 8)
    conv = seen["Conv2d"]  # NB201's stem: Conv2d(out_channels=dim, 3, bias=False)
    assert conv.params["out_channels"] == 8 and conv.exprs["out_channels"] == Const(8)
    assert conv.params["bias"] is False


def test_builtin_lowerings_cover_every_builtin_operator(runtime: Runtime) -> None:
    names = {spec.name for spec in runtime.operators} - {"input", "input1", "input2", "output"}
    assert set(builtin_lowerings()) == names
    assert set(runtime.lowerings) == names


# ------------------------------------------------------------------------------ plugin operators


class _Scale2:
    """A third-party plugin: the operator ``Double`` (x * 2), lowered to its own module."""

    class Module(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2

    @hookimpl
    def register_operators(self, register: Callable[..., None]) -> None:
        spec = OperatorSpec("Double", shape_rule=lambda inputs, params: inputs[0], summary="x * 2")
        register(spec, lowering=lambda ctx: _Scale2.Module())


class _NoLowering:
    @hookimpl
    def register_operators(self, register: Callable[..., None]) -> None:
        register(OperatorSpec("Halve", shape_rule=lambda inputs, params: inputs[0]))


def _plugin_network(op: str) -> Any:
    return parse_network(
        f"##Cell##\n0:input\n1:output\n2:{op}\n3:Add\n0->2\n2->3\n0->3\n3->1\n"
        + NB201_STEM
        + NB201_DOWNSAMPLE
    )


def test_plugin_operators_lower_through_the_same_table() -> None:
    runtime = build_runtime(load_entry_points=False, extra_plugins=[("scale2", _Scale2())])
    planner = NetworkPlanner(
        _plugin_network("Double"),
        runtime.operators,
        skeleton_named("nb201").with_depths((1, 1, 1)),
        dataset_preset("cifar10"),
    )
    module = build_network(planner.plan(8), runtime.lowerings)
    cell = module.get_submodule("stage1_cell1")
    assert isinstance(cell.get_submodule("double_2"), _Scale2.Module)
    x = torch.randn(2, 8, 4, 4)
    torch.testing.assert_close(cell(x), 3 * x)
    assert count_parameters(module) == planner.plan(8).cost.params


def test_missing_lowering_names_the_operator_and_node() -> None:
    runtime = build_runtime(load_entry_points=False, extra_plugins=[("halve", _NoLowering())])
    planner = NetworkPlanner(
        _plugin_network("Halve"),
        runtime.operators,
        skeleton_named("nb201").with_depths((1, 1, 1)),
        dataset_preset("cifar10"),
    )
    with pytest.raises(
        BackendError,
        match=r"stage1_cell1 \(Cell\) node 2: operator 'Halve' \(from plugin 'halve'\) has no torch lowering",
    ):
        build_network(planner.plan(8), runtime.lowerings)


def test_a_failing_lowering_is_reported_with_its_node(runtime: Runtime) -> None:
    def broken(ctx: LoweringContext) -> nn.Module:
        raise RuntimeError("boom")

    table = {**runtime.lowerings, "Add": broken}
    with pytest.raises(
        BackendError,
        match=r"node 10: the lowering of operator 'Add' \(from plugin 'nader'\) raised RuntimeError: boom",
    ):
        _attention_network(runtime, table)


def test_drop_path_is_identity_at_inference_and_drops_samples_in_training() -> None:
    module = layers.DropPath(0.5)
    x = torch.ones(64, 3, 2, 2)
    assert torch.equal(module.eval()(x), x)
    torch.manual_seed(0)
    out = module.train()(x)
    kept = out.flatten(1).amax(dim=1)
    assert set(kept.tolist()) == {0.0, 2.0}
