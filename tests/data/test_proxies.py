"""Zero-cost proxies on real fx modules: deterministic for a seed, finite on every corpus
network, and free of side effects on the module to be trained."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

from backend_helpers import corpus_files, corpus_id, load, shallow, skeleton_for  # noqa: E402

from nader.backends.compiler import compile_network  # noqa: E402
from nader.backends.presets import DatasetPreset  # noqa: E402
from nader.backends.width import CostBudget  # noqa: E402
from nader.errors import WidthSearchError  # noqa: E402
from nader.plugins.manager import build_runtime  # noqa: E402
from nader.training.proxies import naswot_score, synflow_score, zero_cost_proxies  # noqa: E402

#: downsample blocks that write C*2 where they mean dim (the verifier rejects them)
INVALID = {"blocks-cifar/block_9.txt", "blocks-cifar/block_10.txt"}
FILES = [p for p in corpus_files() if corpus_id(p) not in INVALID]


def _module(path: Path) -> tuple[torch.nn.Module, int]:
    runtime = build_runtime()
    network = load(path)
    skeleton = shallow(skeleton_for(network, runtime.operators))
    size = 64 if skeleton.name == "imagenet" else 32
    preset = DatasetPreset("probe", 10, size)
    for max_params in (150_000, 2_000_000):  # a grouped-conv ResNeXt needs width 128
        try:
            result = compile_network(
                network,
                runtime.operators,
                runtime.lowerings,
                skeleton=skeleton,
                dataset=preset,
                budget=CostBudget(max_params=max_params),
            )
        except WidthSearchError:
            continue
        return result.module, size
    raise AssertionError(f"{corpus_id(path)} compiles at no width")


@pytest.mark.skipif(not FILES, reason="corpus not found")
@pytest.mark.parametrize("path", FILES, ids=corpus_id)
def test_proxies_are_finite_and_repeat_for_a_seed_on_every_corpus_network(path: Path) -> None:
    torch.set_num_threads(1)
    module, size = _module(path)
    inputs = torch.randn(16, 3, size, size, generator=torch.Generator().manual_seed(0))
    module.train()
    before = {name: value.clone() for name, value in module.state_dict().items()}
    first = zero_cost_proxies(module, inputs, seed=1)
    again = zero_cost_proxies(module, inputs, seed=1)
    assert set(first) == {"naswot", "synflow"}
    assert first == again
    assert all(math.isfinite(v) for v in first.values())
    assert first["naswot"] > 0  # 16 inputs in distinct activation regions
    after = module.state_dict()  # weights, batch-norm statistics and dtype as they were
    assert all(torch.equal(value, after[name]) for name, value in before.items())
    assert module.training and all(p.grad is None for p in module.parameters())


def test_naswot_tells_distinct_inputs_from_identical_ones() -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 64), torch.nn.ReLU())
    torch.manual_seed(0)
    varied = torch.randn(8, 3, 2, 2)
    same = varied[:1].repeat(8, 1, 1, 1)
    assert naswot_score(model, varied) > 0.0 == naswot_score(model, same)


def test_synflow_grows_with_the_scale_of_the_weights() -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 4), torch.nn.Linear(4, 2))
    small = synflow_score(model, (3, 2, 2))
    with torch.no_grad():
        for param in model.parameters():
            param.mul_(10)
    assert synflow_score(model, (3, 2, 2)) > small + 1  # log10: x10 per layer, two layers
