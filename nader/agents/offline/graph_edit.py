"""A small mutable view of one block, for the offline designer's graph rewrites.

The IR is immutable on purpose; rewriting is easier on a mutable copy. :class:`EditableGraph`
holds nodes (operator, keyword parameters as block-format text) and each node's ordered inputs,
offers the few edits the rewrites need, and turns back into block text that goes through the real
parser, verifier and printer — so nothing here can produce a block the IR would not accept.

:class:`ShapeContext` learns each node's channel count as a symbolic expression (``C``, ``C*2``,
``dim/4``...) by verifying the block at several probe sizes and solving for the coefficients;
rewrites use it to size the layers they insert.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from fractions import Fraction

from nader.ir.graph import Block, NodeKind, Role, node_kind
from nader.ir.parser import parse_network
from nader.ir.printer import print_block
from nader.ir.registry import OperatorRegistry
from nader.ir.verify import Probe, verify_block


def value_text(value: object) -> str:
    """A parameter value as block-format text."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ",".join(value_text(v) for v in value) + ")"
    return str(value)


@dataclass
class EditNode:
    op: str
    params: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)

    def call_text(self) -> str:
        parts = list(self.args) + [f"{k}={v}" for k, v in self.params.items()]
        return f"{self.op}({','.join(parts)})" if parts else self.op


class EditableGraph:
    """Nodes and ordered inputs of one block; ids are kept until the block is printed."""

    def __init__(self, name: str, nodes: dict[int, EditNode], inputs: dict[int, list[int]]) -> None:
        self.name = name
        self.nodes = nodes
        self.inputs = inputs

    @classmethod
    def from_block(cls, block: Block, registry: OperatorRegistry) -> EditableGraph:
        """Via the canonical printout: parameters come back normalized, as keywords."""
        canonical = parse_network(print_block(block, registry)).blocks[0]
        nodes: dict[int, EditNode] = {}
        for node in canonical.nodes:
            spec = registry.get(node.op)
            op = spec.name if spec is not None else node.op
            nodes[node.id] = EditNode(
                op,
                {key: value_text(value) for key, value in node.kwargs},
                [value_text(value) for value in node.args],
            )
        inputs = {node_id: list(sources) for node_id, sources in canonical.inputs_of().items()}
        for node_id in nodes:
            inputs.setdefault(node_id, [])
        return cls(block.name, nodes, inputs)

    @classmethod
    def from_text(cls, text: str, registry: OperatorRegistry) -> EditableGraph:
        return cls.from_block(parse_network(text).blocks[0], registry)

    def copy(self) -> EditableGraph:
        return EditableGraph(
            self.name, copy.deepcopy(self.nodes), {k: list(v) for k, v in self.inputs.items()}
        )

    # -- queries
    def ids_with_op(self, *ops: str) -> list[int]:
        return [node_id for node_id, node in sorted(self.nodes.items()) if node.op in ops]

    @property
    def input_ids(self) -> list[int]:
        return [i for i, node in sorted(self.nodes.items()) if node_kind(node.op) is NodeKind.INPUT]

    @property
    def output_id(self) -> int:
        return next(i for i, n in sorted(self.nodes.items()) if node_kind(n.op) is NodeKind.OUTPUT)

    def consumers(self, node_id: int) -> list[int]:
        return [t for t, sources in sorted(self.inputs.items()) if node_id in sources]

    def ancestors(self, node_id: int) -> set[int]:
        seen: set[int] = set()
        stack = list(self.inputs.get(node_id, []))
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.inputs.get(current, []))
        return seen

    def op(self, node_id: int) -> str:
        return self.nodes[node_id].op

    # -- edits
    def new_id(self) -> int:
        return max(self.nodes) + 1

    def add(self, op: str, *sources: int, **params: object) -> int:
        """A new node ``op(key=value, ...)`` reading ``sources`` in order."""
        node_id = self.new_id()
        self.nodes[node_id] = EditNode(op, {k: value_text(v) for k, v in params.items()})
        self.inputs[node_id] = list(sources)
        return node_id

    def add_positional(self, op: str, source: int, *args: str) -> int:
        """A new node with positional arguments, e.g. ``reshape(B,C,H*W)``."""
        node_id = self.add(op, source)
        self.nodes[node_id].args = list(args)
        return node_id

    def replace_uses(
        self,
        old: int,
        new: int,
        *,
        keep: set[int] | frozenset[int] = frozenset(),
        only: set[int] | None = None,
    ) -> None:
        """Every consumer of ``old`` (except ``keep``; or just ``only``) reads ``new`` instead."""
        for target, sources in self.inputs.items():
            if target in keep or target == new or (only is not None and target not in only):
                continue
            self.inputs[target] = [new if s == old else s for s in sources]

    def insert_after(self, node_id: int, op: str, **params: object) -> int:
        new = self.add(op, node_id, **params)
        self.replace_uses(node_id, new, keep={new})
        return new

    def remove(self, node_id: int) -> None:
        del self.nodes[node_id]
        del self.inputs[node_id]

    def replace_with(self, node_id: int, last: int) -> None:
        """Consumers of ``node_id`` read ``last``; ``node_id`` disappears."""
        self.replace_uses(node_id, last, keep={last})
        self.remove(node_id)

    # -- output
    def to_text(self, name: str | None = None) -> str:
        lines = [f"##{name or self.name}##"]
        for node_id in sorted(self.nodes):
            lines.append(f"{node_id}:{self.nodes[node_id].call_text()}")
        for target in sorted(self.inputs):
            lines.extend(f"{source}->{target}" for source in self.inputs[target])
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- channel algebra


@dataclass(frozen=True)
class Channels:
    """``coef * symbol`` (or a constant when ``symbol`` is None)."""

    coef: Fraction
    symbol: str | None

    def scaled(self, factor: Fraction | int) -> Channels:
        return Channels(self.coef * Fraction(factor), self.symbol)

    def text(self) -> str:
        c = self.coef
        if self.symbol is None:
            return str(int(c)) if c.denominator == 1 else str(c)
        if c == 1:
            return self.symbol
        if c.denominator == 1:
            return f"{self.symbol}*{c.numerator}"
        if c.numerator == 1:
            return f"{self.symbol}/{c.denominator}"
        return f"{self.symbol}*{c.numerator}/{c.denominator}"

    def at_least_one(self) -> bool:
        return self.coef > 0 and (self.symbol is not None or self.coef >= 1)


def _probes(role: Role, two_input: bool) -> tuple[list[Probe], str]:
    if two_input:
        return [Probe(channels=64, dim=64), Probe(channels=128, dim=128)], "dim"
    if role is Role.STEM:
        return [Probe(channels=3, dim=64), Probe(channels=3, dim=128)], "dim"
    if role is Role.DOWNSAMPLE:
        return [
            Probe(channels=64, dim=128),
            Probe(channels=64, dim=192),
            Probe(channels=128, dim=256),
        ], "C,dim"
    return [Probe(channels=64, dim=64), Probe(channels=128, dim=128)], "C"


def _solve(values: list[int], probes: list[Probe], plan: str) -> Channels | None:
    if plan == "C,dim":
        (c1, c2, c3) = values
        b = Fraction(c2 - c1, probes[1].dim - probes[0].dim)
        a = Fraction(c1 - b * probes[0].dim, probes[0].channels)
        if a * probes[2].channels + b * probes[2].dim != c3:
            return None
        if a and b:
            return None
        if b:
            return Channels(b, "dim")
        return Channels(a, "C") if a else None
    v1, v2 = values
    sizes = [p.dim if plan == "dim" else p.channels for p in probes]
    a = Fraction(v2 - v1, sizes[1] - sizes[0])
    if a == 0:
        return Channels(Fraction(v1), None)
    if a * sizes[0] != v1:
        return None
    return Channels(a, plan)


class ShapeContext:
    """Shapes of every node at several probes, and channel counts as expressions."""

    def __init__(self, graph: EditableGraph, registry: OperatorRegistry, role: Role) -> None:
        self.graph = graph
        self.registry = registry
        self.role = role
        block = parse_network(graph.to_text()).blocks[0]
        self.two_input = block.is_two_input
        probes, plan = _probes(role, self.two_input)
        reports = [
            verify_block(block, registry, role=role, probe=p, with_hash=False) for p in probes
        ]
        self.valid = all(r.valid for r in reports)
        self.dims: dict[int, list[tuple[int, ...]]] = {}
        for node_id in graph.nodes:
            if all(node_id in r.shapes for r in reports):
                self.dims[node_id] = [tuple(r.shapes[node_id].dims) for r in reports]
        self.channels: dict[int, Channels] = {}
        for node_id, dims in self.dims.items():
            if all(len(d) == 4 for d in dims):
                solved = _solve([d[1] for d in dims], probes, plan)
                if solved is not None:
                    self.channels[node_id] = solved
        self.input_dims = self.dims.get(graph.input_ids[0]) if graph.input_ids else None

    def is_feature_map(self, node_id: int) -> bool:
        return node_id in self.channels

    def same_spatial_as_input(self, node_id: int) -> bool:
        dims = self.dims.get(node_id)
        if dims is None or self.input_dims is None:
            return False
        return all(d[2:] == i[2:] for d, i in zip(dims, self.input_dims, strict=True))

    def same_shape(self, first: int, second: int) -> bool:
        return first in self.dims and self.dims.get(first) == self.dims.get(second)

    def channel_text(self, node_id: int, factor: Fraction | int = 1) -> str | None:
        channels = self.channels.get(node_id)
        if channels is None:
            return None
        scaled = channels.scaled(factor)
        return scaled.text() if scaled.at_least_one() else None
