"""The one typed model of a training job, in both directions: :class:`TrainingJob` goes to a
worker, :class:`JobOutcome` comes back.

Both cross a process boundary (a spawned worker, a Ray task) as JSON made by pydantic, and are
validated on arrival: an outcome without a status, or with one not listed here, is refused, never
read as "trained". The session builds jobs and reads outcomes; the worker
(:mod:`nader.training.worker`) knows these models and nothing of the session's store or summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nader.training.config import EpochRecord, TrainConfig

#: How a candidate's training ended.
OutcomeStatus = Literal["trained", "failed", "diverged", "no_progress", "stopped_early", "timeout"]


class EpochHistory(BaseModel):
    """One epoch of a candidate, as the run keeps it (``extra["history"]``, ``"epoch"`` events,
    ``arch/<id>/epochs.jsonl``): a contract other tools (the report, trackers) read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epoch: int = Field(ge=1)
    train_loss: float
    train_acc: float
    valid_acc: float | None
    lr: float
    images_per_second: float
    seconds: float

    @classmethod
    def of(cls, record: EpochRecord) -> EpochHistory:
        return cls(
            epoch=record.epoch,
            train_loss=record.train_loss,
            train_acc=record.train_acc,
            valid_acc=record.valid_acc,
            lr=record.lr,
            images_per_second=record.images / record.seconds if record.seconds > 0 else 0.0,
            seconds=record.seconds,
        )


class DatasetRef(BaseModel):
    """Which dataset a worker loads (through the plugin registry), not the data itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    data_dir: Path | None = None
    split_file: Path | None = None
    seed: int = 0


class TrainingJob(BaseModel):
    """Train one architecture: its network (block text, parsed again by the worker's own
    parser: data, never code) at a width, on a dataset, under a training config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arch_id: str
    network_text: str
    skeleton: str
    width: int = Field(ge=1)
    dataset: DatasetRef
    train: TrainConfig
    #: written after every epoch; an existing one is resumed from
    checkpoint: Path | None = None
    #: torch intra-op threads in the worker (None: torch's default)
    threads: int | None = Field(default=None, ge=1)
    #: each finished epoch is appended here as one JSON line (:class:`EpochHistory`); the driver
    #: reads new lines while it polls, so progress streams from any worker that shares the disk
    epoch_log: Path | None = None
    #: validation accuracy per epoch of candidates already finished (``train.early_stop`` compares)
    reference_curves: list[list[float | None]] = Field(default_factory=list)


class JobOutcome(BaseModel):
    """What became of a :class:`TrainingJob`. Search decisions read ``valid_acc`` only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arch_id: str
    status: OutcomeStatus
    valid_acc: float | None = None
    test_acc: float | None = None
    epochs: int | None = None
    error: str | None = None
    #: seconds from submission to the outcome, as the executor measured them
    wall_s: float = 0.0
    steps: int | None = None
    train_seconds: float | None = None
    images_per_second: float | None = None
    #: the compiled network's costs (fvcore's multiply-adds beside the analytic FLOPs)
    params: int | None = None
    flops: int | None = None
    fvcore_flops: int | None = None
    width: int | None = None
    #: every epoch trained (a resumed run's earlier epochs included)
    history: list[EpochHistory] = Field(default_factory=list)
    #: zero-cost proxy scores of the untrained network (:mod:`nader.training.proxies`)
    proxies: dict[str, float] = Field(default_factory=dict)
    #: seconds per phase in the worker (dataset, compile, proxies, training, ...)
    phases: dict[str, float] = Field(default_factory=dict)

    @classmethod
    def failure(
        cls, arch_id: str, error: str, *, status: OutcomeStatus = "failed", wall_s: float = 0.0
    ) -> JobOutcome:
        return cls(arch_id=arch_id, status=status, error=error, wall_s=wall_s)

    def training_metrics(self) -> dict[str, float | int]:
        """The numbers worth keeping beside the architecture (those the worker reported)."""
        names = (
            "steps",
            "train_seconds",
            "images_per_second",
            "params",
            "flops",
            "fvcore_flops",
            "width",
        )
        values = {name: getattr(self, name) for name in names}
        metrics: dict[str, float | int] = {k: v for k, v in values.items() if v is not None}
        metrics["wall_s"] = round(self.wall_s, 3)
        return metrics
