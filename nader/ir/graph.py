"""The typed, immutable IR of a block text file.

A :class:`Network` holds :class:`Block` s; a block holds :class:`Node` s and :class:`Edge` s exactly
as written (ids, order, source lines). Nothing here is validated beyond syntax: the verifier
(:mod:`nader.ir.verify`) turns a block into a :class:`~nader.ir.verify.BlockReport` with shapes,
costs and a canonical hash. Keeping the raw form lets every diagnostic point at a source line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from nader.ir.expr import Expr

#: A parameter value: a size expression, a float, a bool, or a tuple of expressions.
Value = Expr | float | bool | tuple[Expr, ...]


class Role(str, Enum):
    """What a block is for inside a network."""

    CELL = "cell"
    STEM = "stem"
    DOWNSAMPLE = "downsample"


class NodeKind(str, Enum):
    """The closed set of structural kinds a node has, after torch.fx's node kinds.

    A block input is fx's ``placeholder``, the block's result its ``output``; every other node
    calls an operator (fx's ``call_module``). Operators are the open, pluggable set; these kinds
    are not, and this module is the one place that says which operator names are which.
    """

    INPUT = "placeholder"
    OUTPUT = "output"
    OPERATOR = "call_module"


#: Block input operators: ``input`` for one-input blocks, ``input1``/``input2`` (in that order)
#: for two-input (DARTS-style) blocks.
INPUT_OPS = ("input", "input1", "input2")
SINGLE_INPUT_OP = "input"
TWO_INPUT_OPS = ("input1", "input2")
OUTPUT_OP = "output"


def node_kind(op: str) -> NodeKind:
    """The structural kind of an operator name as written (case-insensitive, like the registry)."""
    lowered = op.lower()
    if lowered in INPUT_OPS:
        return NodeKind.INPUT
    if lowered == OUTPUT_OP:
        return NodeKind.OUTPUT
    return NodeKind.OPERATOR


def is_boundary(op: str) -> bool:
    """Whether ``op`` is a block input or the output (a graph boundary, not a layer)."""
    return node_kind(op) is not NodeKind.OPERATOR


@dataclass(frozen=True, slots=True)
class Node:
    """One ``N:Op(args)`` line. ``op`` is the name as written (resolved by the registry later)."""

    id: int
    op: str
    args: tuple[Value, ...] = ()
    kwargs: tuple[tuple[str, Value], ...] = ()
    line: int = 0
    column: int = 0
    has_call: bool = False  # written with parentheses, e.g. ``ReLU()``

    @property
    def kind(self) -> NodeKind:
        return node_kind(self.op)


@dataclass(frozen=True, slots=True)
class Edge:
    """One ``A,B->C`` line: ``sources`` feed ``target`` in the written order."""

    sources: tuple[int, ...]
    target: int
    line: int = 0


@dataclass(frozen=True, slots=True)
class Block:
    """A ``##Name##`` section: nodes and edges in source order."""

    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    line: int = 0
    index: int = 0  # position in the file, used for role-by-position

    @property
    def is_two_input(self) -> bool:
        return any(node.op.lower() in TWO_INPUT_OPS for node in self.nodes)

    def role(self) -> Role:
        """Role from the name (``stem`` / ``downsample`` inside it) or else from position."""
        lowered = self.name.lower()
        if "downsample" in lowered:
            return Role.DOWNSAMPLE
        if "stem" in lowered:
            return Role.STEM
        return (Role.CELL, Role.STEM, Role.DOWNSAMPLE)[self.index] if self.index < 3 else Role.CELL

    def node_by_id(self) -> dict[int, Node]:
        """First definition of each id (duplicates are the verifier's business)."""
        table: dict[int, Node] = {}
        for node in self.nodes:
            table.setdefault(node.id, node)
        return table

    def inputs_of(self) -> dict[int, list[int]]:
        """Each target's inputs, in the order the edge lines appear."""
        table: dict[int, list[int]] = {}
        for edge in self.edges:
            table.setdefault(edge.target, []).extend(edge.sources)
        return table


@dataclass(frozen=True, slots=True)
class Network:
    """A parsed file: one or more blocks, with the file name for messages."""

    blocks: tuple[Block, ...]
    source: str | None = None
    text: str = field(default="", repr=False, compare=False)

    def by_role(self, role: Role) -> Block | None:
        for block in self.blocks:
            if block.role() is role:
                return block
        return None
