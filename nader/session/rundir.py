"""Opening a run directory: a fresh start or a ``--resume``, the stored config checked against
the current one, and the session's log file.

Every check is made before anything is written, with the run's lock held
(:class:`~nader.session.lock.RunLock`): a fresh start never writes over another run's files, a
``--resume`` never starts over on top of them (a missing or damaged ``state.db`` is refused, not
replaced), and a refused start leaves every file as it was.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from nader.errors import ConfigError
from nader.llm.redaction import RedactingFilter, Redactor
from nader.session.config import SessionConfig
from nader.session.lock import LOCK_NAME
from nader.session.store import RunStore, damaged

#: config keys that may change between a run and its --resume (budgets and where it trains)
_RESUMABLE_CHANGES = (
    "run.max_architectures",
    "run.max_designs",
    "run.max_wall_clock_s",
    "run.queue_size",
    "executor.",
)


def open_run(run_dir: Path, config: SessionConfig, *, resume: bool) -> RunStore:
    """The run's store, after checking that starting (or resuming) here is what was meant.

    Call it with the run's lock held. An empty or missing directory starts a new run (with or
    without ``resume``).

    :raises ConfigError: the directory holds files and ``resume`` is off, or the run was made
        with a config that differs in more than its budgets.
    :raises DamagedStateError: ``resume`` finds the run's files without a readable ``state.db``.
    """
    state = run_dir / "state.db"
    present = (
        sorted(p.name for p in run_dir.iterdir() if p.name != LOCK_NAME) if run_dir.is_dir() else []
    )
    if present and not resume and state.exists():
        raise ConfigError(
            f"{run_dir} already holds a run ({state} exists); pass --resume to continue it, or "
            "choose another --run-dir"
        )
    if present and not resume:
        raise ConfigError(
            f"{run_dir} is not empty ({', '.join(present[:4])}); a new run needs an empty or new "
            "--run-dir"
        )
    if present and not state.exists():
        raise damaged(
            state,
            f"missing, while {run_dir} holds {', '.join(present[:4])}: nothing to resume from",
        )
    store = RunStore(run_dir)
    try:
        stored = store.get_meta("config")
        if present and store.all() and stored is None:
            raise damaged(state, "it holds architectures but no run config")
        current = config.model_dump(mode="json")
        if stored is not None:
            try:
                before = json.loads(stored)
            except json.JSONDecodeError as err:
                raise damaged(state, f"the stored config is not JSON: {err}") from err
            check_resume_compatible(before, current)
    except BaseException:
        store.close()
        raise
    store.set_meta("config", json.dumps(current, sort_keys=True))
    (run_dir / "config.json").write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return store


def check_resume_compatible(stored: dict[str, Any], current: dict[str, Any]) -> None:
    before, after = _flatten(stored), _flatten(current)
    changed = sorted(
        key
        for key in set(before) | set(after)
        if before.get(key) != after.get(key) and not key.startswith(_RESUMABLE_CHANGES)
    )
    if changed:
        raise ConfigError(
            "--resume with a config that differs from the run's in: "
            + ", ".join(changed)
            + " (only budgets under [run] and [executor] may change)"
        )


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def session_log(run_dir: Path, redactor: Redactor | None = None) -> logging.Handler:
    """Send nader's INFO log lines to ``logs/session.log`` (remove the handler when done).

    With ``redactor``, the API keys it knows are taken out of every line before it is written
    (the LLM client already redacts what servers send; this catches anything logged directly).
    """
    handler = logging.FileHandler(run_dir / "logs" / "session.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if redactor is not None:
        handler.addFilter(RedactingFilter(redactor))
    handler.setLevel(logging.INFO)
    root = logging.getLogger("nader")
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler
