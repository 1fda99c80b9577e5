"""The tracker interface, the ``[tracking]`` config and the fan-out a session talks to."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from nader.errors import ConfigError, NaderError

if TYPE_CHECKING:
    from nader.plugins.registries import Runtime

log = logging.getLogger("nader.tracking")


class TrackingConfig(BaseModel):
    """``[tracking]``: which experiment trackers mirror the run's metrics."""

    model_config = ConfigDict(extra="forbid")

    #: registered tracker names, e.g. ``["tensorboard", "jsonl"]`` (none by default)
    trackers: list[str] = Field(default_factory=list)
    #: where file-based trackers write, relative to the run directory
    dir: str = "tracking"
    #: MLflow tracking URI (default: MLflow's own, ``./mlruns`` or ``$MLFLOW_TRACKING_URI``)
    mlflow_tracking_uri: str | None = None
    #: MLflow experiment name (default: the run's name)
    mlflow_experiment: str | None = None


@dataclass(frozen=True)
class ArchitectureEvent:
    """One architecture as recorded, with the run's state at that moment.

    ``record`` is the architecture's ``summary.json`` record (the public contract: ``id``,
    ``status``, ``valid_acc``, ``params``, ``extra["history"]``...); ``index`` counts recorded
    architectures from 1 and is the step of run-level series.
    """

    record: Mapping[str, Any]
    index: int
    best_id: str | None
    best_valid_acc: float | None
    usage: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Tracker(Protocol):
    """What a tracker does; each method may be called many times, ``close`` once, last."""

    def on_epoch(self, arch_id: str, record: Mapping[str, Any]) -> None:
        """One epoch of ``arch_id``: ``{"epoch", "train_loss", "train_acc", "valid_acc", ...}``."""

    def on_architecture(self, event: ArchitectureEvent) -> None:
        """An architecture was recorded (trained, failed, stopped early...)."""

    def on_run_end(self, summary: Mapping[str, Any]) -> None:
        """The run finished; ``summary`` is what ``summary.json`` holds."""

    def close(self) -> None:
        """Flush and release files or connections."""


class TrackerFanOut:
    """Every configured tracker behind one object, keeping the run's best-so-far.

    A tracker that raises is logged and dropped: tracking is a mirror, and a broken mirror must
    not stop a design session.
    """

    def __init__(self, trackers: Iterable[tuple[str, Tracker]] = ()) -> None:
        self._trackers = list(trackers)
        self._index = 0
        self._best_id: str | None = None
        self._best: float | None = None
        self.problems: list[str] = []

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._trackers]

    def _each(self, method: str, *args: Any) -> None:
        for name, tracker in list(self._trackers):
            try:
                getattr(tracker, method)(*args)
            except Exception as err:  # noqa: BLE001 - any tracker failure is handled alike
                problem = (
                    f"tracker {name!r} failed in {method} ({type(err).__name__}: {err}); dropped"
                )
                log.warning(problem)
                self.problems.append(problem)
                self._trackers.remove((name, tracker))

    def on_epoch(self, arch_id: str, record: Mapping[str, Any]) -> None:
        self._each("on_epoch", str(arch_id), record)

    def on_architecture(self, record: Mapping[str, Any], usage: Mapping[str, Any]) -> None:
        """Forward ``record`` (a ``summary.json`` record) with the best-so-far by validation."""
        self._index += 1
        acc = record.get("valid_acc")
        improves = acc is not None and (self._best is None or float(acc) > self._best)
        if record.get("status") == "trained" and improves:
            assert acc is not None
            self._best, self._best_id = float(acc), str(record.get("id"))
        event = ArchitectureEvent(dict(record), self._index, self._best_id, self._best, usage)
        self._each("on_architecture", event)

    def on_run_end(self, summary: Mapping[str, Any]) -> None:
        self._each("on_run_end", summary)

    def close(self) -> None:
        self._each("close")


def build_trackers(config: TrackingConfig, runtime: Runtime, run_dir: Path) -> TrackerFanOut:
    """The trackers ``config`` names, built by their registered factories."""
    built: list[tuple[str, Tracker]] = []
    for name in config.trackers:
        if name not in runtime.trackers:
            known = ", ".join(sorted(runtime.trackers.names())) or "none"
            raise ConfigError(f"tracking.trackers: no tracker named {name!r}; available: {known}")
        try:
            built.append((name, runtime.trackers.get(name)(config, Path(run_dir))))
        except NaderError:
            raise
        except Exception as err:  # noqa: BLE001 - a plugin's factory may raise anything
            raise ConfigError(f"tracker {name!r} could not start: {err}") from err
    return TrackerFanOut(built)
