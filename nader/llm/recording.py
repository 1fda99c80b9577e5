"""The run directory's LLM log: one JSON line per call, append-only, the basis of resume and replay.

Every ``LLMClient.complete`` that reached the provider appends one :class:`CallRecord` to
``RUN_DIR/llm/recordings.jsonl`` — the request, the answer or the error, the tokens billed —
flushed and fsynced, so a killed run loses at most the call in flight. Records are keyed by the
sha256 of (provider, model, sampling parameters, messages) plus an occurrence number: the n-th
identical call is occurrence n, and a replay answers it with the n-th recorded answer.

Nothing in a record comes from the environment: API keys never reach this file. What a server
sent is redacted by the client before it is recorded, and each line is redacted again as it is
written (``redact``), a last guard should a key reach a record some other way.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nader.errors import ConfigError
from nader.llm.base import RECORDABLE_ERRORS, LLMError, LLMResponse, Message, Usage

RECORDINGS_FILE = Path("llm") / "recordings.jsonl"
FORMAT_VERSION = 1


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def request_key(
    provider: str, model: str, parameters: Mapping[str, Any], messages: Sequence[Message]
) -> str:
    """sha256 of what determines an answer: who answers, with which settings, to what.

    The ``cache`` flag of a message is left out: it changes the price of a call, not its answer.
    """
    canonical = json.dumps(
        {
            "provider": provider,
            "model": model,
            "parameters": dict(parameters),
            "messages": [[m.role, m.content] for m in messages],
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def recordings_path(location: Path) -> Path:
    """``location`` itself when it is a file, else the recordings file of that run directory."""
    return (
        location
        if location.is_file() or location.suffix == ".jsonl"
        else location / RECORDINGS_FILE
    )


def error_to_dict(error: LLMError) -> dict[str, Any]:
    return {
        "type": type(error).__name__ if type(error).__name__ in RECORDABLE_ERRORS else "LLMError",
        "message": error.message,
        "retryable": error.retryable,
        "status": error.status,
        "request_id": error.request_id,
        "partial_text": error.partial_text,
        "usage": error.usage.to_dict(),
    }


def error_from_dict(data: Mapping[str, Any], *, provider: str, task: str) -> LLMError:
    """Rebuild a recorded error from the fixed table of error types (unknown names: LLMError)."""
    cls = RECORDABLE_ERRORS.get(str(data.get("type")), LLMError)
    return cls(
        str(data.get("message", "")),
        provider=provider,
        task=task,
        status=data.get("status"),
        request_id=data.get("request_id"),
        usage=Usage.from_dict(data.get("usage") or {}),
        partial_text=data.get("partial_text"),
        retryable=bool(data.get("retryable", False)),
    )


@dataclass(frozen=True)
class CallRecord:
    """One logical call: request, outcome (answer or error), and what all its attempts billed."""

    key: str
    occurrence: int
    provider: str
    model: str
    parameters: Mapping[str, Any]
    task: str
    role: str
    architecture: str | None
    messages: tuple[Message, ...]
    #: tokens billed over every attempt of the call (a truncated or empty answer is billed too)
    usage: Usage
    cost_usd: float
    attempts: int
    response: LLMResponse | None = None
    error: Mapping[str, Any] | None = None
    #: one ``{"type", "message"}`` per attempt that failed and was retried
    failed_attempts: tuple[Mapping[str, Any], ...] = ()
    recorded_at: str = field(default_factory=utc_now)

    def outcome(self) -> LLMResponse:
        """The recorded answer, or the recorded error raised again."""
        if self.response is not None:
            return self.response
        error = error_from_dict(self.error or {}, provider=self.provider, task=self.task)
        error.attempts = self.attempts
        raise error

    def to_json(self) -> str:
        response = self.response
        data: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "key": self.key,
            "occurrence": self.occurrence,
            "provider": self.provider,
            "model": self.model,
            "parameters": dict(self.parameters),
            "task": self.task,
            "role": self.role,
            "architecture": self.architecture,
            "messages": [
                {"role": m.role, "content": m.content, "cache": m.cache} for m in self.messages
            ],
            "usage": self.usage.to_dict(),
            "cost_usd": self.cost_usd,
            "attempts": self.attempts,
            "failed_attempts": [dict(f) for f in self.failed_attempts],
            "recorded_at": self.recorded_at,
            "response": None
            if response is None
            else {
                "text": response.text,
                "usage": response.usage.to_dict(),
                "model": response.model,
                "provider": response.provider,
                "latency_s": response.latency_s,
                "request_id": response.request_id,
                "finish_reason": response.finish_reason,
                "cost_usd": response.cost_usd,
            },
            "error": None if self.error is None else dict(self.error),
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> CallRecord:
        data = json.loads(line)
        answer = data.get("response")
        return cls(
            key=data["key"],
            occurrence=int(data["occurrence"]),
            provider=data["provider"],
            model=data["model"],
            parameters=data.get("parameters", {}),
            task=data.get("task", ""),
            role=data.get("role", ""),
            architecture=data.get("architecture"),
            messages=tuple(
                Message(m["role"], m["content"], bool(m.get("cache", False)))
                for m in data["messages"]
            ),
            usage=Usage.from_dict(data.get("usage") or {}),
            cost_usd=float(data.get("cost_usd", 0.0)),
            attempts=int(data.get("attempts", 1)),
            response=None
            if answer is None
            else LLMResponse(
                text=answer["text"],
                usage=Usage.from_dict(answer.get("usage") or {}),
                model=answer["model"],
                provider=answer["provider"],
                latency_s=float(answer.get("latency_s", 0.0)),
                request_id=answer.get("request_id"),
                finish_reason=answer.get("finish_reason"),
                cost_usd=float(answer.get("cost_usd", 0.0)),
            ),
            error=data.get("error"),
            failed_attempts=tuple(data.get("failed_attempts", ())),
            recorded_at=data.get("recorded_at", ""),
        )


class RecordingLog:
    """An append-only JSON-lines file of :class:`CallRecord` with durable appends."""

    def __init__(self, path: Path, *, redact: Callable[[str], str] | None = None) -> None:
        self.path = path
        self._redact = redact

    def read(self) -> list[CallRecord]:
        """Every complete record; a torn last line (a run killed mid-write) is dropped from disk."""
        if not self.path.exists():
            return []
        raw = self.path.read_bytes()
        complete_end = raw.rfind(b"\n") + 1
        if complete_end < len(raw):
            with self.path.open("r+b") as handle:
                handle.truncate(complete_end)
        return list(_parse_lines(raw[:complete_end].decode("utf-8").splitlines(), self.path))

    def append(self, record: CallRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = record.to_json()
        if self._redact is not None:
            line = self._redact(line)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def read_recordings(path: Path) -> list[CallRecord]:
    """Records of a recordings file, read-only (a replay must not repair someone else's file)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    complete = [line for line in lines if line.endswith("\n")]
    return list(_parse_lines(complete, path))


def _parse_lines(lines: Iterable[str], path: Path) -> Iterable[CallRecord]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield CallRecord.from_json(line)
        except (ValueError, KeyError, TypeError) as err:
            raise ConfigError(f"{path}:{number}: not a valid LLM call record: {err}") from err
