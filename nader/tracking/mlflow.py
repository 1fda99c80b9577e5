"""The ``mlflow`` tracker (``pip install 'nader[mlflow]'``): one MLflow run per nader run.

Metrics: ``arch.<id>.<field>`` per epoch (step = epoch), ``architectures.<field>`` and
``best_valid_acc`` per recorded architecture (step = its index), ``llm.<field>`` likewise.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nader.errors import ConfigError
from nader.tracking.base import ArchitectureEvent, TrackingConfig
from nader.tracking.scalars import ARCH_FIELDS, EPOCH_FIELDS, history, numbers


class MlflowTracker:
    def __init__(self, config: TrackingConfig, run_dir: Path) -> None:
        try:
            import mlflow
        except ImportError as err:
            raise ConfigError(
                "the mlflow tracker needs MLflow: pip install 'nader[mlflow]'"
            ) from err
        self._mlflow: Any = mlflow
        if config.mlflow_tracking_uri:
            mlflow.set_tracking_uri(config.mlflow_tracking_uri)
        mlflow.set_experiment(config.mlflow_experiment or Path(run_dir).name)
        self._run = mlflow.start_run(run_name=Path(run_dir).name)
        self._seen: set[tuple[str, int]] = set()

    def on_epoch(self, arch_id: str, record: Mapping[str, Any]) -> None:
        epoch = int(record["epoch"])
        if (arch_id, epoch) in self._seen:
            return
        self._seen.add((arch_id, epoch))
        for name, value in numbers(record, EPOCH_FIELDS):
            self._mlflow.log_metric(f"arch.{arch_id}.{name}", value, step=epoch)

    def on_architecture(self, event: ArchitectureEvent) -> None:
        arch_id = str(event.record.get("id"))
        for item in history(event.record):
            self.on_epoch(arch_id, item)
        for name, value in numbers(event.record, ARCH_FIELDS):
            self._mlflow.log_metric(f"architectures.{name}", value, step=event.index)
        if event.best_valid_acc is not None:
            self._mlflow.log_metric("best_valid_acc", event.best_valid_acc, step=event.index)
        for name, value in numbers(event.usage, ("input_tokens", "output_tokens", "cost_usd")):
            self._mlflow.log_metric(f"llm.{name}", value, step=event.index)

    def on_run_end(self, summary: Mapping[str, Any]) -> None:
        if summary.get("best") is not None:
            self._mlflow.set_tag("best_architecture", str(summary["best"]))

    def close(self) -> None:
        self._mlflow.end_run()
