"""Built-in plugin: the ``tensorboard``, ``jsonl`` and ``mlflow`` trackers.

Their modules import TensorBoard or MLflow only when a tracker is built, so listing plugins
needs neither.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nader.hookspecs import hookimpl
from nader.tracking.base import TrackingConfig


def _tensorboard(config: TrackingConfig, run_dir: Path) -> Any:
    from nader.tracking.tensorboard import TensorBoardTracker

    return TensorBoardTracker(config, run_dir)


def _jsonl(config: TrackingConfig, run_dir: Path) -> Any:
    from nader.tracking.jsonl import JsonlTracker

    return JsonlTracker(config, run_dir)


def _mlflow(config: TrackingConfig, run_dir: Path) -> Any:
    from nader.tracking.mlflow import MlflowTracker

    return MlflowTracker(config, run_dir)


@hookimpl
def register_trackers(register: Callable[..., Any]) -> None:
    register("tensorboard", _tensorboard)
    register("jsonl", _jsonl)
    register("mlflow", _mlflow)
