"""Checks and guards that make a third-party operator as safe to run as a built-in one.

:class:`~nader.ir.ops.OperatorRegistry` already rejects specs that are malformed on their own
(name, callables, arity). Here are the checks that need the fields read together (a positional
name that is not a parameter, a 0-input operator that is not a block input), and the guards
around a plugin's shape rule, cost rule and lowering: the verifier and the backend trust those
callables, so an exception or a wrong return type inside one must become a diagnostic naming
the operator and its plugin, never a traceback out of ``nader check``.

Built-in operators are not wrapped: their rules are tested here, and the verifier's hot path
should not pay for the guard.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from nader.errors import BackendError, ExpressionError
from nader.ir.ops import Cost, CostRule, OperatorSpec, OpParams, ShapeRule
from nader.ir.shapes import ShapeProblem, TensorShape

#: Operators with no inputs are the block's input nodes; the verifier treats them specially.
BLOCK_INPUT_OPERATORS = frozenset({"input", "input1", "input2"})

#: The diagnostic code of a plugin rule that crashed or returned the wrong type.
PLUGIN_RULE_ERROR = "plugin-error"


def spec_problems(spec: OperatorSpec) -> list[str]:
    """What is wrong with ``spec`` across its fields (empty when nothing is)."""
    problems: list[str] = []
    params = spec.params
    if not (isinstance(params, type) and issubclass(params, OpParams)):
        problems.append(
            "params must be a subclass of nader.ir.OpParams (frozen, unknown keys rejected)"
        )
        fields: set[str] = set()
    else:
        fields = set(params.model_fields)
    for label, names in (("positional", spec.positional), ("positive", spec.positive)):
        unknown = [name for name in names if name not in fields]
        if unknown:
            problems.append(f"{label} names {unknown} that are not parameters ({sorted(fields)})")
    if spec.varargs is not None and spec.varargs not in fields:
        problems.append(f"varargs {spec.varargs!r} is not a parameter ({sorted(fields)})")
    if spec.max_inputs == 0 and spec.name not in BLOCK_INPUT_OPERATORS:
        problems.append("an operator takes at least one input (max_inputs=0 is for block inputs)")
    bad_aliases = [alias for alias in spec.aliases if not str(alias).isidentifier()]
    if bad_aliases:
        problems.append(f"aliases {bad_aliases} are not identifiers")
    if not isinstance(spec.summary, str) or not isinstance(spec.example, str):
        problems.append("summary and example must be strings")
    return problems


class _RuleGuard:
    """Calls one plugin rule; turns a crash or a wrong result into a ``plugin-error`` problem."""

    def __init__(self, spec: OperatorSpec, plugin: str, what: str) -> None:
        self.prefix = f"{spec.name} (from plugin {plugin!r}): its {what}"

    def call(self, rule: Callable[..., Any], *args: Any) -> Any:
        try:
            return rule(*args)
        except (ShapeProblem, ExpressionError):
            raise  # a rule's own verdict on its inputs, meant for the user
        except Exception as err:
            raise self.failure(f"raised {type(err).__name__}: {err}") from err

    def failure(self, detail: str) -> ShapeProblem:
        return ShapeProblem(PLUGIN_RULE_ERROR, f"{self.prefix} {detail}")


def _guard_shape_rule(spec: OperatorSpec, plugin: str) -> ShapeRule:
    guard, rule = _RuleGuard(spec, plugin, "shape rule"), spec.shape_rule

    def guarded(inputs: list[TensorShape], params: Mapping[str, Any]) -> TensorShape:
        out = guard.call(rule, inputs, params)
        if not (
            isinstance(out, TensorShape)
            and len(out.dims) == len(out.spatial)
            and all(isinstance(d, int) and not isinstance(d, bool) for d in out.dims)
        ):
            raise guard.failure(f"returned {out!r}, not a TensorShape of integers")
        return out

    return guarded


def _guard_cost_rule(spec: OperatorSpec, plugin: str) -> CostRule:
    guard, rule = _RuleGuard(spec, plugin, "cost rule"), spec.cost_rule

    def guarded(inputs: list[TensorShape], output: TensorShape, params: Mapping[str, Any]) -> Cost:
        cost = guard.call(rule, inputs, output, params)
        if not (
            isinstance(cost, Cost)
            and all(isinstance(v, int) and v >= 0 for v in (cost.params, cost.flops, cost.macs))
        ):
            raise guard.failure(f"returned {cost!r}, not a Cost of non-negative integers")
        return cost

    return guarded


def guard_rules(spec: OperatorSpec, plugin: str) -> OperatorSpec:
    """``spec`` with its shape and cost rules wrapped so failures become diagnostics."""
    return replace(
        spec, shape_rule=_guard_shape_rule(spec, plugin), cost_rule=_guard_cost_rule(spec, plugin)
    )


def guard_lowering(op: str, plugin: str, lowering: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``lowering`` wrapped so a crash or a non-module result is a :class:`BackendError`."""

    def guarded(ctx: Any) -> Any:
        try:
            module = lowering(ctx)
        except Exception as err:
            raise BackendError(
                f"lowering of operator {op!r} (from plugin {plugin!r}) raised "
                f"{type(err).__name__}: {err}"
            ) from err
        torch = sys.modules.get("torch")  # the backend imported it before lowering anything
        if torch is not None and not isinstance(module, torch.nn.Module):
            raise BackendError(
                f"lowering of operator {op!r} (from plugin {plugin!r}) returned "
                f"{type(module).__name__}, not a torch.nn.Module"
            )
        return module

    return guarded
