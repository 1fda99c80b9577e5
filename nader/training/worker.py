"""What a worker does with one :class:`~nader.training.job.TrainingJob`: compile, score, train,
report.

Runs in a worker process (local executor, warm or fresh) or a Ray actor. The network text was
verified before it was queued and is parsed here again by our own parser; the compile step
confirms the analytic costs with fvcore. A warm worker keeps the plugin runtime and the datasets
it loaded (:func:`_runtime`, :func:`_dataset`: caches of this process, keyed by the frozen dataset
reference), so only the first candidate of a worker pays for them.

Each finished epoch is appended to ``job.epoch_log`` as one JSON line (flushed and synced), which
the driver reads while it polls: progress streams without a channel back to the driver, and the
lines outlive a killed driver. ``job.train.early_stop`` is applied after every epoch against
``job.reference_curves``.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import torch

from nader.backends.compiler import CompileResult, compile_network
from nader.backends.presets import preset_for
from nader.backends.skeletons import skeleton_named
from nader.data.base import DatasetSplits
from nader.data.load import load_dataset
from nader.ir.parser import parse_network
from nader.plugins.manager import build_runtime
from nader.plugins.registries import Runtime
from nader.training.config import EpochRecord
from nader.training.early_stop import early_stop_verdict
from nader.training.job import DatasetRef, EpochHistory, JobOutcome, TrainingJob
from nader.training.loop import build_seeded, train_model
from nader.training.proxies import zero_cost_proxies

#: images in the batch the NASWOT proxy reads
PROXY_BATCH = 64


@functools.lru_cache(maxsize=1)
def _runtime() -> Runtime:
    return build_runtime()


@functools.lru_cache(maxsize=4)
def _dataset(ref: DatasetRef) -> DatasetSplits:
    return load_dataset(
        ref.name,
        data_dir=ref.data_dir,
        split_file=ref.split_file,
        seed=ref.seed,
        runtime=_runtime(),
    )


def _append_line(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def proxy_inputs(data: DatasetSplits, rows: int = PROXY_BATCH) -> torch.Tensor:
    """The first ``rows`` training images, normalised as training sees them (deterministic)."""
    images = data.train.images[:rows].float() / 255.0
    mean = torch.tensor(data.mean).view(1, -1, 1, 1)
    std = torch.tensor(data.std).view(1, -1, 1, 1)
    return (images - mean) / std


def train_job(job: TrainingJob) -> JobOutcome:
    """Compile ``job.network_text`` at ``job.width``, score it with the zero-cost proxies, and
    train it under ``job.train``."""
    if job.threads:
        torch.set_num_threads(job.threads)
    phases: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        phases[name] = round(now - clock, 4)
        clock = now

    runtime = _runtime()
    data = _dataset(job.dataset)
    lap("dataset")
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
    lap("compile")
    proxies = zero_cost_proxies(model, proxy_inputs(data), seed=job.train.seed)
    lap("proxies")
    curve: list[float | None] = []

    def on_epoch(record: EpochRecord) -> str | None:
        curve.append(record.valid_acc)
        if job.epoch_log is not None:
            _append_line(job.epoch_log, EpochHistory.of(record).model_dump_json())
        return early_stop_verdict(job.train.early_stop, curve, job.reference_curves)

    result = train_model(model, data, job.train, checkpoint_path=job.checkpoint, on_epoch=on_epoch)
    lap("training")
    if result.status == "paused":  # train_model pauses only when asked to; a job never asks
        return JobOutcome.failure(job.arch_id, "training paused unexpectedly")
    stopped = result.status in ("diverged", "no_progress", "stopped_early")
    return JobOutcome(
        arch_id=job.arch_id,
        status=result.status,
        valid_acc=result.valid_acc,
        test_acc=result.test_acc,
        epochs=result.epochs_completed,
        error=result.reason if stopped else None,
        steps=result.steps,
        train_seconds=result.train_seconds,
        images_per_second=result.images_per_second,
        params=compiled.params,
        flops=compiled.flops,
        fvcore_flops=compiled.fvcore_flops,
        width=compiled.width,
        history=[EpochHistory.of(record) for record in result.history],
        proxies=proxies,
        phases=phases,
    )
