"""``torch.compile`` runs nader's GraphModules on CPU (dynamo traces the fx-built forward)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from backend_helpers import load

from nader.backends.fx_build import build_network, example_input
from nader.backends.plan import NetworkPlanner
from nader.backends.presets import dataset_preset
from nader.backends.skeletons import skeleton_named
from nader.plugins.manager import Runtime


def _module_and_input(path: Path, runtime: Runtime) -> tuple[torch.nn.Module, torch.Tensor]:
    network = load(path)
    skeleton = skeleton_named("nader").with_depths((1, 1, 1))
    plan = NetworkPlanner(
        network, runtime.operators, skeleton, dataset_preset("ImageNet16-120")
    ).plan(16)
    return build_network(plan, runtime.lowerings).eval(), example_input(plan, batch=2)


@pytest.mark.parametrize("name", ["nas-bench-201/resnet_basic.txt", "blocks-cifar/block_4.txt"])
def test_dynamo_traces_the_compiled_network(
    name: str, corpus_blocks: Path, runtime: Runtime
) -> None:
    """Graph capture and AOT autograd without a C++ toolchain (reshape reads live sizes)."""
    module, images = _module_and_input(corpus_blocks / name, runtime)
    torch._dynamo.reset()
    compiled = torch.compile(module, backend="aot_eager", fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(images), module(images), rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_inductor_compiles_the_network_on_cpu(corpus_blocks: Path, runtime: Runtime) -> None:
    module, images = _module_and_input(corpus_blocks / "blocks-cifar" / "block_4.txt", runtime)
    torch._dynamo.reset()
    compiled = torch.compile(module)
    with torch.no_grad():
        torch.testing.assert_close(compiled(images), module(images), rtol=1e-4, atol=1e-4)
