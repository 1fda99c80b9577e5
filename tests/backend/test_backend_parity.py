"""nader's compiled ResNet against the same network written by hand, with the same weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from backend_helpers import load
from backend_reference import ResNetBasicNetwork, load_into_reference, resnet_state_dict_mapping

from nader.backends.fx_build import build_network, count_parameters, example_input
from nader.backends.plan import NetworkPlanner
from nader.backends.presets import dataset_preset
from nader.backends.skeletons import skeleton_named
from nader.plugins.manager import Runtime


@pytest.mark.parametrize("depths", [(5, 5, 5), (2, 1, 3)])
def test_compiled_resnet_matches_the_hand_written_one(
    depths: tuple[int, ...], corpus_blocks: Path, runtime: Runtime
) -> None:
    network = load(corpus_blocks / "nas-bench-201" / "resnet_basic.txt")
    skeleton = skeleton_named("nader").with_depths(depths)
    plan = NetworkPlanner(network, runtime.operators, skeleton, dataset_preset("cifar100")).plan(8)
    compiled = build_network(plan, runtime.lowerings)
    reference = ResNetBasicNetwork(width=8, classes=100, depths=depths)
    assert count_parameters(reference) == count_parameters(compiled) == plan.cost.params
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in compiled.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)
    load_into_reference(reference, compiled, resnet_state_dict_mapping(depths))
    images = example_input(plan, batch=4)

    # training mode: batch statistics, and the same gradients for every weight
    out_compiled, out_reference = compiled.train()(images), reference.train()(images)
    torch.testing.assert_close(out_compiled, out_reference, rtol=1e-5, atol=1e-5)
    out_compiled.square().sum().backward()
    out_reference.square().sum().backward()
    mapping = resnet_state_dict_mapping(depths)
    grads = dict(compiled.named_parameters())
    for name, parameter in reference.named_parameters():
        prefix, _, leaf = name.rpartition(".")
        other = grads[f"{mapping[prefix]}.{leaf}"].grad
        assert parameter.grad is not None and other is not None
        torch.testing.assert_close(parameter.grad, other, rtol=1e-4, atol=1e-5)

    # inference mode: the running statistics updated identically
    with torch.no_grad():
        torch.testing.assert_close(
            compiled.eval()(images), reference.eval()(images), rtol=1e-5, atol=1e-5
        )
