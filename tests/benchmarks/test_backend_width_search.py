"""Width search from the IR vs the authors' way: build the torch model and profile it per step.

    PYTHONPATH=. python -m pytest tests/benchmarks/test_backend_width_search.py -p no:cacheprovider --benchmark-only -s

Both run the same search (same validity test, same bisection) on the same network and budget, in
the same run; only ``measure(width)`` differs. The authors' measure builds the network with
nader's fx builder and counts params and FLOPs with forward hooks on Conv2d/Linear (how
NAS-Bench-201's ``get_model_infos`` profiles). The speed-up is printed and stored in
``extra_info``; both searches must agree on the width.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from backend_helpers import blocks_dir, load  # noqa: E402

from nader.backends.fx_build import build_network, count_parameters  # noqa: E402
from nader.backends.plan import NetworkPlanner  # noqa: E402
from nader.backends.presets import dataset_preset  # noqa: E402
from nader.backends.profile import hooked_flops  # noqa: E402
from nader.backends.skeletons import skeleton_named  # noqa: E402
from nader.backends.width import (  # noqa: E402
    CostBudget,
    plan_if_valid,
    search_largest_width,
    search_width,
)
from nader.ir import Cost  # noqa: E402
from nader.plugins.manager import build_runtime  # noqa: E402

NETWORKS = ["nas-bench-201/resnet_basic.txt", "nas-bench-201/nasbench201_cifar100_acc76.txt"]


def _authors_search(planner: NetworkPlanner, budget: CostBudget, lowerings: dict) -> int:  # type: ignore[type-arg]
    def is_valid(width: int) -> bool:  # the same validity test as the IR search
        return plan_if_valid(planner, width) is not None

    def measure(width: int) -> Cost | None:
        plan = plan_if_valid(planner, width)
        if plan is None:
            return None
        model = build_network(plan, lowerings)  # build the torch model ...
        return Cost(
            count_parameters(model), hooked_flops(model, plan.input_shape)
        )  # ... and profile it

    return search_largest_width(is_valid, measure, budget).width


@pytest.mark.parametrize("name", NETWORKS)
def test_width_search_speedup(name: str, benchmark) -> None:  # type: ignore[no-untyped-def]
    folder = blocks_dir()
    if not folder.is_dir():
        pytest.skip("corpus not found")
    torch.set_num_threads(1)
    runtime = build_runtime(load_entry_points=False)
    network = load(folder / name)
    dataset = dataset_preset("cifar100")
    budget = CostBudget(dataset.max_params, dataset.max_flops)

    def planner() -> NetworkPlanner:  # fresh each time: no cache carried between searches
        return NetworkPlanner(network, runtime.operators, skeleton_named("nader"), dataset)

    baseline_times = []
    for _ in range(2):
        start = time.perf_counter()
        baseline_width = _authors_search(planner(), budget, runtime.lowerings)
        baseline_times.append(time.perf_counter() - start)
    result = benchmark(lambda: search_width(planner(), budget))
    assert result.width == baseline_width
    ours = benchmark.stats.stats.median
    speedup = statistics.median(baseline_times) / ours
    benchmark.extra_info.update(
        {"width": result.width, "baseline_s": statistics.median(baseline_times), "speedup": speedup}
    )
    print(
        f"\n{name}: width {result.width}; IR search {ours * 1e3:.1f} ms, build+profile search "
        f"{statistics.median(baseline_times):.2f} s -> {speedup:.0f}x faster"
    )
