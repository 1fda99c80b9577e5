"""What a worker does with one :class:`~nader.training.job.TrainingJob`: compile, train, report.

Runs in a worker process (local executor) or a Ray task. The network text was verified before it
was queued and is parsed here again by our own parser; the compile step confirms the analytic
costs with fvcore.
"""

from __future__ import annotations

import torch

from nader.backends.compiler import CompileResult, compile_network
from nader.backends.presets import preset_for
from nader.backends.skeletons import skeleton_named
from nader.data.load import load_dataset
from nader.ir.parser import parse_network
from nader.plugins.manager import build_runtime
from nader.training.job import JobOutcome, TrainingJob
from nader.training.loop import build_seeded, train_model


def train_job(job: TrainingJob) -> JobOutcome:
    """Compile ``job.network_text`` at ``job.width`` and train it under ``job.train``."""
    if job.threads:
        torch.set_num_threads(job.threads)
    runtime = build_runtime()
    data = load_dataset(
        job.dataset.name,
        data_dir=job.dataset.data_dir,
        split_file=job.dataset.split_file,
        seed=job.dataset.seed,
        runtime=runtime,
    )
    preset = preset_for(data)
    network = parse_network(job.network_text, f"architecture {job.arch_id}")
    built: list[CompileResult] = []

    def build() -> torch.nn.Module:
        built.append(
            compile_network(
                network,
                runtime.operators,
                runtime.lowerings,
                skeleton=skeleton_named(job.skeleton),
                dataset=preset,
                width=job.width,
            )
        )
        return built[-1].module

    model = build_seeded(build, job.train.seed)
    compiled = built[-1]
    result = train_model(model, data, job.train, checkpoint_path=job.checkpoint)
    if result.status == "paused":  # train_model pauses only when asked to; a job never asks
        return JobOutcome.failure(job.arch_id, "training paused unexpectedly")
    return JobOutcome(
        arch_id=job.arch_id,
        status=result.status,
        valid_acc=result.valid_acc,
        test_acc=result.test_acc,
        epochs=result.epochs_completed,
        error=result.reason if result.status in ("diverged", "no_progress") else None,
        steps=result.steps,
        train_seconds=result.train_seconds,
        images_per_second=result.images_per_second,
        params=compiled.params,
        flops=compiled.flops,
        fvcore_flops=compiled.fvcore_flops,
        width=compiled.width,
    )
