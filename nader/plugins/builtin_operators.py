"""Built-in plugin: the authors' operators, registered through the public hook.

Exactly the path a third-party operator takes (STYLE §2). The torch lowerings come from
:func:`nader.backends.lowering.builtin_lowerings` when that module is importable (torch
installed); the IR works without them.
"""

from __future__ import annotations

from nader.ir.builtin_ops import builtin_operator_specs
from nader.plugins.hookspecs import Lowering, RegisterOperator, hookimpl


@hookimpl(trylast=True)
def register_operators(register: RegisterOperator) -> None:
    lowerings: dict[str, Lowering] = {}
    try:
        from nader.backends.lowering import builtin_lowerings
    except ImportError:  # torch (or the backend) not installed: IR-only use
        pass
    else:
        lowerings = builtin_lowerings()
    for spec in builtin_operator_specs():
        register(spec, lowering=lowerings.get(spec.name))
