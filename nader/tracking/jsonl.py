"""The ``jsonl`` tracker: one JSON object per event in ``RUN_DIR/<tracking.dir>/events.jsonl``.

The simplest mirror to tail or load into pandas; each line is flushed as it is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nader.tracking.base import ArchitectureEvent, TrackingConfig


class JsonlTracker:
    def __init__(self, config: TrackingConfig, run_dir: Path) -> None:
        self.path = Path(run_dir) / config.dir / "events.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def _write(self, payload: Mapping[str, Any]) -> None:
        self._file.write(json.dumps(payload, default=str) + "\n")
        self._file.flush()

    def on_epoch(self, arch_id: str, record: Mapping[str, Any]) -> None:
        self._write({"event": "epoch", "arch": arch_id, **record})

    def on_architecture(self, event: ArchitectureEvent) -> None:
        self._write(
            {
                "event": "architecture",
                "index": event.index,
                "record": dict(event.record),
                "best_id": event.best_id,
                "best_valid_acc": event.best_valid_acc,
                "usage": dict(event.usage),
            }
        )

    def on_run_end(self, summary: Mapping[str, Any]) -> None:
        self._write(
            {"event": "run_end", "best": summary.get("best"), "usage": summary.get("usage")}
        )

    def close(self) -> None:
        self._file.close()
