"""Training checkpoints: our own file, written atomically after every epoch.

A checkpoint holds the model, optimiser, scaler and every RNG state, so an interrupted run
resumes to the same weights; it is loaded with ``weights_only=True`` (no pickle of objects) and
refused, with the settings that differ, when it was written for other settings or data.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from nader.training.config import EpochRecord, TrainingError, TrainResult

CHECKPOINT_FORMAT = 1


class Checkpointed(Protocol):
    """The state of a training loop that a checkpoint saves and restores."""

    checkpoint_path: Path | None
    fingerprint: dict[str, Any]
    epoch: int
    step: int
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    generator: torch.Generator
    history: list[EpochRecord]
    train_seconds: float
    train_images: int

    @property
    def device(self) -> torch.device: ...


def save(loop: Checkpointed, finished: TrainResult | None) -> None:
    """Write the checkpoint atomically (a crash mid-write leaves the previous one intact)."""
    if loop.checkpoint_path is None:
        return
    state = {
        "format": CHECKPOINT_FORMAT,
        "fingerprint": loop.fingerprint,
        "epoch": loop.epoch,
        "step": loop.step,
        "model": loop.model.state_dict(),
        "optimizer": loop.optimizer.state_dict(),
        "scaler": loop.scaler.state_dict(),
        "generator": loop.generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(loop.device) if loop.device.type == "cuda" else None,
        "history": [record.model_dump(mode="json") for record in loop.history],
        "train_seconds": loop.train_seconds,
        "train_images": loop.train_images,
        "finished": finished.model_dump(mode="json") if finished is not None else None,
    }
    path = Path(loop.checkpoint_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def restore(loop: Checkpointed) -> TrainResult | None:
    """Resume from the checkpoint if there is one; return its result when it is finished."""
    if loop.checkpoint_path is None or not Path(loop.checkpoint_path).exists():
        return None
    path = Path(loop.checkpoint_path)
    try:
        state = torch.load(path, map_location=loop.device, weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable checkpoint is the same user error
        raise TrainingError(
            f"{path}: not a readable nader training checkpoint ({type(err).__name__}: {err})"
        ) from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise TrainingError(f"{path}: not a nader training checkpoint (format {CHECKPOINT_FORMAT})")
    if state["fingerprint"] != loop.fingerprint:
        raise TrainingError(
            f"{path}: checkpoint was written with other settings or data: {_differences(state['fingerprint'], loop.fingerprint)}"
        )
    try:
        loop.model.load_state_dict(state["model"])
    except RuntimeError as err:
        raise TrainingError(f"{path}: checkpoint does not fit this model ({err})") from err
    if state["finished"] is not None:
        return TrainResult.model_validate(state["finished"])
    loop.optimizer.load_state_dict(state["optimizer"])
    loop.scaler.load_state_dict(state["scaler"])
    loop.generator.set_state(state["generator"].cpu())
    torch.set_rng_state(state["torch_rng"].cpu())
    if state["cuda_rng"] is not None and loop.device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"].cpu(), loop.device)
    loop.epoch, loop.step = int(state["epoch"]), int(state["step"])
    loop.history = [EpochRecord.model_validate(record) for record in state["history"]]
    loop.train_seconds, loop.train_images = (
        float(state["train_seconds"]),
        int(state["train_images"]),
    )
    return None


def _differences(stored: dict[str, Any], current: dict[str, Any]) -> str:
    stored_config, current_config = stored.get("config", {}), current["config"]
    changed = [
        f"{key}: {stored_config.get(key)!r} -> {value!r}"
        for key, value in current_config.items()
        if stored_config.get(key) != value
    ]
    if stored.get("data") != current["data"]:
        changed.append(f"data: {stored.get('data')!r} -> {current['data']!r}")
    return "; ".join(changed) or "unknown difference"
