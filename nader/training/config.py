"""What a training run is told and what it reports: :class:`TrainConfig`, :class:`TrainResult`.

Defaults are NAS-Bench-201's: SGD with Nesterov momentum 0.9, learning rate 0.1 annealed to 0 by a
cosine over every step, weight decay 5e-4, batch 256, 200 epochs, random crop (pad 4 on CIFAR, 2 on
ImageNet16-120) and horizontal flip, per-channel normalisation, seeds 777/888/999. Every knob is a
field of :class:`TrainConfig`, so a search can train a few-epoch proxy and a test can cap batches.

This module imports no torch: configs are validated (``nader run`` checks them before any work)
and results are read (reports, the session) where torch is not loaded.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nader.errors import BackendError

#: The three seeds NAS-Bench-201 trains every architecture with.
PROTOCOL_SEEDS = (777, 888, 999)

Status = Literal["trained", "diverged", "no_progress", "stopped_early", "paused"]


class TrainingError(BackendError):
    """Training could not start or resume (bad checkpoint, mismatched settings, empty data)."""


class EarlyStopConfig(BaseModel):
    """``[train.early_stop]``: stop a candidate that is clearly worse than the candidates already
    trained, at the same epoch (multi-fidelity search: its epochs go to better candidates).

    ``median``: the median stopping rule (Golovin et al., Google Vizier): from ``min_epochs`` on,
    stop when the candidate's best validation accuracy so far is below the median of the
    reference candidates' best accuracy up to the same epoch. ``asha``: successive halving on
    rungs at ``min_epochs * eta**k`` epochs (Li et al., ASHA): at a rung, continue only when the
    candidate is in the top ``1/eta`` of the reference accuracies at that rung. Either rule waits
    for ``min_references`` reference curves reaching that epoch; with fewer it never stops.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["none", "median", "asha"] = "none"
    min_epochs: int = Field(default=1, ge=1)
    min_references: int = Field(default=3, ge=1)
    eta: int = Field(default=3, ge=2)
    #: median rule: stop only when below the median by more than this (accuracy, 0..1)
    margin: float = Field(default=0.0, ge=0, le=1)


class TrainConfig(BaseModel):
    """Every knob of a training run; the defaults are NAS-Bench-201's 200-epoch protocol."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int = Field(default=200, ge=1)
    batch_size: int = Field(default=256, ge=2)
    eval_batch_size: int = Field(default=512, ge=1)
    lr: float = Field(default=0.1, gt=0)
    min_lr: float = Field(default=0.0, ge=0)
    warmup_epochs: int = Field(default=0, ge=0)
    momentum: float = Field(default=0.9, ge=0, lt=1)
    nesterov: bool = True
    weight_decay: float = Field(default=5e-4, ge=0)
    label_smoothing: float = Field(default=0.0, ge=0, lt=1)
    grad_clip_norm: float | None = Field(default=None, gt=0)
    #: None: the dataset's protocol value (4 on CIFAR, 2 on ImageNet16-120).
    crop_padding: int | None = Field(default=None, ge=0)
    horizontal_flip: bool | None = None
    seed: int = Field(default=777, ge=0)
    #: "auto" is CUDA when available, else CPU.
    device: str = "auto"
    #: "auto" is bf16 (fp16 where bf16 is unsupported) on CUDA, fp32 elsewhere.
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    #: None: channels_last on CUDA only, where convolutions gain from it.
    channels_last: bool | None = None
    compile: bool = False
    max_train_batches: int | None = Field(default=None, ge=1)
    max_eval_batches: int | None = Field(default=None, ge=1)
    valid_every_epochs: int = Field(default=1, ge=1)
    #: Stop as ``no_progress`` when, from this epoch on, the best validation accuracy is still
    #: at most chance + ``progress_margin``; 0 turns the check off.
    patience_epochs: int = Field(default=5, ge=0)
    progress_margin: float = Field(default=0.02, ge=0, le=1)
    #: Steps between finiteness checks of the loss (each costs one device synchronisation).
    nonfinite_check_every: int = Field(default=20, ge=1)
    #: rule that stops a candidate worse than its peers (not part of a checkpoint's fingerprint)
    early_stop: EarlyStopConfig = Field(default_factory=EarlyStopConfig)

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr ({self.min_lr}) exceeds lr ({self.lr})")
        if self.warmup_epochs >= self.epochs:
            raise ValueError(
                f"warmup_epochs ({self.warmup_epochs}) must be below epochs ({self.epochs})"
            )
        if self.nesterov and self.momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        return self


class EpochRecord(BaseModel):
    """What one epoch did; ``valid_acc`` is None on epochs without validation."""

    epoch: int
    lr: float
    train_loss: float
    train_acc: float
    valid_acc: float | None
    seconds: float
    images: int


class TrainResult(BaseModel):
    """Outcome of :func:`train_model`. Search decisions read ``valid_acc`` only.

    Status ``trained`` (the run store's word for a finished run), ``diverged``, ``no_progress``,
    ``stopped_early`` (an early-termination rule stopped it; ``reason`` names the rule and epoch)
    or ``paused``. ``test_acc`` is measured once, after a finished run, for reporting. ``epochs_completed``
    counts whole epochs; ``steps`` counts optimiser steps (a run that diverged mid-epoch spent
    ``steps`` steps). ``reason`` says why a run stopped early.
    """

    status: Status
    valid_acc: float | None
    test_acc: float | None
    epochs_completed: int
    epochs_planned: int
    steps: int
    seed: int
    device: str
    train_seconds: float
    train_images: int
    reason: str | None = None
    history: list[EpochRecord] = Field(default_factory=list)

    @property
    def images_per_second(self) -> float:
        return self.train_images / self.train_seconds if self.train_seconds > 0 else 0.0
