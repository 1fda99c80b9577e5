"""Small builders for in-test plugins (imported by the tests in this folder)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from nader import hookimpl
from nader.ir import OperatorSpec, TensorShape

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO_ROOT / "examples" / "nader-plugin-example"
EXAMPLE_BLOCK = EXAMPLE_DIR / "blocks" / "resnet_hardswish.txt"

#: The ``install_dist`` fixture:
#: ``install(dist, modules_source={module: source}, entry_points={name: module}, version="1.0")``
Installer = Callable[..., Path]


def same_shape(inputs: list[TensorShape], params: Mapping[str, Any]) -> TensorShape:
    return inputs[0]


def operator(name: str, **fields: Any) -> OperatorSpec:
    """A unary operator that keeps its input's shape, for tests that only care about names."""
    fields.setdefault("summary", f"test operator {name}")
    return OperatorSpec(name, fields.pop("shape_rule", same_shape), **fields)


def make_plugin(**hooks: Callable[..., Any]) -> SimpleNamespace:
    """A plugin object whose attributes are the given functions, marked ``@hookimpl``."""
    return SimpleNamespace(**{name: hookimpl(function) for name, function in hooks.items()})


def registering(*specs: OperatorSpec) -> Callable[[Any], None]:
    """A ``register_operators`` body that registers ``specs`` in order."""

    def register_operators(register: Any) -> None:
        for spec in specs:
            register(spec)

    return register_operators


def naming(*names: str) -> Callable[[Any], None]:
    """A body for any factory hook that registers a trivial factory under each name."""

    def register_named(register: Any) -> None:
        for name in names:
            register(name, dict)

    return register_named
