"""Canonical labelling and hashing of blocks: equal digests exactly for isomorphic blocks.

Node labels are the operator plus its normalized parameters (defaults filled, keys sorted,
expressions normalized so ``C/4`` equals ``C//4``). Inputs of commuting operators (Add, Mul) are
unordered; inputs of every other operator are ordered.

Plain Merkle hashing from the inputs is not enough: a node shared by two consumers and two
identical copies of it hash alike. We therefore compute a canonical *labelling* by colour
refinement (1-WL over ordered in-edges and positioned out-edges, seeded with up/down Merkle
hashes) followed by individualisation-refinement on the classes that remain tied — the scheme of
nauty. The search is iterative (an explicit stack) and prunes with automorphisms, each verified
before use: a tied cell of twins (same label, inputs and consumers) is individualised whole, and
a child that an automorphism fixing the prefix maps onto an explored child is skipped (orbits by
union-find). Input → N parallel ReLUs → Add is linear in N; N parallel multi-node branches cost
one extra child per tree level, O(N²) refinements. The graph relabelled by the smallest leaf is
serialised and digested with SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nader.errors import VerifyError
from nader.ir.expr import Expr, normalize
from nader.ir.graph import Block
from nader.ir.ops import BoundParams
from nader.ir.orbits import SearchFrame
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
        self.input_key = [
            tuple(sorted(ins)) if graph.commutative[v] else tuple(ins)
            for v, ins in enumerate(graph.inputs)
        ]
        self.twin_key = [
            (self.label_rank[v], self.input_key[v], tuple(sorted(consumers[v]))) for v in range(n)
        ]

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
        """Stable colouring: each round ranks every node by (colour, inputs' colours, consumers'
        colours and positions), until the number of colours stops growing. A singleton cell keeps
        its rank without a key, so a round costs the tied cells' size, not the graph's."""
        inputs, commutative, consumers = self.graph.inputs, self.graph.commutative, self.consumers
        count = len(set(colors))
        while count < self.n:  # a discrete colouring is already stable
            members: dict[int, list[int]] = {}
            for v, c in enumerate(colors):
                members.setdefault(c, []).append(v)
            ranked = [0] * self.n
            used = 0
            for c in sorted(members):
                cell = members[c]
                if len(cell) == 1:
                    ranked[cell[0]] = used
                    used += 1
                    continue
                keys = {}
                for v in cell:
                    ins = [colors[u] for u in inputs[v]]
                    if commutative[v]:
                        ins.sort()
                    outs = sorted([(colors[w], pos) for w, pos in consumers[v]])
                    keys[v] = (tuple(ins), tuple(outs))
                table = {key: used + i for i, key in enumerate(sorted(set(keys.values())))}
                used += len(table)
                for v in cell:
                    ranked[v] = table[keys[v]]
            colors = ranked
            if used == count:
                return colors
            count = used
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

    def target_cell(self, colors: list[int]) -> list[int] | None:
        """The first tied cell (smallest colour with two or more members); ``None`` at a leaf."""
        if len(set(colors)) == len(colors):
            return None  # discrete: a leaf
        members: dict[int, list[int]] = {}
        for v, c in enumerate(colors):
            members.setdefault(c, []).append(v)
        tied = [group for c, group in sorted(members.items()) if len(group) > 1]
        return tied[0] if tied else None

    def twins(self, cell: list[int]) -> bool:
        """Whether the cell's members are pairwise twins (same label, inputs and consumers):
        then every permutation of them is an automorphism fixing every other node."""
        return len({self.twin_key[v] for v in cell}) == 1

    @staticmethod
    def individualize(colors: list[int], chosen: Sequence[int]) -> list[int]:
        """Give ``chosen`` (all in one cell) singleton colours, in the order given, ahead of the
        rest of their cell."""
        rank = {v: i for i, v in enumerate(chosen)}
        last = len(chosen)
        return _rank([(c, rank.get(u, last)) for u, c in enumerate(colors)])

    def step(self, colors: list[int], cell: list[int], v: int) -> tuple[list[int], tuple[int, ...]]:
        """Individualise ``v`` of ``cell`` and refine; a cell of twins is individualised whole
        (no branching: its orderings are related by automorphisms). Returns the child's colours
        and the nodes it fixed."""
        chosen = tuple(cell) if self.twins(cell) else (v,)
        return self.refine(self.individualize(colors, chosen)), chosen

    def first_leaf(self, colors: list[int]) -> list[int]:
        """The leaf reached by always individualising the first member of the target cell."""
        cell = self.target_cell(colors)
        while cell is not None:
            colors, _ = self.step(colors, cell, cell[0])
            cell = self.target_cell(colors)
        return colors

    def is_automorphism(self, gamma: Sequence[int]) -> bool:
        graph, label_rank = self.graph, self.label_rank
        for v in range(self.n):
            w = gamma[v]
            if label_rank[w] != label_rank[v]:
                return False
            mapped = [gamma[u] for u in graph.inputs[v]]
            if graph.commutative[v]:
                mapped.sort()
            if tuple(mapped) != self.input_key[w]:
                return False
        return True

    @staticmethod
    def leaf_map(first: list[int], other: list[int]) -> list[int]:
        """The permutation taking each node of leaf ``first`` to the node of ``other`` with the
        same colour."""
        node_of = [0] * len(other)
        for v, c in enumerate(other):
            node_of[c] = v
        return [node_of[c] for c in first]

    @staticmethod
    def cell_map(first: list[int], other: list[int]) -> list[int] | None:
        """A cheap candidate automorphism between two sibling partitions: per colour, common
        members stay, the rest are paired in node order. ``None`` when cell sizes differ."""
        cells_a: dict[int, list[int]] = {}
        cells_b: dict[int, list[int]] = {}
        for v, c in enumerate(first):
            cells_a.setdefault(c, []).append(v)
        for v, c in enumerate(other):
            cells_b.setdefault(c, []).append(v)
        gamma = list(range(len(first)))
        for c, members_a in cells_a.items():
            members_b = cells_b.get(c, [])
            if len(members_b) != len(members_a):
                return None
            if members_a == members_b:
                continue
            set_a, set_b = set(members_a), set(members_b)
            only_a = [v for v in members_a if v not in set_b]
            only_b = [v for v in members_b if v not in set_a]
            for v, w in zip(only_a, only_b, strict=True):
                gamma[v] = w
        return gamma

    def search(self, colors: list[int]) -> tuple[tuple, list[int]]:  # type: ignore[type-arg]
        """Smallest leaf encoding of the search tree below ``colors`` and its labelling.

        Depth-first and iterative (an explicit stack, so no recursion limit). Children of a tree
        node that an automorphism fixing the node's individualised prefix maps onto an explored
        child are pruned (orbit pruning). Automorphisms come from: a cell of twins (handled
        without branching), a cheap candidate between sibling partitions, and two leaves with
        the same encoding; every candidate is verified before use. Symmetric branches therefore
        cost one extra child per tree level rather than a subtree each.
        """
        generators: list[list[tuple[int, int]]] = []  # each as the pairs (v, image) it moves
        best: tuple | None = None  # type: ignore[type-arg]
        best_colors: list[int] = []
        stack: list[SearchFrame] = []

        def open_frame(node_colors: list[int], prefix: tuple[int, ...]) -> None:
            nonlocal best, best_colors
            cell = self.target_cell(node_colors)
            if cell is None:
                encoding = self.encode(node_colors)
                if best is None or encoding < best:
                    best, best_colors = encoding, node_colors
                for frame in reversed(stack):  # the first leaf of every frame still lacking one
                    if frame.first_leaf is not None:
                        break
                    frame.first_leaf, frame.first_encoding = node_colors, encoding
                return
            stack.append(SearchFrame(node_colors, prefix, cell, len(generators)))

        open_frame(self.refine(colors), ())
        while stack:
            frame = stack[-1]
            if frame.first_child is None:
                v = frame.cell[0]
                child, chosen = self.step(frame.colors, frame.cell, v)
                frame.first_child, frame.first_child_colors = v, child
                frame.explored.append(v)
                if len(chosen) > 1:
                    frame.next = len(frame.cell)  # twins: one child stands for all
                open_frame(child, frame.prefix + chosen)
                continue
            pushed = False
            while frame.next < len(frame.cell) and not pushed:
                w = frame.cell[frame.next]
                frame.next += 1
                frame.absorb(generators)
                if frame.in_explored_orbit(w):
                    continue
                child, chosen = self.step(frame.colors, frame.cell, w)
                gamma = self.cell_map(frame.first_child_colors, child)
                if gamma is None or not self._accept(gamma, frame, generators):
                    leaf = self.first_leaf(child)
                    if self.encode(leaf) == frame.first_encoding:
                        assert frame.first_leaf is not None
                        self._accept(self.leaf_map(frame.first_leaf, leaf), frame, generators)
                frame.absorb(generators)
                if frame.in_explored_orbit(w):
                    continue
                frame.explored.append(w)
                open_frame(child, frame.prefix + chosen)
                pushed = True
            if not pushed:
                stack.pop()
        assert best is not None
        return best, best_colors

    def _accept(
        self, gamma: list[int], frame: SearchFrame, generators: list[list[tuple[int, int]]]
    ) -> bool:
        """Keep ``gamma`` if it is an automorphism fixing the frame's prefix (then it fixes the
        prefix of every frame below on the stack too), stored by the points it moves."""
        if any(gamma[v] != v for v in frame.prefix) or not self.is_automorphism(gamma):
            return False
        moved = [(v, w) for v, w in enumerate(gamma) if v != w]
        if moved:
            generators.append(moved)
        return True


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
    rows, colors = canonizer.search(canonizer.initial_colors())
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
