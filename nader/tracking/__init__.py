"""Experiment tracking: mirror a run's metrics into TensorBoard, MLflow, a JSONL file...

Trackers are plugins (``register_trackers``); the built-ins are ``tensorboard``, ``jsonl`` and
``mlflow`` (the last needs the ``mlflow`` extra). A session builds the ones named in
``[tracking] trackers`` into one :class:`TrackerFanOut` and calls it where an architecture is
recorded and where the run ends; ``on_epoch`` is there for per-epoch ingestion. The run
directory stays the source of truth: trackers only copy what the run already recorded.
"""

from nader.tracking.base import (
    ArchitectureEvent,
    Tracker,
    TrackerFanOut,
    TrackingConfig,
    build_trackers,
)

__all__ = ["ArchitectureEvent", "Tracker", "TrackerFanOut", "TrackingConfig", "build_trackers"]
