"""Built-in plugin: the authors' operators, registered through the public hook.

Exactly the path a third-party operator takes (STYLE §2). Each operator's torch lowering is
registered as a small lazy proxy into :func:`nader.backends.lowering.builtin_lowerings`, so torch
is imported only when a network is actually built: ``nader check`` and the other IR-only commands
start without it, and the IR works where torch is not installed.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from nader.hookspecs import RegisterOperator, hookimpl
from nader.ir.builtin_ops import builtin_operator_specs
from nader.ir.graph import is_boundary


class BuiltinLowering:
    """The lowering of one built-in operator, resolved on first use."""

    def __init__(self, op: str) -> None:
        self.op = op

    def __call__(self, ctx: Any) -> Any:
        from nader.backends.lowering import builtin_lowerings

        return builtin_lowerings()[self.op](ctx)

    def __repr__(self) -> str:
        return f"BuiltinLowering({self.op!r})"


def _has_lowering(spec: Any) -> bool:
    # block inputs and the output are graph boundaries, not modules
    return not is_boundary(spec.name)


def _torch_installed() -> bool:
    try:
        return importlib.util.find_spec("torch") is not None
    except ImportError:  # an import hook that refuses torch counts as "not installed"
        return False


@hookimpl
def register_operators(register: RegisterOperator) -> None:
    torch_present = _torch_installed()
    for spec in builtin_operator_specs():
        lowering = BuiltinLowering(spec.name) if torch_present and _has_lowering(spec) else None
        register(spec, lowering=lowering)
