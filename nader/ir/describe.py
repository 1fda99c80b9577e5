"""The operator list an LLM is shown, generated from a registry (so plugin operators appear too).

One line per operator: its signature with defaults, its arity, its summary, its aliases and an
example, e.g.::

    Conv2d(out_channels, kernel_size, stride=1, dilation=1, groups=1, bias=True) | 1 input | 2-D convolution, ... | e.g. Conv2d(out_channels=C,kernel_size=3)

Compact on purpose: the list goes into every Modifier prompt, and a graph representation is the
paper's way of spending few tokens.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nader.ir.ops import OperatorSpec


def _render(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ",".join(_render(item) for item in value) + ")"
    return str(value)


def operator_signature(spec: OperatorSpec) -> str:
    """``Name(required, optional=default)``; ``Name(*dims)`` for varargs; ``Name`` without params."""
    fields = spec.params.model_fields
    if spec.varargs is not None:
        return f"{spec.name}(*{spec.varargs})"
    if not fields:
        return spec.name
    parts = []
    for name, info in fields.items():
        parts.append(name if info.is_required() else f"{name}={_render(info.default)}")
    return f"{spec.name}({', '.join(parts)})"


def _arity(spec: OperatorSpec) -> str:
    low, high = spec.min_inputs, spec.max_inputs
    if high == 0:
        return "block input"
    if high is None:
        return f"{low}+ inputs"
    if low == high:
        return f"{low} input" + ("s" if low != 1 else "")
    return f"{low}-{high} inputs"


def describe_operator(spec: OperatorSpec) -> str:
    """One line describing ``spec`` for a prompt."""
    parts = [operator_signature(spec), _arity(spec)]
    if spec.summary:
        parts.append(spec.summary)
    if spec.aliases:
        parts.append("also written " + ", ".join(spec.aliases))
    if spec.example:
        parts.append(f"e.g. {spec.example}")
    return " | ".join(parts)


def operator_reference(registry: Iterable[OperatorSpec]) -> str:
    """Every operator of ``registry`` (an :class:`~nader.ir.ops.OperatorRegistry`), one per line."""
    return "\n".join(describe_operator(spec) for spec in registry)
