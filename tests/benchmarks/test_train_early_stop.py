"""Early termination on the CIFAR-10 subset: epochs spent per candidate with and without the
median rule, for the same candidates in the same order, and whether the best is still found;
also Kendall's τ of each zero-cost proxy with the trained validation accuracy.

As a pytest-benchmark (skipped by default; needs the corpus)::

    NADER_CORPUS=... PYTHONPATH=. python -m pytest tests/benchmarks/test_train_early_stop.py -p no:cacheprovider --benchmark-only -s

Standalone::

    NADER_CORPUS=... PYTHONPATH=. python tests/benchmarks/test_train_early_stop.py [--epochs 6]

Candidates: the corpus's CIFAR-style networks (NAS-Bench-201 cells, ResNets, the converted
blocks), each on a shallow ``nader`` skeleton at the largest width within 60k params, plus two
copies of the ResNet with a learning rate far too high (the paper saw 19% of its designs never
converge). Both runs train for real, in the same order; in the early-termination run each
candidate is compared with those that finished before it in that run, as a session does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus_paths import blocks_dir, corpus_dir  # noqa: E402

from nader.backends.compiler import compile_network  # noqa: E402
from nader.backends.presets import preset_for  # noqa: E402
from nader.backends.skeletons import skeleton_named  # noqa: E402
from nader.backends.width import CostBudget  # noqa: E402
from nader.data.load import load_dataset  # noqa: E402
from nader.errors import NaderError  # noqa: E402
from nader.ir.parser import parse_network  # noqa: E402
from nader.plugins.manager import build_runtime  # noqa: E402
from nader.training.config import EarlyStopConfig, TrainConfig  # noqa: E402
from nader.training.job import DatasetRef, JobOutcome, TrainingJob  # noqa: E402
from nader.training.worker import train_job  # noqa: E402

NETWORKS = [
    "nas-bench-201/resnet_basic.txt",
    "nas-bench-201/nasbench201_cifar100_optimal.txt",
    "nas-bench-201/nasbench201_cifar100_acc76.txt",
    "nas-bench-201/nasbench201_seed777.txt",
    "nas-bench-201/resnet_bottle.txt",
    "blocks-cifar/block_7.txt",
    "blocks-cifar/block_8.txt",
    "blocks-cifar/block_3.txt",
]
DEPTHS = (2, 2, 2)
RULE = EarlyStopConfig(rule="median", min_epochs=2, min_references=2)


def candidates(epochs: int, batches: int) -> list[TrainingJob]:
    runtime = build_runtime()
    subset = corpus_dir() / "cifar-subsets"
    ref = DatasetRef(name="cifar10", data_dir=subset)
    data = load_dataset("cifar10", data_dir=subset, runtime=runtime)
    skeleton = skeleton_named("nader").with_depths(DEPTHS)
    train = TrainConfig(
        epochs=epochs,
        batch_size=64,
        lr=0.05,
        device="cpu",
        patience_epochs=0,
        max_train_batches=batches,
        max_eval_batches=4,
        eval_batch_size=128,
    )
    jobs: list[TrainingJob] = []
    for name in NETWORKS:
        text = (blocks_dir() / name).read_text()
        network = parse_network(text, name)
        try:
            width = compile_network(
                network,
                runtime.operators,
                runtime.lowerings,
                skeleton=skeleton,
                dataset=preset_for(data),
                budget=CostBudget(max_params=60_000),
            ).width
        except NaderError:
            continue
        jobs.append(
            TrainingJob(
                arch_id=name,
                network_text=text,
                skeleton="nader",
                width=width,
                dataset=ref,
                train=train,
                threads=1,
            )
        )
    for copy in (1, 2):  # a learning rate far too high: these never converge
        bad = jobs[0].train.model_copy(update={"lr": 5.0, "seed": 777 + copy})
        jobs.insert(
            2 * copy + 1, jobs[0].model_copy(update={"arch_id": f"lr5-{copy}", "train": bad})
        )
    return jobs


def run(jobs: list[TrainingJob], rule: EarlyStopConfig | None) -> list[JobOutcome]:
    """Train ``jobs`` in order; with ``rule`` each is compared with those finished before it."""
    import torch

    torch.set_num_threads(1)
    outcomes: list[JobOutcome] = []
    for job in jobs:
        references = [[row.valid_acc for row in o.history] for o in outcomes]
        if rule is not None:
            train = job.train.model_copy(update={"early_stop": rule})
            job = job.model_copy(update={"train": train, "reference_curves": references})
        outcomes.append(train_job(job))
    return outcomes


def kendall_tau(xs: list[float], ys: list[float]) -> float:
    """Kendall's τ-b (scipy's when installed, else τ-a by hand: no ties in real scores)."""
    try:
        from scipy.stats import kendalltau
    except ImportError:  # pragma: no cover - depends on the environment
        pairs = [(i, j) for i in range(len(xs)) for j in range(i + 1, len(xs))]
        agree = sum(
            ((xs[i] > xs[j]) - (xs[i] < xs[j])) * ((ys[i] > ys[j]) - (ys[i] < ys[j]))
            for i, j in pairs
        )
        return agree / len(pairs) if pairs else float("nan")
    return float(kendalltau(xs, ys).statistic)


def report(full: list[JobOutcome], early: list[JobOutcome], seconds: tuple[float, float]) -> dict:
    print(f"\n{'candidate':48} {'full ep':>7} {'valid':>7}  {'ET ep':>5} {'valid':>7} status")
    for a, b in zip(full, early, strict=True):
        print(
            f"{a.arch_id:48} {a.epochs:>7} {a.valid_acc or 0:>7.4f}  {b.epochs:>5} "
            f"{b.valid_acc or 0:>7.4f} {b.status}"
        )
    spent_full = sum(o.epochs or 0 for o in full)
    spent_early = sum(o.epochs or 0 for o in early)
    best_full = max(full, key=lambda o: o.valid_acc or 0).arch_id
    trained = [o for o in early if o.status == "trained"]
    best_early = max(trained, key=lambda o: o.valid_acc or 0).arch_id
    distinct = [o for o in full if not o.arch_id.startswith("lr5")]
    taus = {
        name: kendall_tau([o.proxies[name] for o in distinct], [o.valid_acc or 0 for o in distinct])
        for name in ("naswot", "synflow")
    }
    print(
        f"epochs: {spent_full} without, {spent_early} with early termination "
        f"({spent_early / spent_full:.3f}); seconds {seconds[0]:.0f} vs {seconds[1]:.0f} "
        f"({seconds[1] / seconds[0]:.3f}); best {best_full} / {best_early}: "
        f"{'found' if best_full == best_early else 'MISSED'}"
    )
    print("Kendall tau with final valid acc over", len(distinct), "architectures:", taus)
    return {
        "epochs_full": spent_full,
        "epochs_early": spent_early,
        "best_found": best_full == best_early,
        "kendall_tau": taus,
    }


@pytest.mark.skipif(not (corpus_dir() / "cifar-subsets").is_dir(), reason="corpus not found")
def test_epochs_spent_with_and_without_early_termination(benchmark) -> None:
    jobs = candidates(epochs=6, batches=10)
    started = time.perf_counter()
    full = run(jobs, None)
    middle = time.perf_counter()
    early = benchmark.pedantic(lambda: run(jobs, RULE), rounds=1)
    facts = report(full, early, (middle - started, time.perf_counter() - middle))
    benchmark.extra_info.update(facts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batches", type=int, default=10)
    args = parser.parse_args()
    jobs = candidates(args.epochs, args.batches)
    started = time.perf_counter()
    full = run(jobs, None)
    middle = time.perf_counter()
    early = run(jobs, RULE)
    report(full, early, (middle - started, time.perf_counter() - middle))


if __name__ == "__main__":
    main()
