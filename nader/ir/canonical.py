"""Canonical labelling and hashing of blocks: equal digests exactly for isomorphic blocks.

Node labels are the operator plus its normalized parameters (defaults filled, keys sorted,
expressions normalized so ``C/4`` equals ``C//4``). Inputs of commuting operators (Add, Mul) are
unordered; inputs of every other operator are ordered.

Plain Merkle hashing from the inputs is not enough: a node shared by two consumers and two
identical copies of it hash alike. We therefore compute a canonical *labelling* by colour
refinement (1-WL over ordered in-edges and positioned out-edges, seeded with up/down Merkle
hashes) followed by individualisation-refinement on the classes that remain tied — the scheme of
nauty, with its first-path automorphism pruning, so symmetric branches cost linear time. The
graph relabelled by that labelling is serialised and digested with SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nader.errors import VerifyError
from nader.ir.expr import Expr, normalize
from nader.ir.graph import Block
from nader.ir.ops import BoundParams
from nader.ir.registry import OperatorRegistry
from nader.ir.structure import Limits, Structure, analyze_structure

HASH_HEX_CHARS = 32  # 128 bits


def _format_value(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ",".join(_format_value(v) for v in value) + ")"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    if value is None:
        return "None"
    return str(normalize(value))  # type: ignore[arg-type]


def node_label(op: str, bound: BoundParams | None) -> str:
    """``Conv2d(bias=True,dilation=1,groups=1,kernel_size=3,out_channels=C,stride=1)``.

    Computed once per bound parameter set (they are shared by every node written alike).
    """
    if bound is None or not (bound.sizes or bound.others):
        return op
    key = "label:" + op
    label = bound.derived.get(key)
    if label is None:
        items = ",".join(f"{k}={_format_value(v)}" for k, v in bound.normalized_items())
        label = bound.derived[key] = f"{op}({items})"
    return label  # type: ignore[no-any-return]


@dataclass(frozen=True)
class LabelledGraph:
    """The minimal graph the canonical form needs: labels, ordered inputs, commutativity."""

    labels: tuple[str, ...]
    inputs: tuple[tuple[int, ...], ...]
    commutative: tuple[bool, ...]
    #: every node's inputs come before it (true when built from a verified structure)
    topological: bool = False

    @classmethod
    def from_structure(cls, structure: Structure) -> tuple[LabelledGraph, tuple[int, ...]]:
        ids = structure.order
        index = {node_id: i for i, node_id in enumerate(ids)}
        specs, params, inputs_of = structure.specs, structure.params, structure.inputs
        labels = []
        inputs = []
        commutative = []
        for node_id in ids:
            spec = specs[node_id]
            labels.append(node_label(spec.name, params.get(node_id)))
            inputs.append(tuple([index[s] for s in inputs_of[node_id]]))
            commutative.append(spec.commutative)
        graph = cls(tuple(labels), tuple(inputs), tuple(commutative), topological=True)
        return graph, ids


def _rank(keys: Sequence[object]) -> list[int]:
    """Replace keys by their rank among the distinct keys (a canonical renaming)."""
    distinct = sorted(set(keys))  # type: ignore[type-var]
    table = {key: i for i, key in enumerate(distinct)}
    return [table[key] for key in keys]


def _ids_by_level(
    levels: list[list[int]], key_of: Callable[[int, list[int]], object], n: int
) -> list[int]:
    """Canonical ids, assigned level by level: a node's id is the rank of its key among its
    level's distinct keys, offset by the ids lower levels used. ``key_of(v, ids)`` may read the
    ids of lower levels only, so ids depend on content, never on node numbers."""
    ids = [0] * n
    used = 0
    for level in levels:
        if len(level) == 1:  # alone on its level: rank 0, whatever its key
            ids[level[0]] = used
            used += 1
            continue
        keys = {v: key_of(v, ids) for v in level}
        distinct = sorted(set(keys.values()))  # type: ignore[type-var]
        table = {key: used + rank for rank, key in enumerate(distinct)}
        used += len(distinct)
        for v in level:
            ids[v] = table[keys[v]]
    return ids


class _Canonizer:
    def __init__(self, graph: LabelledGraph) -> None:
        self.graph = graph
        n = len(graph.labels)
        self.n = n
        consumers: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for target, sources in enumerate(graph.inputs):
            for position, source in enumerate(sources):
                consumers[source].append((target, -1 if graph.commutative[target] else position))
        self.consumers = consumers
        self.label_rank = _rank(graph.labels)

    def initial_colors(self) -> list[int]:
        """Seeds for refinement: what each node computes (its unfolding from the inputs) and
        how its result is used (its unfolding towards the sinks), as canonical ids.

        Both are assigned level by level (longest path from the inputs, resp. to the sinks), so
        they come from content only — no hashing, no node numbers — and the digest is the same
        on every platform and Python implementation.
        """
        inputs, commutative = self.graph.inputs, self.graph.commutative
        label_rank, consumers, n = self.label_rank, self.consumers, self.n
        order = list(range(n)) if self.graph.topological else _topological(inputs)
        depth = [0] * n
        for v in order:
            for u in inputs[v]:
                if depth[u] >= depth[v]:
                    depth[v] = depth[u] + 1
        height = [0] * n
        for v in reversed(order):
            for w, _ in consumers[v]:
                if height[w] >= height[v]:
                    height[v] = height[w] + 1
        by_depth: list[list[int]] = [[] for _ in range(max(depth, default=0) + 1)]
        by_height: list[list[int]] = [[] for _ in range(max(height, default=0) + 1)]
        for v in range(n):
            by_depth[depth[v]].append(v)
            by_height[height[v]].append(v)

        def up_key(v: int, ids: list[int]) -> object:
            ins = [ids[u] for u in inputs[v]]
            if commutative[v]:
                ins.sort()
            return (label_rank[v], tuple(ins))

        def down_key(v: int, ids: list[int]) -> object:
            return (label_rank[v], tuple(sorted((ids[w], pos) for w, pos in consumers[v])))

        up = _ids_by_level(by_depth, up_key, n)
        down = _ids_by_level(by_height, down_key, n)
        return _rank(list(zip(up, down, strict=True)))

    def refine(self, colors: list[int]) -> list[int]:
        graph = self.graph
        count = len(set(colors))
        while count < self.n:  # a discrete colouring is already stable
            keys = []
            for v in range(self.n):
                ins = [colors[u] for u in graph.inputs[v]]
                if graph.commutative[v]:
                    ins.sort()
                outs = sorted((colors[w], pos) for w, pos in self.consumers[v])
                keys.append((colors[v], tuple(ins), tuple(outs)))
            colors = _rank(keys)
            new_count = len(set(colors))
            if new_count == count:
                return colors
            count = new_count
        return colors

    def encode(self, colors: list[int]) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """The graph relabelled by a discrete colouring: row ``c`` is the node coloured ``c``,
        as (label rank, its inputs' colours). Label ranks stand for the sorted distinct labels,
        which :func:`canonical_labelling` returns beside the rows."""
        graph, label_rank = self.graph, self.label_rank
        rows: list[tuple[int, tuple[int, ...]]] = [(0, ())] * self.n
        for v in range(self.n):
            ins = [colors[u] for u in graph.inputs[v]]
            if graph.commutative[v]:
                ins.sort()
            rows[colors[v]] = (label_rank[v], tuple(ins))
        return tuple(rows)

    @staticmethod
    def _target_cell(colors: list[int]) -> list[int] | None:
        if len(set(colors)) == len(colors):
            return None  # discrete: a leaf
        members: dict[int, list[int]] = {}
        for v, c in enumerate(colors):
            members.setdefault(c, []).append(v)
        tied = [group for c, group in sorted(members.items()) if len(group) > 1]
        return tied[0] if tied else None

    @staticmethod
    def _individualize(colors: list[int], v: int) -> list[int]:
        return _rank([(c, 0 if u == v else 1) for u, c in enumerate(colors)])

    def first_leaf(self, colors: list[int]) -> tuple[list[int], tuple]:  # type: ignore[type-arg]
        colors = self.refine(colors)
        cell = self._target_cell(colors)
        while cell is not None:
            colors = self.refine(self._individualize(colors, cell[0]))
            cell = self._target_cell(colors)
        return colors, self.encode(colors)

    def search(self, colors: list[int]) -> tuple[tuple, list[int], tuple]:  # type: ignore[type-arg]
        """Best (smallest) leaf encoding below ``colors``, its labelling, and the first leaf."""
        colors = self.refine(colors)
        cell = self._target_cell(colors)
        if cell is None:
            encoding = self.encode(colors)
            return encoding, colors, encoding
        best: tuple | None = None  # type: ignore[type-arg]
        best_colors: list[int] = colors
        first: tuple | None = None  # type: ignore[type-arg]
        for i, v in enumerate(cell):
            child = self._individualize(colors, v)
            if i > 0:
                _, leaf = self.first_leaf(child)
                if leaf == first:
                    continue  # an automorphism maps cell[0] to v: same subtree, prune
            encoding, labelling, child_first = self.search(child)
            if i == 0:
                first = child_first
            if best is None or encoding < best:
                best, best_colors = encoding, labelling
        assert best is not None
        return best, best_colors, first  # type: ignore[return-value]


def _topological(inputs: Sequence[Sequence[int]]) -> list[int]:
    n = len(inputs)
    indegree = [len(set(ins)) for ins in inputs]
    consumers: list[set[int]] = [set() for _ in range(n)]
    for v, ins in enumerate(inputs):
        for u in ins:
            consumers[u].add(v)
    ready = [v for v in range(n) if indegree[v] == 0]
    order: list[int] = []
    while ready:
        v = ready.pop()
        order.append(v)
        for w in consumers[v]:
            indegree[w] -= 1
            if indegree[w] == 0:
                ready.append(w)
    if len(order) != n:
        raise ValueError("graph has a cycle")
    return order


def canonical_labelling(graph: LabelledGraph) -> tuple[list[int], tuple]:  # type: ignore[type-arg]
    """A rank per node that is the same for isomorphic graphs, and the canonical encoding:
    the sorted distinct labels and, per rank, (label index, input ranks)."""
    canonizer = _Canonizer(graph)
    rows, colors, _ = canonizer.search(canonizer.initial_colors())
    return colors, (tuple(sorted(set(graph.labels))), rows)


def digest_encoding(encoding: tuple) -> str:  # type: ignore[type-arg]
    return hashlib.sha256(repr(encoding).encode()).hexdigest()[:HASH_HEX_CHARS]


def canonical_hash_of_graph(graph: LabelledGraph) -> str:
    return digest_encoding(canonical_labelling(graph)[1])


def canonical_hash_of_structure(structure: Structure) -> str:
    graph, _ = LabelledGraph.from_structure(structure)
    return canonical_hash_of_graph(graph)


def graph_structure(block: Block, registry: OperatorRegistry) -> Structure:
    """The block's structure as a graph, independent of the role it is used in.

    Raises :class:`~nader.errors.VerifyError` if the structure is broken (undefined operators,
    bad parameters, cycles, bad wiring): such a block has no well-defined graph.
    """
    structure = analyze_structure(block, registry, None, Limits())
    if structure.errors or not structure.acyclic:
        raise VerifyError(structure.errors)
    return structure


def canonical_hash(block: Block, registry: OperatorRegistry) -> str:
    """Digest of ``block`` that is equal exactly for isomorphic blocks (whatever their names,
    ids, line order or roles); raises :class:`~nader.errors.VerifyError` for a broken block."""
    return canonical_hash_of_structure(graph_structure(block, registry))


class DedupIndex:
    """Canonical hash → first id stored under it: O(1) expected lookup for "seen this before?"."""

    def __init__(self) -> None:
        self._table: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, digest: object) -> bool:
        return digest in self._table

    def lookup(self, digest: str) -> str | None:
        return self._table.get(digest)

    def add(self, digest: str, item_id: str) -> str | None:
        """Store ``item_id`` under ``digest``; returns the earlier id if one was already there."""
        earlier = self._table.get(digest)
        if earlier is None:
            self._table[digest] = item_id
        return earlier


__all__ = [
    "DedupIndex",
    "LabelledGraph",
    "canonical_hash",
    "canonical_hash_of_graph",
    "canonical_labelling",
    "graph_structure",
    "node_label",
    "Expr",
]
