"""Export: generated PyTorch source (run in a subprocess, never imported here) and ONNX."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from backend_helpers import load
from torch import nn

from nader import hookimpl
from nader.backends.export import export_onnx, network_source, python_expr
from nader.backends.fx_build import build_network, example_input
from nader.backends.nb201 import NB201_DOWNSAMPLE, NB201_STEM, arch_to_network_text
from nader.backends.plan import NetworkPlan, NetworkPlanner
from nader.backends.presets import dataset_preset
from nader.backends.skeletons import skeleton_named
from nader.errors import BackendError
from nader.ir import OperatorSpec, parse_network
from nader.ir.parser import parse_block
from nader.plugins.manager import Runtime, build_runtime

EVEN_KERNELS = """\
##EvenKernels##
0:input
1:output
2:Conv2d(out_channels=C,kernel_size=2,stride=1)
3:MaxPool2d(kernel_size=2,stride=1)
4:AvgPool2d(kernel_size=2,stride=1)
5:Add
6:DropPath(drop_prob=0.2)
7:mean(dim=(2,3),keepdim=True)
8:Sigmoid
9:Mul
10:concat(dim=1)
11:Conv2d(out_channels=C,kernel_size=1,groups=2,bias=False)
12:GELU
0->2
2->3
0->4
3->5
4->5
5->6
6->7
7->8
6->9
8->9
9->10
0->10
10->11
11->12
12->1
##EvenKernels_stem##
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=4,stride=4)
3:BN
0->2
2->3
3->1
##EvenKernels_downsample##
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=2,stride=2)
3:BN
4:max(dim=1,keepdim=True)
5:softmax(dim=1)
6:Mul
0->2
2->3
3->4
4->5
5->6
3->6
6->1
"""
NB201_EXAMPLE = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|"
)


def _plan(
    runtime: Runtime, network_text_or_path: str | Path, skeleton: str, dataset: str, width: int
) -> NetworkPlan:
    network = (
        load(network_text_or_path)
        if isinstance(network_text_or_path, Path)
        else parse_network(network_text_or_path)
    )
    base = skeleton_named(skeleton)
    planner = NetworkPlanner(
        network,
        runtime.operators,
        base.with_depths((1,) * len(base.depths)),
        dataset_preset(dataset),
    )
    return planner.plan(width)


@pytest.fixture(scope="module")
def plans(corpus_blocks: Path, runtime: Runtime) -> dict[str, NetworkPlan]:
    return {
        "resnet": _plan(
            runtime, corpus_blocks / "nas-bench-201" / "resnet_basic.txt", "nader", "cifar100", 8
        ),
        "shufflenet": _plan(
            runtime, corpus_blocks / "blocks-cifar" / "block_4.txt", "nader", "cifar10", 32
        ),
        "convnext": _plan(
            runtime, corpus_blocks / "blocks-cifar" / "block_6.txt", "nader", "cifar10", 8
        ),
        "squeeze_excite": _plan(
            runtime, corpus_blocks / "blocks-cifar" / "block_7.txt", "nader", "cifar10", 16
        ),
        "darts": _plan(runtime, corpus_blocks / "darts" / "dartsv2.txt", "darts", "cifar10", 8),
        "nb201": _plan(runtime, arch_to_network_text(NB201_EXAMPLE), "nb201", "ImageNet16-120", 8),
        "even_kernels": _plan(runtime, EVEN_KERNELS, "imagenet", "imagenet", 8),
    }


_RUNNER = textwrap.dedent(
    """
    import importlib.util, sys, torch
    for folder in sys.argv[1:]:
        spec = importlib.util.spec_from_file_location("generated_model", folder + "/model.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        network = module.Network()  # constructible without arguments
        data = torch.load(folder + "/data.pt")
        network.load_state_dict(data["state"])  # same names as nader's module
        network.eval()
        with torch.no_grad():
            torch.save({"out": network(data["images"]), "params": sum(p.numel() for p in network.parameters())}, folder + "/out.pt")
    """
)


def test_generated_source_computes_what_the_compiled_module_computes(
    plans: dict[str, NetworkPlan], runtime: Runtime, tmp_path: Path
) -> None:
    folders: list[str] = []
    expected: dict[str, torch.Tensor] = {}
    for name, plan in plans.items():
        module = build_network(plan, runtime.lowerings).eval()
        source = network_source(plan, module, source=f"{name}.txt")
        tree = ast.parse(source)
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        imported |= {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert imported <= {"__future__", "torch", "torch.nn", "torch.nn.functional"}, imported
        assert "nader" not in imported
        folder = tmp_path / name
        folder.mkdir()
        (folder / "model.py").write_text(source)
        images = example_input(plan, batch=3)
        with torch.no_grad():
            expected[name] = module(images)
        torch.save({"state": module.state_dict(), "images": images}, folder / "data.pt")
        folders.append(str(folder))
    completed = subprocess.run(
        [sys.executable, "-c", _RUNNER, *folders], capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    for name, plan in plans.items():
        result = torch.load(tmp_path / name / "out.pt")
        assert result["params"] == plan.cost.params, name
        torch.testing.assert_close(result["out"], expected[name], rtol=1e-5, atol=1e-5, msg=name)


def test_generated_source_reads_like_pytorch(
    plans: dict[str, NetworkPlan], runtime: Runtime
) -> None:
    plan = plans["shufflenet"]
    source = network_source(plan, build_network(plan, runtime.lowerings), class_name="ShuffleNet")
    assert "class ShuffleNet(nn.Module):" in source
    assert "self.conv2d_2 = nn.Conv2d(32, 8, kernel_size=1, groups=4)" in source
    assert "B, H, W = x.shape[0], x.shape[-2], x.shape[-1]" in source
    assert "reshape(B, 2, 4, H, W)" in source and ".permute(0, 2, 1, 3, 4)" in source
    # one class per distinct (block, sizes): five stages' worth of blocks, not one per instance
    classes = [line for line in source.splitlines() if line.startswith("class ")]
    blocks = [line for line in classes if not line.startswith(("class Same", "class ShuffleNet("))]
    assert len(blocks) == len({(i.block.name, i.probe.channels, i.probe.dim) for i in plan})
    assert "class SameAvgPool2d(nn.Module):" in classes  # the downsample's AvgPool2d(2, 2)
    even = plans["even_kernels"]
    even_source = network_source(even, build_network(even, runtime.lowerings))
    for helper in (
        "def same_padding",
        "class SameConv2d",
        "class SameMaxPool2d",
        "class SameAvgPool2d",
        "class DropPath",
    ):
        assert helper in even_source


@pytest.mark.parametrize("name", ["resnet", "shufflenet", "darts", "even_kernels"])
def test_onnx_export_runs_in_onnxruntime(
    name: str, plans: dict[str, NetworkPlan], runtime: Runtime, tmp_path: Path
) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    plan = plans[name]
    module = build_network(plan, runtime.lowerings).eval()
    path = tmp_path / "model.onnx"
    export_onnx(module, (1, *plan.input_shape[1:]), path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    images = example_input(plan, batch=2)  # another batch size than the exported one
    (logits,) = session.run(None, {"images": images.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(logits, module(images).numpy(), rtol=1e-4, atol=1e-4)


def test_python_expressions_keep_their_meaning() -> None:
    cell = parse_block("##c##\n0:input\n1:output\n2:reshape(B,C/4/4,(H-1)*W+W,-1)\n0->2\n2->1\n")
    dims = cell.nodes[2].args
    assert [python_expr(d) for d in dims] == ["B", "C // 4 // 4", "(H - 1) * W + W", "-1"]
    env = {"B": 2, "C": 64, "H": 5, "W": 3}
    for expr, text in zip(dims, ["B", "C // 4 // 4", "(H - 1) * W + W", "-1"], strict=True):
        from nader.ir.expr import evaluate

        assert evaluate(expr, env) == _arithmetic(text, env)


def _arithmetic(text: str, env: dict[str, int]) -> int:
    """Evaluate our own printer's output with a tiny AST walker (no eval)."""
    ops: dict[type, Callable[[int, int], int]] = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.FloorDiv: lambda a, b: a // b,
    }

    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.BinOp):
            return ops[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.Name):
            return env[node.id]
        assert isinstance(node, ast.Constant)
        return int(node.value)

    return walk(ast.parse(text, mode="eval").body)


class _PluginOps:
    class Custom(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + 1

    @hookimpl
    def register_operators(self, register: Callable[..., None]) -> None:
        register(
            OperatorSpec("Swish", shape_rule=lambda i, p: i[0]), lowering=lambda ctx: nn.Hardswish()
        )
        register(
            OperatorSpec("PlusOne", shape_rule=lambda i, p: i[0]),
            lowering=lambda ctx: _PluginOps.Custom(),
        )


def _plugin_plan(runtime: Runtime, op: str) -> NetworkPlan:
    text = f"##Cell##\n0:input\n1:output\n2:{op}\n0->2\n2->1\n" + NB201_STEM + NB201_DOWNSAMPLE
    return _plan(runtime, text, "nb201", "cifar10", 8)


def test_plugin_modules_export_when_torch_names_them() -> None:
    runtime = build_runtime(load_entry_points=False, extra_plugins=[("plugin-ops", _PluginOps())])
    plan = _plugin_plan(runtime, "Swish")
    source = network_source(plan, build_network(plan, runtime.lowerings))
    assert "self.swish_2 = nn.Hardswish()" in source
    other = _plugin_plan(runtime, "PlusOne")
    with pytest.raises(
        BackendError,
        match="stage1_cell1 .*plusone_2.*cannot write .*Custom as standalone PyTorch source",
    ):
        network_source(other, build_network(other, runtime.lowerings))
