"""The run directory: everything a run knows, kept consistent under ``kill -9``.

Layout::

    RUN_DIR/
      state.db            SQLite (WAL): architectures, the event log, run metadata
      summary.json        the DESIGN §2 contract, atomically replaced after every change
      config.toml         the validated config the run started with (resume checks it)
      arch/<id>/          network.txt (block text), metrics.json, checkpoints of its training
      llm/                recordings of every LLM exchange (append-only JSON lines)
      memory/             embedded Qdrant (knowledge and experience pools)
      logs/run.log        plain log lines, append-only

SQLite transactions make each state change atomic; files that other tools read (summary.json,
metrics.json) are written to a temporary name and ``os.replace``-d into place.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nader.errors import NaderError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS architectures (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    parent TEXT,
    suggestion TEXT,
    hash TEXT,
    status TEXT NOT NULL,
    network_text TEXT,
    width INTEGER,
    params INTEGER,
    flops INTEGER,
    valid_acc REAL,
    test_acc REAL,
    epochs INTEGER,
    error TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    tries INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    finished REAL,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS architectures_hash ON architectures(hash);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
"""

#: Statuses after which an architecture never changes again.
FINAL_STATUSES = frozenset(
    {
        "trained",
        "stopped_early",
        "failed",
        "diverged",
        "no_progress",
        "timeout",
        "invalid",
        "duplicate",
    }
)
#: Statuses of architectures whose training must (re)start on resume.
PENDING_STATUSES = frozenset({"queued", "training"})


@dataclass
class Architecture:
    """One node of the modification tree as stored."""

    id: str
    seq: int
    parent: str | None
    suggestion: str | None
    status: str
    hash: str | None = None
    network_text: str | None = None
    width: int | None = None
    params: int | None = None
    flops: int | None = None
    valid_acc: float | None = None
    test_acc: float | None = None
    epochs: int | None = None
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    tries: int = 0
    created: float = field(default_factory=time.time)
    finished: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The per-architecture entry of ``summary.json`` (contract keys first)."""
        return {
            "id": self.id,
            "parent": self.parent,
            "suggestion": self.suggestion,
            "hash": self.hash,
            "params": self.params,
            "flops": self.flops,
            "status": self.status,
            "valid_acc": self.valid_acc,
            "test_acc": self.test_acc,
            "width": self.width,
            "epochs": self.epochs,
            "error": self.error,
            "tokens": {"input": self.input_tokens, "output": self.output_tokens},
            "cost_usd": round(self.cost_usd, 6),
            "tries": self.tries,
            **({"extra": self.extra} if self.extra else {}),
        }


_COLUMNS = [f for f in Architecture.__dataclass_fields__]


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: Tables every run's ``state.db`` has; a file without them is not a nader run's state.
_TABLES = frozenset({"meta", "architectures", "events"})


class DamagedStateError(NaderError):
    """A run's stored state cannot be read as it was written: refused, never repaired or
    overwritten (the file is left exactly as it is, for the user to restore or inspect)."""


def damaged(path: Path, problem: str) -> DamagedStateError:
    """The one wording of a damaged-state refusal: the file, what is wrong, what to do."""
    return DamagedStateError(
        f"{path} is damaged ({problem}); nader leaves it as it is: restore it from a backup, "
        "or start a new run in another --run-dir"
    )


class RunStore:
    """Owns one run directory; all writes go through here.

    An existing ``state.db`` is checked before anything is written to it or beside it: an empty
    file, a file that is not SQLite, a page that fails SQLite's integrity check or missing tables
    raise :class:`DamagedStateError` (a zero-byte file would otherwise open as a new, empty run).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / "state.db"
        existing = self.path.exists()
        if existing and self.path.stat().st_size == 0:
            raise damaged(self.path, "it is empty: 0 bytes")
        self.root.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            if existing:
                self._check_integrity()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise damaged(self.path, str(err).splitlines()[0]) from err
        except BaseException:
            self._db.close()
            raise
        for sub in ("arch", "llm", "memory", "logs"):
            (self.root / sub).mkdir(exist_ok=True)

    def _check_integrity(self) -> None:
        """Read-only checks of an existing database (SQLite's quick check, nader's tables)."""
        problems = [str(row[0]) for row in self._db.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise damaged(self.path, f"SQLite integrity check: {problems[0]}")
        names = {
            str(row[0])
            for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        missing = sorted(_TABLES - names)
        if missing:
            raise damaged(self.path, f"no {', '.join(missing)} table: not a nader run's state")
        for arch_id, extra in self._db.execute("SELECT id, extra FROM architectures"):
            self._json(extra or "{}", f"architecture {arch_id}, extra")

    def close(self) -> None:
        self._db.close()

    # ---------------------------------------------------------------- metadata

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ---------------------------------------------------------------- architectures

    def next_seq(self) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM architectures").fetchone()
        return int(row[0])

    def add(self, arch: Architecture) -> None:
        values = asdict(arch)
        values["extra"] = json.dumps(arch.extra, sort_keys=True)
        placeholders = ", ".join("?" for _ in _COLUMNS)
        with self.transaction():
            self._db.execute(
                f"INSERT INTO architectures({', '.join(_COLUMNS)}) VALUES({placeholders})",
                [values[c] for c in _COLUMNS],
            )
            self._log_event("architecture_added", {"id": arch.id, "status": arch.status})
        if arch.network_text is not None:
            atomic_write_text(self.arch_dir(arch.id) / "network.txt", arch.network_text)

    def update(self, arch_id: str, **changes: Any) -> Architecture:
        if not changes:
            return self.get(arch_id)
        unknown = set(changes) - set(_COLUMNS)
        if unknown:
            raise KeyError(f"unknown architecture fields: {sorted(unknown)}")
        if "extra" in changes:
            changes["extra"] = json.dumps(changes["extra"], sort_keys=True)
        assignments = ", ".join(f"{k} = ?" for k in changes)
        with self.transaction():
            cursor = self._db.execute(
                f"UPDATE architectures SET {assignments} WHERE id = ?", [*changes.values(), arch_id]
            )
            if cursor.rowcount != 1:
                raise KeyError(f"no architecture {arch_id!r}")
            self._log_event(
                "architecture_updated",
                {"id": arch_id, **{k: v for k, v in changes.items() if k != "network_text"}},
            )
        arch = self.get(arch_id)
        if arch.status in FINAL_STATUSES:
            self.write_metrics(arch)
        return arch

    def record_epoch(self, arch_id: str, record: dict[str, Any]) -> Architecture:
        """Append one epoch to ``extra["history"]`` and log it as an ``"epoch"`` event, in one
        transaction; ``metrics.json`` is rewritten so a reader sees it as it happens. An epoch
        already in the history is ignored (a resumed worker may report it again)."""
        with self.transaction():
            arch = self.get(arch_id)
            history = list(arch.extra.get("history", []))
            if any(row.get("epoch") == record.get("epoch") for row in history):
                return arch
            history.append(record)
            history.sort(key=lambda row: int(row.get("epoch", 0)))
            arch.extra = {**arch.extra, "history": history}
            self._db.execute(
                "UPDATE architectures SET extra = ? WHERE id = ?",
                (json.dumps(arch.extra, sort_keys=True), arch_id),
            )
            self._log_event("epoch", {"id": arch_id, **record})
        self.write_metrics(arch)
        return arch

    def write_metrics(self, arch: Architecture) -> None:
        """``arch/<id>/metrics.json``: the architecture's summary entry, history included."""
        atomic_write_text(
            self.arch_dir(arch.id) / "metrics.json", json.dumps(arch.summary(), indent=2) + "\n"
        )

    def get(self, arch_id: str) -> Architecture:
        row = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM architectures WHERE id = ?", (arch_id,)
        ).fetchone()
        if row is None:
            raise KeyError(f"no architecture {arch_id!r}")
        return self._row(row)

    def all(self) -> list[Architecture]:
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM architectures ORDER BY seq"
        ).fetchall()
        return [self._row(row) for row in rows]

    def by_hash(self, digest: str) -> Architecture | None:
        row = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM architectures WHERE hash = ? AND status != 'duplicate' ORDER BY seq LIMIT 1",
            (digest,),
        ).fetchone()
        return None if row is None else self._row(row)

    def _row(self, row: tuple[Any, ...]) -> Architecture:
        values = dict(zip(_COLUMNS, row, strict=True))
        values["extra"] = self._json(values["extra"] or "{}", f"architecture {values['id']}, extra")
        return Architecture(**values)

    def _json(self, text: str, where: str) -> Any:
        try:
            return json.loads(text)
        except (json.JSONDecodeError, TypeError) as err:
            raise damaged(self.path, f"{where}: not JSON: {err}") from err

    def arch_dir(self, arch_id: str) -> Path:
        path = self.root / "arch" / arch_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ---------------------------------------------------------------- events and logs

    def _log_event(self, kind: str, data: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO events(time, kind, data) VALUES(?, ?, ?)",
            (time.time(), kind, json.dumps(data, sort_keys=True, default=str)),
        )

    def event(self, kind: str, **data: Any) -> None:
        with self.transaction():
            self._log_event(kind, data)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT seq, time, kind, data FROM events"
        args: tuple[Any, ...] = ()
        if kind is not None:
            query += " WHERE kind = ?"
            args = (kind,)
        rows = self._db.execute(query + " ORDER BY seq", args).fetchall()
        return [
            {"seq": s, "time": t, "kind": k, "data": self._json(d, f"event {s}")}
            for s, t, k, d in rows
        ]

    def log(self, line: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.root / "logs" / "run.log", "a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {line}\n")

    # ---------------------------------------------------------------- summary

    def write_summary(
        self, usage: dict[str, Any], extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        architectures = self.all()
        trained = [a for a in architectures if a.status == "trained" and a.valid_acc is not None]
        best = max(trained, key=lambda a: (a.valid_acc, -a.seq)) if trained else None
        summary = {
            "architectures": [a.summary() for a in architectures],
            # the best architecture is chosen by validation accuracy, never by test accuracy
            "best": best.id if best else None,
            "usage": usage,
            **(extra or {}),
        }
        atomic_write_text(self.root / "summary.json", json.dumps(summary, indent=2) + "\n")
        return summary
