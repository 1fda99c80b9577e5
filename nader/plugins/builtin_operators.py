"""Built-in plugin: the authors' operators, registered through the public hook.

The torch lowerings are attached by :mod:`nader.backends.lowering` when that module is importable
(torch installed); the IR works without them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nader.ir.builtin_ops import builtin_operator_specs
from nader.plugins.hookspecs import hookimpl


@hookimpl(trylast=True)
def register_operators(register: Callable[..., Any]) -> None:
    lowerings: dict[str, Any] = {}
    try:
        from nader.backends.lowering import builtin_lowerings
    except ImportError:  # torch not installed: IR-only use
        pass
    else:
        lowerings = builtin_lowerings()
    for spec in builtin_operator_specs():
        lowering = lowerings.get(spec.name)
        if lowering is None:
            register(spec)
        else:
            register(spec, lowering=lowering)
