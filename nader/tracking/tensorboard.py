"""The ``tensorboard`` tracker: event files under ``RUN_DIR/<tracking.dir>/tensorboard``.

Written with ``torch.utils.tensorboard`` (it needs the ``tensorboard`` package, in the
``training`` extra). Tags: ``arch/<id>/<field>`` per epoch (step = epoch),
``architectures/<field>`` and ``run/best_valid_acc`` per recorded architecture (step = its
index in the run), ``llm/input_tokens``, ``llm/output_tokens``, ``llm/cost_usd`` likewise
(and once more at the end of the run, one step past the last architecture).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nader.errors import ConfigError
from nader.tracking.base import ArchitectureEvent, TrackingConfig
from nader.tracking.scalars import ARCH_FIELDS, EPOCH_FIELDS, history, numbers

_USAGE = ("input_tokens", "output_tokens", "cost_usd")


class TensorBoardTracker:
    """Scalars for TensorBoard; epochs already sent by ``on_epoch`` are not written twice."""

    def __init__(self, config: TrackingConfig, run_dir: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:
            raise ConfigError(
                "the tensorboard tracker needs TensorBoard: pip install 'nader[training]'"
            ) from err
        self.log_dir = Path(run_dir) / config.dir / "tensorboard"
        self._writer = SummaryWriter(log_dir=str(self.log_dir))
        self._seen: set[tuple[str, int]] = set()
        self._last_index = 0

    def on_epoch(self, arch_id: str, record: Mapping[str, Any]) -> None:
        epoch = int(record["epoch"])
        if (arch_id, epoch) in self._seen:
            return
        self._seen.add((arch_id, epoch))
        for name, value in numbers(record, EPOCH_FIELDS):
            self._writer.add_scalar(f"arch/{arch_id}/{name}", value, epoch)

    def on_architecture(self, event: ArchitectureEvent) -> None:
        arch_id = str(event.record.get("id"))
        self._last_index = event.index
        for item in history(event.record):
            self.on_epoch(arch_id, item)
        for name, value in numbers(event.record, ARCH_FIELDS):
            self._writer.add_scalar(f"architectures/{name}", value, event.index)
        if event.best_valid_acc is not None:
            self._writer.add_scalar("run/best_valid_acc", event.best_valid_acc, event.index)
        for name, value in numbers(event.usage, _USAGE):
            self._writer.add_scalar(f"llm/{name}", value, event.index)
        self._writer.flush()

    def on_run_end(self, summary: Mapping[str, Any]) -> None:
        best = summary.get("best")
        # the final usage (designs after the last recorded architecture cost tokens too)
        for name, value in numbers(summary.get("usage") or {}, _USAGE):
            self._writer.add_scalar(f"llm/{name}", value, self._last_index + 1)
        self._writer.add_text("run/summary", f"best architecture: {best}", 0)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
