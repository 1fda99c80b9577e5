"""Machine-checkable outcomes of micro suggestions: small predicates over the IR, as data.

A micro suggestion ("replace GELU with ReLU", "add a 1x1 convolution with dilation 2") has an
outcome anyone can check on the modified cell without a judge. The NAD task file states it as a
list of predicates (TOML tables), each one of a closed set of kinds, evaluated on the base cell
and the modified cell together (so "more Add nodes than before" is expressible):

- ``count``: how many nodes of ``op`` (one name or a list) whose parameters match ``where``
  (values evaluated at C = dim = 64, defaults included) the new cell has — ``relation`` against
  the base cell (``none``, ``some``, ``more``, ``fewer``, ``same``) and/or ``at_least``;
- ``edge``: whether an edge runs from a node of ``source`` to a node of ``target`` (``input`` and
  ``output`` name the block's boundary nodes) — ``present`` true or false.

"Channels preserved" needs no predicate: a cell verifies only when its output shape equals its
input shape, which is E. Predicates never run model text: they read the parsed, verified IR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from nader.ir.expr import BinOp, Const, ExpressionError, Neg, Sym, evaluate
from nader.ir.graph import Block, Node
from nader.ir.ops import ParamProblem
from nader.ir.registry import OperatorRegistry

#: where parameters are evaluated: the default cell probe (C = dim = 64)
PROBE_ENV = {"C": 64, "dim": 64}

ParamValue = int | bool | float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountPredicate(_Strict):
    """Nodes of an operator (with given parameters) in the new cell, against the base cell."""

    kind: Literal["count"] = "count"
    op: str | list[str]
    where: dict[str, ParamValue] = Field(default_factory=dict)
    relation: Literal["none", "some", "more", "fewer", "same"] | None = None
    at_least: int | None = Field(default=None, ge=1)

    def describe(self) -> str:
        ops = "/".join(self.ops)
        where = ",".join(f"{k}={v}" for k, v in self.where.items())
        what = f"{ops}({where})" if where else ops
        parts = [f"{self.relation} {what}"] if self.relation else [what]
        if self.at_least is not None:
            parts.append(f">= {self.at_least}")
        return " ".join(parts)

    @property
    def ops(self) -> list[str]:
        return [self.op] if isinstance(self.op, str) else list(self.op)


class EdgePredicate(_Strict):
    """An edge from a node of one operator to a node of another (present or absent)."""

    kind: Literal["edge"] = "edge"
    source: str
    target: str
    present: bool = True

    def describe(self) -> str:
        return f"{'' if self.present else 'no '}edge {self.source}->{self.target}"


Predicate = Annotated[CountPredicate | EdgePredicate, Field(discriminator="kind")]


@dataclass(frozen=True)
class PredicateResult:
    """One predicate's verdict on a modified cell, with what was counted (for the report)."""

    predicate: str
    passed: bool
    detail: str


def _op_name(node: Node, registry: OperatorRegistry) -> str:
    spec = registry.get(node.op)
    return spec.name if spec is not None else node.op


def _canonical(op: str, registry: OperatorRegistry) -> str:
    spec = registry.get(op)
    return spec.name if spec is not None else op


def _value(raw: object) -> object:
    """A bound parameter at the probe: expressions evaluated, tuples of equal items collapsed."""
    if isinstance(raw, tuple):
        items = [_value(item) for item in raw]
        return items[0] if items and all(item == items[0] for item in items) else tuple(items)
    if isinstance(raw, (Const, Sym, BinOp, Neg)):
        try:
            return evaluate(raw, PROBE_ENV)
        except ExpressionError:
            return None
    return raw


def _matches(node: Node, where: dict[str, ParamValue], registry: OperatorRegistry) -> bool:
    if not where:
        return True
    spec = registry.get(node.op)
    if spec is None:
        return False
    try:
        bound = registry.bind(spec, node)
    except ParamProblem:
        return False
    for key, expected in where.items():
        if key not in type(bound.model).model_fields:
            return False
        actual = _value(getattr(bound.model, key))
        if isinstance(expected, bool) or isinstance(actual, bool):
            if actual is not expected:
                return False
        elif actual != expected:
            return False
    return True


def count_nodes(
    block: Block, ops: list[str], where: dict[str, ParamValue], registry: OperatorRegistry
) -> int:
    """Nodes of ``block`` whose operator is one of ``ops`` and whose parameters match ``where``."""
    wanted = {_canonical(op, registry) for op in ops}
    return sum(
        1
        for node in block.nodes
        if _op_name(node, registry) in wanted and _matches(node, where, registry)
    )


def has_edge(block: Block, source: str, target: str, registry: OperatorRegistry) -> bool:
    """An edge line (or one source of a multi-source edge) from a ``source`` node to a
    ``target`` node; ``input``/``output`` match the boundary nodes by their operator name."""
    names = {node.id: _op_name(node, registry) for node in block.nodes}
    want_source = _canonical(source, registry).lower()
    want_target = _canonical(target, registry).lower()
    for edge in block.edges:
        if names.get(edge.target, "").lower() != want_target:
            continue
        if any(names.get(s, "").lower() == want_source for s in edge.sources):
            return True
    return False


def check_predicate(
    predicate: CountPredicate | EdgePredicate,
    base: Block,
    new: Block,
    registry: OperatorRegistry,
) -> PredicateResult:
    """One predicate on (base cell, modified cell)."""
    if isinstance(predicate, EdgePredicate):
        found = has_edge(new, predicate.source, predicate.target, registry)
        return PredicateResult(
            predicate.describe(), found == predicate.present, "found" if found else "not found"
        )
    before = count_nodes(base, predicate.ops, predicate.where, registry)
    after = count_nodes(new, predicate.ops, predicate.where, registry)
    passed = True
    if predicate.relation == "none":
        passed = after == 0
    elif predicate.relation == "some":
        passed = after > 0
    elif predicate.relation == "more":
        passed = after > before
    elif predicate.relation == "fewer":
        passed = after < before
    elif predicate.relation == "same":
        passed = after == before
    if predicate.at_least is not None:
        passed = passed and after >= predicate.at_least
    return PredicateResult(predicate.describe(), passed, f"{before} -> {after}")


def check_predicates(
    predicates: list[CountPredicate | EdgePredicate],
    base: Block,
    new: Block,
    registry: OperatorRegistry,
) -> tuple[bool, list[PredicateResult]]:
    """Q of a micro task: every predicate holds (an empty list never passes: nothing stated)."""
    results = [check_predicate(p, base, new, registry) for p in predicates]
    return bool(results) and all(r.passed for r in results), results
