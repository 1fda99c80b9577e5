"""``--set dotted.key=value`` overrides for a TOML config, parsed as TOML values (never eval'd)."""

from __future__ import annotations

from typing import Any

import tomllib

from nader.errors import ConfigError


def parse_value(text: str) -> Any:
    """A TOML value (``3``, ``0.5``, ``true``, ``"x"``, ``[1, 2]``); bare words become strings."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set each ``a.b.c=value`` in a copy of ``data``; a malformed override names itself."""
    result: dict[str, Any] = _copy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ConfigError(
                f"--set {item!r}: expected dotted.key=value, e.g. llm.provider=openai"
            )
        target = result
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = target.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"--set {item!r}: {part!r} is a value, not a table")
            target = nxt
        target[parts[-1]] = parse_value(raw.strip())
    return result


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
