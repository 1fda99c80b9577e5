"""What a person watching a run sees: a live panel on a terminal, plain log lines otherwise.

The session calls :meth:`Progress.update` with a :class:`~nader.session.progress.ProgressState`
after every change. On a TTY a ``rich`` live panel shows architectures done/running/failed, the
best validation accuracy, tokens and dollars spent, and an ETA; when stdout is not a terminal (CI,
``nohup``, a pipe) the same facts are printed as one plain line per change, so logs stay greppable.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from nader.session.progress import ProgressState


class Progress:
    """Live panel (TTY) or plain lines (otherwise); use as a context manager."""

    def __init__(self, stream: IO[str] | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self._live: Any = None
        self._last_line = ""

    def __enter__(self) -> Progress:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(
                console=Console(file=self.stream), refresh_per_second=4, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    def note(self, line: str) -> None:
        if self._live is not None:
            self._live.console.print(f"nader: {line}")
            return
        print(f"nader: {line}", file=self.stream, flush=True)

    def update(self, state: ProgressState, event: str = "") -> None:
        if event:
            state.last_event = event
        if self._live is not None:
            # rendered on every refresh (4 per second), so the clock ticks between updates
            self._live.update(_LivePanel(state))
            return
        line = state.line()
        if event:
            line = f"{event} :: {line}"
        if line != self._last_line:
            print(line, file=self.stream, flush=True)
            self._last_line = line

    @staticmethod
    def _panel(state: ProgressState) -> Any:
        from rich.panel import Panel
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        eta = state.eta_s()
        table.add_row(
            "architectures",
            f"{state.done}/{state.target} trained, {state.running} training, {state.failed} failed, {state.duplicates} duplicates, {state.stopped_early} stopped early",
        )
        for arch_id, epoch in sorted(state.training.items()):
            table.add_row(f"training {arch_id}", epoch)
        table.add_row(
            "best valid acc",
            f"{state.best_valid:.4f} ({state.best_id})" if state.best_valid is not None else "-",
        )
        table.add_row(
            "LLM usage",
            f"{state.input_tokens:,} in + {state.output_tokens:,} out tokens, ${state.cost_usd:.4f}",
        )
        table.add_row(
            "time",
            f"{time.monotonic() - state.started:.0f}s elapsed, ETA {eta:.0f}s"
            if eta is not None
            else f"{time.monotonic() - state.started:.0f}s elapsed",
        )
        if state.designing:
            table.add_row("designing", state.designing)
        if state.last_event:
            table.add_row("last", state.last_event)
        return Panel(table, title="nader run", border_style="blue")


class _LivePanel:
    """The panel of ``state``, built again each time rich renders it (the clock keeps time)."""

    def __init__(self, state: ProgressState) -> None:
        self.state = state

    def __rich__(self) -> Any:
        return Progress._panel(self.state)
