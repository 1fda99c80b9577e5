"""A run's progress: the facts a person watching it wants (:class:`ProgressState`), tallied from
the store's records, and the sink the loop reports them to (:class:`ProgressSink`).

The session never prints: the command line passes a sink that draws a live panel or plain lines
(:mod:`nader.cli.progress`); library users may pass their own, or none.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from nader.llm.usage import UsageLedger
from nader.session.store import FINAL_STATUSES, PENDING_STATUSES, Architecture
from nader.training.job import EpochHistory


@dataclass
class ProgressState:
    target: int
    done: int = 0
    running: int = 0
    failed: int = 0
    duplicates: int = 0
    designing: str = ""
    best_valid: float | None = None
    best_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    started: float = field(default_factory=time.monotonic)
    last_event: str = ""
    #: candidates stopped early by an early-termination rule (counted apart from failures)
    stopped_early: int = 0
    #: architecture id -> its latest epoch, for candidates in training
    training: dict[str, str] = field(default_factory=dict)

    def saw_epoch(self, arch_id: str, record: EpochHistory, epochs: int) -> str:
        """Remember ``record`` as ``arch_id``'s latest epoch; returns the line that says so."""
        valid = f" valid {record.valid_acc:.4f}" if record.valid_acc is not None else ""
        text = (
            f"epoch {record.epoch}/{epochs} loss {record.train_loss:.4f} "
            f"acc {record.train_acc:.4f}{valid} ({record.images_per_second:.0f} img/s)"
        )
        self.training[arch_id] = text
        return f"{arch_id}: {text}"

    def eta_s(self) -> float | None:
        finished = self.done + self.failed + self.stopped_early
        if finished == 0 or self.target <= finished:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / finished * (self.target - finished)

    def line(self) -> str:
        eta = self.eta_s()
        best = f"{self.best_valid:.4f} ({self.best_id})" if self.best_valid is not None else "-"
        parts = [
            f"trained {self.done}/{self.target}",
            f"running {self.running}",
            f"failed {self.failed}",
            f"stopped early {self.stopped_early}",
            f"duplicates {self.duplicates}",
            f"best valid {best}",
            f"tokens {self.input_tokens}+{self.output_tokens}",
            f"${self.cost_usd:.4f}",
            f"elapsed {time.monotonic() - self.started:.0f}s",
            f"eta {eta:.0f}s" if eta is not None else "eta -",
        ]
        return " | ".join(parts)


def tally(state: ProgressState, archs: Sequence[Architecture], usage: UsageLedger) -> ProgressState:
    """Fill ``state`` from the stored architectures and the usage ledger."""
    state.done = sum(a.status == "trained" for a in archs)
    state.running = sum(a.status in PENDING_STATUSES for a in archs)
    state.failed = sum(
        a.status in FINAL_STATUSES - {"trained", "stopped_early", "duplicate"} for a in archs
    )
    state.stopped_early = sum(a.status == "stopped_early" for a in archs)
    pending = {a.id for a in archs if a.status in PENDING_STATUSES}
    state.training = {k: v for k, v in state.training.items() if k in pending}
    state.duplicates = sum(a.status == "duplicate" for a in archs)
    trained = [a for a in archs if a.status == "trained" and a.valid_acc is not None]
    if trained:
        best = max(trained, key=lambda a: a.valid_acc or 0.0)
        state.best_valid, state.best_id = best.valid_acc, best.id
    state.input_tokens = usage.total.tokens.input_tokens
    state.output_tokens = usage.total.tokens.output_tokens
    state.cost_usd = usage.total.cost_usd
    return state


class ProgressSink(Protocol):
    """Where the loop reports progress (the command line's console, a notebook, nothing)."""

    def update(self, state: ProgressState, event: str = "") -> None:
        """The run changed; ``event`` says how, when it is worth a line."""

    def note(self, line: str) -> None:
        """A one-off message for the person running the session."""


class NoProgress:
    """The sink of a session nobody watches."""

    def update(self, state: ProgressState, event: str = "") -> None:
        return None

    def note(self, line: str) -> None:
        return None
