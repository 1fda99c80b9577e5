"""Per-candidate overhead: the warm worker pool against a fresh process per candidate.

As a pytest-benchmark (skipped by default)::

    PYTHONPATH=. python -m pytest tests/benchmarks/test_train_pool.py -p no:cacheprovider --benchmark-only -s

trains the same quickstart-size candidates (the quickstart's network, width, dataset and
training settings; 1 torch thread) through :class:`~nader.session.executors.LocalExecutor`
twice in the same run, fresh processes (the baseline) and a warm pool, interleaved, and prints
the phase table of each candidate. Standalone::

    PYTHONPATH=. python tests/benchmarks/test_train_pool.py [--candidates 3] [--rounds 2]

Phases: ``dataset``, ``compile`` (the fx build and the fvcore check), ``proxies``, ``training``
(the epochs, validation, the test pass) come from the worker; ``outside`` is the rest of the
candidate's wall time as the driver measured it (process start and imports, the job crossing,
exit); ``fixed`` = wall - training, the per-candidate overhead.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pytest

from nader.backends.compiler import compile_network
from nader.backends.presets import preset_for
from nader.backends.skeletons import skeleton_named
from nader.backends.width import CostBudget
from nader.data.load import load_dataset
from nader.ir.parser import parse_network
from nader.plugins.manager import build_runtime
from nader.session.executors import ExecutorConfig, LocalExecutor
from nader.training.config import TrainConfig
from nader.training.job import DatasetRef, JobOutcome, TrainingJob
from nader.training.worker import train_job

REPO = Path(__file__).resolve().parents[2]
QUICKSTART_TRAIN = TrainConfig(
    epochs=3, batch_size=64, lr=0.05, seed=777, patience_epochs=3, device="cpu"
)


def quickstart_width() -> int:
    """The width the quickstart's width search picks (60,000 params on digits)."""
    runtime = build_runtime()
    network = parse_network((REPO / "examples" / "resnet_basic.txt").read_text(), "base")
    data = load_dataset("digits", runtime=runtime)
    return compile_network(
        network,
        runtime.operators,
        runtime.lowerings,
        skeleton=skeleton_named("nader"),
        dataset=preset_for(data),
        budget=CostBudget(max_params=60_000),
    ).width


def quickstart_jobs(count: int, width: int, tag: str) -> list[TrainingJob]:
    text = (REPO / "examples" / "resnet_basic.txt").read_text()
    return [
        TrainingJob(
            arch_id=f"{tag}{i}",
            network_text=text,
            skeleton="nader",
            width=width,
            dataset=DatasetRef(name="digits"),
            train=QUICKSTART_TRAIN.model_copy(update={"seed": 777 + i}),
            threads=1,
        )
        for i in range(count)
    ]


def run_candidates(reuse: bool, jobs: list[TrainingJob], scratch: Path) -> list[JobOutcome]:
    """Train ``jobs`` one after another through one local worker slot; outcomes in order."""
    config = ExecutorConfig(workers=1, start_method="spawn", reuse_workers=reuse, timeout_s=900)
    executor = LocalExecutor(config, train_job, scratch)
    outcomes: list[JobOutcome] = []
    try:
        for job in jobs:
            executor.submit(job)
            while not (done := executor.poll(timeout=0.5)):
                pass
            outcomes.extend(done)
    finally:
        executor.shutdown()
    assert all(o.status == "trained" for o in outcomes), [o.error for o in outcomes]
    return outcomes


def phase_row(outcome: JobOutcome) -> dict[str, float]:
    phases = dict(outcome.phases)
    row = {name: phases.get(name, 0.0) for name in ("dataset", "compile", "proxies", "training")}
    row["outside"] = outcome.wall_s - sum(phases.values())
    row["wall"] = outcome.wall_s
    row["fixed"] = outcome.wall_s - row["training"]
    row["fixed_share"] = row["fixed"] / outcome.wall_s
    return row


def print_table(title: str, outcomes: list[JobOutcome]) -> None:
    names = ["outside", "dataset", "compile", "proxies", "training", "wall", "fixed", "fixed_share"]
    print(f"\n{title}\n  cand " + " ".join(f"{n:>11}" for n in names))
    for outcome in outcomes:
        row = phase_row(outcome)
        print(f"  {outcome.arch_id:>4} " + " ".join(f"{row[n]:>11.3f}" for n in names))


@pytest.fixture(scope="module")
def width() -> int:
    return quickstart_width()


@pytest.mark.parametrize("reuse", [False, True], ids=["fresh_process", "warm_pool"])
def test_per_candidate_overhead(benchmark, tmp_path: Path, width: int, reuse: bool) -> None:
    import torch

    torch.set_num_threads(1)
    tag = "p" if reuse else "f"
    outcomes = benchmark.pedantic(
        lambda: run_candidates(reuse, quickstart_jobs(3, width, tag), tmp_path), rounds=1
    )
    print_table("warm pool" if reuse else "fresh process per candidate", outcomes)
    later = [phase_row(o) for o in outcomes[1:]]  # a pool's first candidate pays its start once
    benchmark.extra_info["fixed_s_median"] = statistics.median(r["fixed"] for r in later)
    benchmark.extra_info["fixed_share_median"] = statistics.median(r["fixed_share"] for r in later)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    chosen = quickstart_width()
    scratch = Path("/tmp/nader-pool-bench")
    summary: dict[str, list[float]] = {"fresh": [], "pool": []}
    shares: dict[str, list[float]] = {"fresh": [], "pool": []}
    for round_ in range(args.rounds):  # interleaved: fresh, pool, fresh, pool
        for mode, reuse in (("fresh", False), ("pool", True)):
            started = time.perf_counter()
            jobs = quickstart_jobs(args.candidates, chosen, f"{mode[0]}{round_}-")
            outcomes = run_candidates(reuse, jobs, scratch)
            summary[mode].append(time.perf_counter() - started)
            print_table(f"{mode}, round {round_ + 1} (width {chosen})", outcomes)
            shares[mode].extend(phase_row(o)["fixed_share"] for o in outcomes[1:])
    for mode in summary:
        print(
            f"{mode}: {args.candidates} candidates in {statistics.median(summary[mode]):.2f} s "
            f"(median of {args.rounds}); fixed share of candidates 2..n: "
            f"median {statistics.median(shares[mode]):.3f}"
        )
    print(
        f"pool / fresh time: {statistics.median(summary['pool']) / statistics.median(summary['fresh']):.3f}"
    )


if __name__ == "__main__":
    main()
