"""Design experience: records of how modifications went, turned into short categorised tips.

*Development* experience comes from the Modifier's dialogue: a stage that failed (failure), one
that failed and was then fixed (failure-to-success), one that passed at once (success). *Research*
experience comes from training: a suggestion that lowered validation accuracy. Tips are stored in
the experience pool keyed by the embedding of the *suggestion* they were learnt on, so a new
suggestion finds the tips of similar earlier ones. Categories come from the verifier's error codes
(not from the LLM), so they are stable and countable.

The authors' experience files are imported too: ``develop_experience.json`` maps a design id to
``{"inspiration", "base"|"stem"|"downsample": [{"error", "experience"}]}``, and
``research_experience.json`` maps an inspiration to a list of tips.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nader.agents.memory import PoolEntry, VectorPool
from nader.errors import ConfigError

RecordKind = Literal["failure", "failure-to-success", "success"]

#: verifier error code -> experience category
CATEGORY_OF_CODE: dict[str, str] = {
    "syntax": "format",
    "format": "format",
    "undefined-operator": "unknown operator",
    "missing-parameter": "parameter",
    "unknown-parameter": "parameter",
    "invalid-parameter": "parameter",
    "non-positive-size": "parameter",
    "expression-error": "parameter",
    "unknown-symbol": "symbol",
    "spatial-parameter": "symbol",
    "missing-input": "invalid connection",
    "extra-input": "invalid connection",
    "undefined-node": "invalid connection",
    "duplicate-node": "invalid connection",
    "unused-node": "invalid connection",
    "dangling-branch": "invalid connection",
    "no-output": "invalid connection",
    "multiple-outputs": "invalid connection",
    "output-arity": "invalid connection",
    "output-has-consumers": "invalid connection",
    "input-has-inputs": "invalid connection",
    "arity": "invalid connection",
    "cycle": "invalid connection",
    "shape-mismatch": "shape",
    "output-shape": "shape",
    "rank-mismatch": "shape",
    "groups-divisibility": "shape",
    "spatial-channels": "shape",
    "ln-axis": "shape",
    "invalid-axis": "shape",
    "permute-invalid": "shape",
    "repeat-invalid": "shape",
    "reshape-invalid": "shape",
    "resource-limit": "resource",
    "duplicate": "duplicate",
}

#: phrases of the authors' error strings -> category (their checker had no error codes)
_AUTHOR_ERROR_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("divisible by groups", "shape"),
    ("can receive only one input", "invalid connection"),
    ("cannot receive only one input", "invalid connection"),
    ("only one input", "invalid connection"),
    ("is not used", "invalid connection"),
    ("not the only output", "invalid connection"),
    ("comply with the regulations", "invalid connection"),
    ("is not defined", "unknown operator"),
    ("received an invalid combination", "parameter"),
    ("negative dimension", "shape"),
    ("shape", "shape"),
    ("size of tensor", "shape"),
    ("concat error", "shape"),
    ("last dimension", "shape"),
    ("reshape", "shape"),
    ("repeat", "shape"),
    ("height and width", "shape"),
    ("multiply", "shape"),
)

ACCURACY_DROP = "accuracy drop"
GENERAL = "general"


def category_of_codes(codes: Iterable[str]) -> str:
    """The most frequent category among ``codes`` (ties: first seen); ``general`` if none."""
    counts = Counter(CATEGORY_OF_CODE.get(code, GENERAL) for code in codes)
    if not counts:
        return GENERAL
    return counts.most_common(1)[0][0]


def category_of_author_error(error: str) -> str:
    lowered = error.lower()
    for phrase, category in _AUTHOR_ERROR_CATEGORIES:
        if phrase in lowered:
            return category
    return GENERAL


@dataclass(frozen=True)
class Problem:
    """One error met in a turn: the verifier's code and exact text."""

    code: str
    message: str


@dataclass(frozen=True)
class Attempt:
    """One Modifier turn at one stage, and what the Reflector found."""

    stage: str
    turn: int
    answer: str
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class DesignRecord:
    """How one stage of one design went, ready to be turned into tips."""

    suggestion: str
    stage: str
    kind: RecordKind
    problems: tuple[Problem, ...]
    change: str = ""

    @property
    def category(self) -> str:
        return category_of_codes(p.code for p in self.problems) if self.problems else GENERAL

    def describe(self) -> str:
        lines = []
        for problem in self.problems[:8]:
            lines.append(f"error: [{problem.code}] {problem.message}")
        if self.kind != "failure" and self.change:
            lines.append(f"{'fixed; ' if self.problems else ''}final change: {self.change}")
        if self.kind == "failure":
            lines.append("never passed the checker")
        return "\n".join(lines)


def record_from_attempts(
    suggestion: str, stage: str, attempts: Sequence[Attempt], change: str
) -> DesignRecord:
    problems = tuple(p for a in attempts for p in a.problems)
    if attempts and attempts[-1].ok:
        kind: RecordKind = "failure-to-success" if problems else "success"
    else:
        kind = "failure"
    return DesignRecord(suggestion, stage, kind, problems, change)


@dataclass(frozen=True)
class Tip:
    """A short lesson, the suggestion it was learnt on, and its category."""

    text: str
    suggestion: str
    category: str
    kind: Literal["development", "research"]
    record: str = ""
    source: str = "reflector"
    codes: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        digest = hashlib.sha1(f"{self.kind}\n{self.suggestion}\n{self.text}".encode()).hexdigest()[
            :20
        ]
        return f"tip:{digest}"

    def payload(self) -> dict[str, Any]:
        return {
            "suggestion": self.suggestion,
            "category": self.category,
            "kind": self.kind,
            "record": self.record,
            "source": self.source,
            "codes": list(self.codes),
        }


_TIP_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*(.+?)\s*$")


def parse_tips(answer: str, limit: int = 3) -> list[str]:
    """Bulleted or numbered lines of an answer; the whole answer if it has none."""
    tips = []
    for line in answer.splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _TIP_LINE.match(line)
        if match:
            text = match.group(1).strip().strip('"')
            if len(text) > 8:
                tips.append(text)
    if not tips:
        body = " ".join(
            line.strip()
            for line in answer.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        )
        if body:
            tips = [body]
    return [shorten(t) for t in tips[:limit]]


def shorten(text: str, limit: int = 400) -> str:
    """Whole sentences up to about ``limit`` characters (the authors' tips run to paragraphs)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("; "))
    return (cut[: end + 1] if end > limit // 3 else cut.rstrip() + "…").strip()


class ExperiencePool:
    """Tips in a vector pool, keyed by the embedding of their suggestion."""

    def __init__(self, pool: VectorPool) -> None:
        self.pool = pool

    def add(self, tips: Sequence[Tip]) -> int:
        entries = [PoolEntry(tip.key, tip.text, tip.payload()) for tip in tips]
        return self.pool.add(entries, vector_texts=[tip.suggestion for tip in tips])

    def __len__(self) -> int:
        return self.pool.count()

    def similar(
        self, suggestion: str, k: int = 5, kind: str = "development", min_score: float | None = None
    ) -> list[Tip]:
        """The ``k`` tips learnt on the most similar suggestions (distinct texts)."""
        if k <= 0:
            return []
        hits = self.pool.query(suggestion, k=k * 3, where={"kind": kind}, score_threshold=min_score)
        tips: list[Tip] = []
        seen: set[str] = set()
        for hit in hits:
            text = str(hit.payload.get("text", ""))
            if not text or text in seen:
                continue
            seen.add(text)
            payload = hit.payload
            tips.append(
                Tip(
                    text=text,
                    suggestion=str(payload.get("suggestion", "")),
                    category=str(payload.get("category", GENERAL)),
                    kind=kind,  # type: ignore[arg-type]
                    record=str(payload.get("record", "")),
                    source=str(payload.get("source", "")),
                    codes=tuple(payload.get("codes") or ()),
                )
            )
            if len(tips) == k:
                break
        return tips


# ------------------------------------------------------------------------- the authors' files


def load_experience_file(path: str | Path) -> list[Tip]:
    """Tips from the authors' develop_experience.json or research_experience.json."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot read experience file {path}: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected an object keyed by design or inspiration")
    source = path.stem
    tips: list[Tip] = []
    for key, value in data.items():
        if isinstance(value, dict) and "inspiration" in value:
            suggestion = " ".join(str(value["inspiration"]).split())
            for stage in ("base", "stem", "downsample"):
                for item in value.get(stage) or ():
                    if not isinstance(item, dict) or not item.get("experience"):
                        continue
                    error = str(item.get("error", ""))
                    tips.append(
                        Tip(
                            text=shorten(str(item["experience"])),
                            suggestion=suggestion,
                            category=category_of_author_error(error),
                            kind="development",
                            record="failure-to-success",
                            source=source,
                        )
                    )
        elif isinstance(value, list):
            suggestion = " ".join(str(key).split())
            for item in value:
                if isinstance(item, str) and item.strip():
                    tips.append(
                        Tip(
                            shorten(item),
                            suggestion,
                            ACCURACY_DROP,
                            "research",
                            "accuracy-drop",
                            source,
                        )
                    )
        else:
            raise ConfigError(
                f"{path}: entry {key!r} is neither a design record nor a list of tips"
            )
    return tips
