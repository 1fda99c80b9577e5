"""The training job of a stored architecture, as the run's config says to train it."""

from __future__ import annotations

from nader.session.config import SessionConfig
from nader.session.store import Architecture, RunStore
from nader.training.job import DatasetRef, TrainingJob


def training_job(arch: Architecture, config: SessionConfig, store: RunStore) -> TrainingJob:
    """Train ``arch`` at its width; the checkpoint lives in its folder of the run directory.

    With several workers each takes one torch thread, so they do not oversubscribe the cores.
    """
    if arch.network_text is None or arch.width is None:
        raise ValueError(f"architecture {arch.id} has no sized network to train")
    ds = config.dataset
    return TrainingJob(
        arch_id=arch.id,
        network_text=arch.network_text,
        skeleton=config.base.skeleton,
        width=arch.width,
        dataset=DatasetRef(
            name=ds.name, data_dir=ds.data_dir, split_file=ds.split_file, seed=ds.seed
        ),
        train=config.train,
        checkpoint=store.arch_dir(arch.id) / "checkpoint.pt",
        threads=1 if config.executor.workers > 1 else None,
    )
