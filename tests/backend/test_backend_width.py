"""Width search: the largest valid width within budget, from the IR, confirmed on the module."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend_helpers import corpus_files, corpus_id, load, stem_scale
from hypothesis import given, settings
from hypothesis import strategies as st

from nader.backends.compiler import CompileResult, compile_network
from nader.backends.fx_build import count_parameters
from nader.backends.plan import NetworkPlanner
from nader.backends.presets import dataset_preset
from nader.backends.profile import hooked_flops
from nader.backends.skeletons import skeleton_named
from nader.backends.width import CostBudget, search_largest_width, search_width
from nader.errors import NaderError, VerifyError, WidthSearchError
from nader.ir import Cost
from nader.plugins.manager import Runtime

CIFAR100 = dataset_preset("cifar100")
CIFAR100_BUDGET = CostBudget(CIFAR100.max_params, CIFAR100.max_flops)
#: ResNeXt's grouped conv (groups=32 on C/4 channels) needs C/4 to be a multiple of 32, so its
#: smallest valid width is 128 — and that network has 1.62M params, over the 1.5M budget.
DOES_NOT_FIT = {"blocks-cifar/block_5.txt"}
#: downsample blocks that write C*2 where they mean dim (the verifier rejects them)
INVALID = {"blocks-cifar/block_9.txt", "blocks-cifar/block_10.txt"}


def _cifar_style(path: Path) -> bool:
    return path.parent.name in ("nas-bench-201", "cifar100", "blocks-cifar")


CIFAR_FILES = [p for p in corpus_files() if _cifar_style(p) and corpus_id(p) not in INVALID]


@pytest.mark.parametrize("path", CIFAR_FILES, ids=corpus_id)
def test_cifar_networks_compile_at_the_largest_width_within_the_cifar100_budget(
    path: Path, runtime: Runtime
) -> None:
    network = load(path)
    if stem_scale(network, runtime.operators) != 1:
        pytest.skip("an ImageNet-style stem (reduces H and W by 4): see the imagenet skeleton")
    skeleton = skeleton_named("nader")

    def compile_for_cifar100() -> CompileResult:
        return compile_network(
            network,
            runtime.operators,
            runtime.lowerings,
            skeleton=skeleton,
            dataset=CIFAR100,
            budget=CIFAR100_BUDGET,
        )

    if corpus_id(path) in DOES_NOT_FIT:
        with pytest.raises(
            WidthSearchError, match="smallest valid width, 128, has 1,620,292 params"
        ):
            compile_for_cifar100()
        planner = NetworkPlanner(network, runtime.operators, skeleton, CIFAR100)
        for width in range(1, 128):
            with pytest.raises(NaderError):
                planner.plan(width, exact_divisions=True)
        return
    result = compile_for_cifar100()
    assert result.params <= 1_500_000 and result.flops <= 200_000_000
    # confirmed on the built module, three ways
    assert result.fvcore_flops == result.macs
    assert count_parameters(result.module) == result.params
    assert hooked_flops(result.module, result.plan.input_shape) == result.flops
    # the largest: the next valid width does not fit, and nothing in between is valid
    assert result.step is not None
    planner = NetworkPlanner(network, runtime.operators, skeleton, CIFAR100)
    try:
        bigger = planner.plan(result.width + result.step, exact_divisions=True)
    except VerifyError:
        pass
    else:
        assert not CIFAR100_BUDGET.admits(bigger.cost)
    for width in range(result.width + 1, result.width + result.step):
        with pytest.raises(VerifyError):
            planner.plan(width, exact_divisions=True)


def test_steps_follow_the_blocks_divisibility(corpus_blocks: Path, runtime: Runtime) -> None:
    expected = {
        "blocks-cifar/block_1.txt": 1,  # plain 3x3 convs: any width
        "blocks-cifar/block_2.txt": 4,  # bottleneck C/4
        "blocks-cifar/block_4.txt": 16,  # ShuffleNet: C/4 channels in 4 groups, reshape C/4/4
        "blocks-cifar/block_7.txt": 16,  # squeeze-excitation C/16
    }
    for name, step in expected.items():
        network = load(corpus_blocks / name)
        planner = NetworkPlanner(network, runtime.operators, skeleton_named("nader"), CIFAR100)
        result = search_width(planner, CIFAR100_BUDGET)
        assert (result.step, result.width % step) == (step, 0), name


def test_search_evaluates_few_widths(corpus_blocks: Path, runtime: Runtime) -> None:
    planner = NetworkPlanner(
        load(corpus_blocks / "nas-bench-201" / "resnet_basic.txt"),
        runtime.operators,
        skeleton_named("nader"),
        CIFAR100,
    )
    result = search_width(planner, CIFAR100_BUDGET)
    assert result.width == 25
    assert len(result.trace.measurements) <= 12


def test_impossible_and_missing_budgets_are_clear_errors(
    corpus_blocks: Path, runtime: Runtime
) -> None:
    planner = NetworkPlanner(
        load(corpus_blocks / "nas-bench-201" / "resnet_basic.txt"),
        runtime.operators,
        skeleton_named("nader"),
        CIFAR100,
    )
    with pytest.raises(
        WidthSearchError, match=r"no width fits params <= 1,000: the smallest valid width, 1, has"
    ):
        search_width(planner, CostBudget(max_params=1_000))
    with pytest.raises(WidthSearchError, match="needs a budget"):
        search_width(planner, CostBudget())


def test_a_network_valid_at_no_width_is_reported(corpus_blocks: Path, runtime: Runtime) -> None:
    # its stem reduces by 4 but the nader skeleton keeps the image size: invalid at every width
    network = load(corpus_blocks / "blocks" / "resnet_base.txt")
    planner = NetworkPlanner(network, runtime.operators, skeleton_named("nader"), CIFAR100)
    with pytest.raises(
        WidthSearchError,
        match=r"no width from 1 to 64 is valid .* at width 16: .*the stem \(skeleton 'nader' reduces H and W by 1\) must output",
    ):
        search_width(planner, CIFAR100_BUDGET, max_scan=64)


@settings(max_examples=150, deadline=None)
@given(
    modulus=st.integers(1, 24),
    minimum=st.integers(1, 60),
    scale=st.integers(1, 50),
    limit=st.integers(1, 2_000_000),
)
def test_search_finds_the_largest_fitting_valid_width(
    modulus: int, minimum: int, scale: int, limit: int
) -> None:
    """Against brute force, on synthetic monotone costs and periodic validity."""

    def valid(width: int) -> bool:
        return width >= minimum and width % modulus == 0

    def measure(width: int) -> Cost | None:
        return Cost(params=scale * width * width + width, flops=0) if valid(width) else None

    budget = CostBudget(max_params=limit)
    fitting = [w for w in range(1, 5000) if valid(w) and scale * w * w + w <= limit]
    if not fitting:
        with pytest.raises(WidthSearchError):
            search_largest_width(valid, measure, budget, max_scan=200)
        return
    choice = search_largest_width(valid, measure, budget, max_scan=200)
    assert choice.width == max(fitting)
    assert choice.step == modulus
    assert choice.cost.params <= limit
