"""The session config (``config.toml``): every table validated before any work starts.

Unknown keys anywhere are errors that name the key (pydantic ``extra="forbid"``). Relative paths
are resolved against the config file's folder, so a config and its base network travel together.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nader.agents.config import AgentsConfig
from nader.errors import ConfigError
from nader.ir.spelling import did_you_mean
from nader.llm.config import LLMConfig
from nader.session.executors import ExecutorConfig
from nader.session.files import read_user_text
from nader.session.overrides import apply_overrides
from nader.tracking.base import TrackingConfig
from nader.training.config import TrainConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunConfig(_Strict):
    """``[run]``: identity, seed and budgets of the session."""

    name: str = "nader-run"
    #: stop proposing once this many architectures (the base included) are trained
    max_architectures: int = Field(default=10, ge=1)
    #: stop proposing after this many design attempts in all (new, duplicate or failed)
    max_designs: int | None = Field(default=None, ge=1)
    #: stop proposing after this many seconds of wall-clock time (finished work is kept)
    max_wall_clock_s: float | None = Field(default=None, gt=0)
    #: designs waiting for a training slot (agents keep proposing while candidates train)
    queue_size: int = Field(default=1, ge=0)


class BaseNetworkConfig(_Strict):
    """``[base]``: the starting network and how networks are assembled and sized."""

    network: Path | None = None
    #: a NAS-Bench-201 arch string instead of a network file
    nb201_arch: str | None = None
    skeleton: str = "nader"
    #: fixed base width, or None for the largest width within the budget
    width: int | None = Field(default=None, ge=1)
    #: budget for the width search (defaults: the dataset preset's NAS-Bench-201 limits)
    max_params: int | None = Field(default=None, ge=1)
    max_flops: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_start(self) -> BaseNetworkConfig:
        if (self.network is None) == (self.nb201_arch is None):
            raise ValueError("give exactly one of base.network (a file) or base.nb201_arch")
        return self


class DatasetConfig(_Strict):
    """``[dataset]``: which dataset trains and scores the candidates."""

    name: str = "digits"
    data_dir: Path | None = None
    split_file: Path | None = None
    seed: int = Field(default=0, ge=0)


class SessionConfig(_Strict):
    run: RunConfig = Field(default_factory=RunConfig)
    base: BaseNetworkConfig
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    llm: LLMConfig
    agents: AgentsConfig = Field(default_factory=AgentsConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)


_PATH_KEYS = (
    ("base", "network"),
    ("dataset", "data_dir"),
    ("dataset", "split_file"),
    ("agents", "papers_dir"),
    ("agents", "knowledge_path"),
    ("agents", "memory_path"),
    ("llm", "replay_from"),
)
_PATH_LIST_KEYS = (("agents", "inspiration_files"), ("agents", "experience_files"))


def resolve_paths(data: dict[str, Any], folder: Path) -> None:
    """Make the config's relative paths relative to ``folder`` (the config file's), in place:
    shared by ``nader run`` and ``nader bench``, so a config and its files travel together."""
    for table, key in _PATH_KEYS:
        value = data.get(table, {}).get(key) if isinstance(data.get(table), dict) else None
        if isinstance(value, str) and value:
            data[table][key] = str((folder / Path(value).expanduser()).resolve())
    for table, key in _PATH_LIST_KEYS:
        values = data.get(table, {}).get(key) if isinstance(data.get(table), dict) else None
        if isinstance(values, list):
            data[table][key] = [
                str((folder / Path(v).expanduser()).resolve()) if isinstance(v, str) else v
                for v in values
            ]


def _did_you_mean(loc: tuple[int | str, ...], root: type[BaseModel]) -> str:
    """`` (did you mean 'epochs'?)`` for a misspelt key: the closest key of the same table.

    Walks the models from ``root`` along ``loc`` to the table that refused the key; a key under
    a free-form table (``llm.prices``) or none close enough gives no suggestion.
    """
    model = root
    for part in loc[:-1]:
        info = model.model_fields.get(str(part))
        annotation = info.annotation if info is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        model = annotation
    return did_you_mean(str(loc[-1]), model.model_fields)


def _non_finite(data: Any, prefix: str = "") -> list[str]:
    """Dotted keys of every ``inf``/``nan`` (TOML has both; no setting of nader means either)."""
    if isinstance(data, dict):
        return [key for k, v in data.items() for key in _non_finite(v, f"{prefix}{k}.")]
    if isinstance(data, list):
        return [key for i, v in enumerate(data) for key in _non_finite(v, f"{prefix}{i}.")]
    if isinstance(data, float) and not math.isfinite(data):
        return [f"{prefix.rstrip('.')} = {data}"]
    return []


def describe_validation_error(err: ValidationError, root: type[BaseModel]) -> str:
    """One indented line per problem of ``err`` (raised validating ``root``), unknown keys with
    the closest known one."""
    lines = []
    for item in err.errors():
        key = ".".join(str(part) for part in item.get("loc", ())) or "(top level)"
        kind = item.get("type", "")
        if kind == "extra_forbidden":
            lines.append(f"  {key}: unknown key{_did_you_mean(item.get('loc', ()), root)}")
        elif kind == "missing":
            lines.append(f"  {key}: required")
        else:
            lines.append(
                f"  {key}: {str(item.get('msg', 'invalid')).removeprefix('Value error, ')}"
            )
    return "\n".join(lines)


def parse_config(data: dict[str, Any], folder: Path, source: str = "config") -> SessionConfig:
    data = apply_overrides(data, [])
    infinite = _non_finite(data)
    if infinite:
        raise ConfigError(
            f"{source}: {', '.join(infinite)}: not a finite number; give a finite value"
        )
    resolve_paths(data, folder)
    try:
        return SessionConfig.model_validate(data)
    except ValidationError as err:
        problems = describe_validation_error(err, SessionConfig)
        if "\n" not in problems:  # one problem: one line
            raise ConfigError(f"{source}: {problems.strip()}") from None
        raise ConfigError(f"{source} is invalid:\n{problems}") from None


def load_config(
    path: Path, overrides: list[str] | None = None
) -> tuple[SessionConfig, dict[str, Any]]:
    """Read, override (``--set``) and validate a TOML config; returns the model and the raw table."""
    path = Path(path)
    try:
        raw = tomllib.loads(read_user_text(path, "config"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from err
    data = apply_overrides(raw, overrides or [])
    return parse_config(data, path.resolve().parent, str(path)), data
