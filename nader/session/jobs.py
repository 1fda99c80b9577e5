"""The training job of a stored architecture, as the run's config says to train it."""

from __future__ import annotations

import os

from nader.session.config import SessionConfig
from nader.session.store import Architecture, RunStore
from nader.training.job import DatasetRef, TrainingJob

#: statuses whose validation curve is a reference for early termination
REFERENCE_STATUSES = frozenset({"trained", "stopped_early"})


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS says, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_threads(config: SessionConfig) -> int:
    """Torch intra-op threads per worker: ``executor.threads``, else cores / workers (at least
    1), so concurrent workers never oversubscribe the machine (the fvcore check runs in the
    same worker under the same setting)."""
    if config.executor.threads is not None:
        return config.executor.threads
    return max(1, usable_cores() // config.executor.workers)


def reference_curves(store: RunStore) -> list[list[float | None]]:
    """Validation accuracy per epoch of every candidate already finished (early termination
    compares a training candidate against these)."""
    curves: list[list[float | None]] = []
    for arch in store.all():
        history = arch.extra.get("history")
        if arch.status in REFERENCE_STATUSES and history:
            curves.append([row.get("valid_acc") for row in history])
    return curves


def training_job(arch: Architecture, config: SessionConfig, store: RunStore) -> TrainingJob:
    """Train ``arch`` at its width; the checkpoint and the epoch log live in its folder of the
    run directory."""
    if arch.network_text is None or arch.width is None:
        raise ValueError(f"architecture {arch.id} has no sized network to train")
    ds = config.dataset
    folder = store.arch_dir(arch.id)
    rule_on = config.train.early_stop.rule != "none"
    return TrainingJob(
        arch_id=arch.id,
        network_text=arch.network_text,
        skeleton=config.base.skeleton,
        width=arch.width,
        dataset=DatasetRef(
            name=ds.name, data_dir=ds.data_dir, split_file=ds.split_file, seed=ds.seed
        ),
        train=config.train,
        checkpoint=folder / "checkpoint.pt",
        threads=worker_threads(config),
        epoch_log=folder / "epochs.jsonl",
        reference_curves=reference_curves(store) if rule_on else [],
    )
