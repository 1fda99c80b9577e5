"""The NAD task suite: base cells × suggestions, read from a TOML file shipped with nader.

The shipped suite (``nader/bench/data/nad_tasks.toml``) pairs five base cells written for it with
suggestion texts, most of them the paper's own (each task names its source). Another suite file
in the same format can be given instead; its block paths are relative to it. Every base cell is
verified when the suite loads, so a broken suite fails before any model is asked anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nader.bench.predicates import Predicate
from nader.errors import ConfigError
from nader.ir.check import check_text
from nader.ir.graph import Block, Network, Role
from nader.ir.registry import OperatorRegistry

Level = Literal["micro", "macro"]
LEVELS: tuple[Level, ...] = ("micro", "macro")


class NadTask(BaseModel):
    """One task: modify ``block``'s cell as ``suggestion`` says; micro tasks state ``expect``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,80}$")
    block: str
    level: Level
    suggestion: str = Field(min_length=1, max_length=2000)
    source: str = "nader"
    expect: list[Predicate] = Field(default_factory=list)

    @model_validator(mode="after")
    def _micro_is_checkable(self) -> NadTask:
        if self.level == "micro" and not self.expect:
            raise ValueError(f"micro task {self.id!r} states no expected outcome (expect = [...])")
        return self


class _SuiteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blocks: dict[str, str]
    task: list[NadTask]


@dataclass(frozen=True)
class Suite:
    """Verified base cells (each a one-block network) and the tasks on them."""

    tasks: tuple[NadTask, ...]
    bases: dict[str, Network]
    source: str

    def base_cell(self, task: NadTask) -> Block:
        cell = self.bases[task.block].by_role(Role.CELL)
        assert cell is not None  # checked when loading
        return cell

    def select(
        self,
        *,
        levels: tuple[str, ...] = LEVELS,
        blocks: tuple[str, ...] = (),
        ids: tuple[str, ...] = (),
        limit: int | None = None,
    ) -> Suite:
        """A subset: by level, block and task id; ``limit`` keeps the first N per level."""
        chosen = [
            t
            for t in self.tasks
            if t.level in levels and (not blocks or t.block in blocks) and (not ids or t.id in ids)
        ]
        if limit is not None:
            kept: list[NadTask] = []
            for level in LEVELS:
                kept.extend([t for t in chosen if t.level == level][:limit])
            chosen = [t for t in chosen if t in kept]
        return Suite(tuple(chosen), self.bases, self.source)


def _read_suite_text(path: Path | None) -> tuple[str, str, Path | None]:
    if path is None:
        text = resources.files("nader.bench").joinpath("data/nad_tasks.toml").read_text("utf-8")
        return text, "nader/bench/data/nad_tasks.toml", None
    try:
        return path.read_text(encoding="utf-8"), str(path), path.resolve().parent
    except OSError as err:
        raise ConfigError(f"cannot read the task suite {path}: {err.strerror or err}") from err


def _read_block(relative: str, folder: Path | None) -> str:
    if folder is None:
        return resources.files("nader.bench").joinpath("data", relative).read_text("utf-8")
    return (folder / relative).read_text(encoding="utf-8")


def load_suite(registry: OperatorRegistry, path: Path | None = None) -> Suite:
    """Read and validate a suite (the shipped one by default) and verify its base cells.

    :raises ConfigError: the file is not a valid suite, a task names an unknown block, or a
        base cell does not verify (every problem listed).
    """
    text, source, folder = _read_suite_text(path)
    try:
        data = _SuiteFile.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as err:
        raise ConfigError(f"task suite {source} is invalid: {err}") from err
    bases: dict[str, Network] = {}
    for name, relative in data.blocks.items():
        try:
            block_text = _read_block(relative, folder)
        except OSError as err:
            raise ConfigError(f"task suite {source}: block {name!r}: {err}") from err
        report = check_text(block_text, registry, source=relative)
        if not report.valid or report.network is None or report.network.by_role(Role.CELL) is None:
            problems = "; ".join(str(d) for b in report.blocks for d in b.errors)
            raise ConfigError(f"task suite {source}: base cell {name!r} is invalid: {problems}")
        bases[name] = report.network
    seen: set[str] = set()
    for task in data.task:
        if task.block not in bases:
            raise ConfigError(f"task {task.id!r} names unknown block {task.block!r}")
        if task.id in seen:
            raise ConfigError(f"task id {task.id!r} appears twice in {source}")
        seen.add(task.id)
    return Suite(tuple(data.task), bases, source)
