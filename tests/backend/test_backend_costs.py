"""The IR cost model against the built torch module, for every network file of the corpus.

Three independent measurements of the same module: ``sum(p.numel())`` for params, fvcore's
count of conv/linear/matmul for ``macs``, and NAS-Bench-201-style forward hooks (Conv2d and Linear
with biases) for ``flops``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from backend_helpers import corpus_files, corpus_id, load, skeleton_for, small_plan

from nader.backends.costs import network_cost, plan_cost
from nader.backends.fx_build import build_network, count_parameters, example_input
from nader.backends.plan import NetworkPlanner
from nader.backends.presets import dataset_preset
from nader.backends.profile import fvcore_macs, hooked_flops
from nader.plugins.manager import Runtime


@pytest.mark.parametrize("path", corpus_files(), ids=corpus_id)
def test_analytic_costs_equal_the_built_module(path: Path, runtime: Runtime) -> None:
    network = load(path)
    plan = small_plan(network, runtime.operators)
    module = build_network(plan, runtime.lowerings)
    cost = plan.cost
    assert cost.params == count_parameters(module)
    assert cost.macs == fvcore_macs(module, plan.input_shape)
    assert cost.flops == hooked_flops(module, plan.input_shape)
    assert module(example_input(plan)).shape == (2, plan.dataset.num_classes)


def test_full_depth_network_costs_on_cifar100(corpus_blocks: Path, runtime: Runtime) -> None:
    """The authors' setting itself (5 cells per stage) on the 46-node NAS-Bench-201 cell."""
    network = load(corpus_blocks / "nas-bench-201" / "nasbench201_cifar100_acc76.txt")
    skeleton = skeleton_for(network, runtime.operators)
    assert skeleton.depths == (5, 5, 5)
    planner = NetworkPlanner(network, runtime.operators, skeleton, dataset_preset("cifar100"))
    plan = planner.plan(12)
    module = build_network(plan, runtime.lowerings)
    assert len([i for i in plan if i.kind == "cell"]) == 15
    assert plan.cost.params == count_parameters(module)
    assert plan.cost.macs == fvcore_macs(module, plan.input_shape)
    assert plan.cost.flops == hooked_flops(module, plan.input_shape)


def test_network_cost_sums_block_reports_at_their_sizes(
    corpus_blocks: Path, runtime: Runtime
) -> None:
    """network_cost = stem + cells + downsamples + head, each as the verifier reports it alone."""
    from nader.ir import Probe, verify_block

    network = load(corpus_blocks / "nas-bench-201" / "resnet_basic.txt")
    skeleton = skeleton_for(network, runtime.operators)
    dataset = dataset_preset("cifar100")
    cost = network_cost(network, runtime.operators, skeleton, dataset, 16)
    blocks = {b.role().value: b for b in network.blocks}

    def block_params(role: str, channels: int, dim: int, size: int) -> tuple[int, int]:
        report = verify_block(
            blocks[role], runtime.operators, probe=Probe(1, channels, size, size, dim)
        )
        assert report.valid, report.errors
        assert report.params is not None and report.flops is not None
        return report.params, report.flops

    parts = [block_params("stem", 3, 16, 32)]
    for width, size in ((16, 32), (32, 16), (64, 8)):
        parts += [block_params("cell", width, width, size)] * 5
    parts += [block_params("downsample", 16, 32, 32), block_params("downsample", 32, 64, 16)]
    head_params = 64 * 100 + 100  # Linear(64 -> 100); pooling has none
    assert cost.params == sum(p for p, _ in parts) + head_params
    assert cost.flops == sum(f for _, f in parts) + head_params
    assert set(cost.by_kind) == {"stem", "cell", "downsample", "head"}
    assert cost.by_kind["head"].params == head_params


def test_two_input_cells_get_adapters_and_their_costs(
    corpus_blocks: Path, runtime: Runtime
) -> None:
    network = load(corpus_blocks / "darts" / "dartsv2.txt")
    plan = small_plan(network, runtime.operators)
    adapters = [i for i in plan if i.kind == "adapter"]
    # dartsv2's downsample block is two-input too: both of its inputs move to the next stage's
    # channels (stride 1); the first cell after it gets its older input, the last cell before the
    # downsample (twice the size, half the channels), through a stride-2 adapter
    assert [a.name for a in adapters] == [
        "down1_in1",
        "down1_in2",
        "stage2_cell1_in1",
        "down2_in1",
        "down2_in2",
        "stage3_cell1_in1",
    ]
    by_name = {i.name: i for i in plan}
    for adapter in adapters:
        consumer = by_name[adapter.name[: -len("_in1")]]
        assert adapter.output_shape == consumer.input_shapes[0] == consumer.input_shapes[1]
        stride = adapter.probe.height // adapter.output_shape[2]
        assert stride == (2 if consumer.kind == "cell" else 1)
        # ReLU -> 1x1 conv (no bias) -> BN
        assert (
            adapter.cost.params
            == adapter.probe.channels * adapter.probe.dim + 2 * adapter.probe.dim
        )
    assert plan_cost(plan).by_kind["adapter"].params == sum(a.cost.params for a in adapters)
    module = build_network(plan, runtime.lowerings)
    assert plan.cost.params == count_parameters(module)
    with torch.no_grad():
        assert module(example_input(plan, batch=1)).shape == (1, 10)
