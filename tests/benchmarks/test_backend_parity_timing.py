"""Forward+backward time: nader's compiled ResNet vs the same network written by hand.

    PYTHONPATH=. python -m pytest tests/benchmarks/test_backend_parity_timing.py -p no:cacheprovider --benchmark-only -s

The network is ``nas-bench-201/resnet_basic.txt`` on the ``nader`` skeleton (3 x 5 cells) at
width 16, batch 32, CIFAR-sized images, one CPU thread, training mode. Both modules are timed in
the same run, interleaved round by round so machine load affects them alike; the ratio of the
medians (compiled / hand-written; also that of the fastest rounds) is printed and stored in
``extra_info``. Rounds are timed in CPU time of the calling thread (torch runs on one thread
here), which other processes on a shared machine disturb far less than wall-clock time.
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
from backend_reference import (  # noqa: E402
    ResNetBasicNetwork,
    load_into_reference,
    resnet_state_dict_mapping,
)

from nader.backends.fx_build import build_network, example_input  # noqa: E402
from nader.backends.plan import NetworkPlanner  # noqa: E402
from nader.backends.presets import dataset_preset  # noqa: E402
from nader.backends.skeletons import skeleton_named  # noqa: E402
from nader.plugins.manager import build_runtime  # noqa: E402

ROUNDS = 25


def _step(module: torch.nn.Module, images: torch.Tensor) -> None:
    module.zero_grad(set_to_none=True)
    module(images).square().mean().backward()


def test_forward_backward_time_ratio(benchmark) -> None:  # type: ignore[no-untyped-def]
    folder = blocks_dir()
    if not folder.is_dir():
        pytest.skip("corpus not found")
    torch.set_num_threads(1)
    runtime = build_runtime(load_entry_points=False)
    network = load(folder / "nas-bench-201" / "resnet_basic.txt")
    plan = NetworkPlanner(
        network, runtime.operators, skeleton_named("nader"), dataset_preset("cifar100")
    ).plan(16)
    compiled = build_network(plan, runtime.lowerings).train()
    reference = ResNetBasicNetwork(width=16, classes=100).train()
    load_into_reference(reference, compiled, resnet_state_dict_mapping())
    images = example_input(plan, batch=32)
    for module in (compiled, reference):  # warm up allocators and kernels
        _step(module, images)

    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(ROUNDS):
        for module, times in ((compiled, ours), (reference, theirs)):
            start = time.thread_time()
            _step(module, images)
            times.append(time.thread_time() - start)
    benchmark.pedantic(_step, args=(compiled, images), rounds=3, iterations=1)
    ratio = statistics.median(ours) / statistics.median(theirs)
    fastest_ratio = min(ours) / min(theirs)
    benchmark.extra_info.update(
        {
            "compiled_median_s": statistics.median(ours),
            "hand_written_median_s": statistics.median(theirs),
            "ratio": ratio,
            "fastest_round_ratio": fastest_ratio,
        }
    )
    print(
        f"\nforward+backward, batch 32, CPU time of {ROUNDS} rounds: compiled "
        f"{statistics.median(ours) * 1e3:.1f} ms, hand-written {statistics.median(theirs) * 1e3:.1f} ms "
        f"(medians): ratio {ratio:.3f}; fastest rounds ratio {fastest_ratio:.3f}"
    )
