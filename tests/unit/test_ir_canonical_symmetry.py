"""Canonical hashing on highly symmetric blocks: exact (VF2 is the oracle) and polynomial.

Symmetric blocks are where individualisation-refinement branches most: identical parallel
branches, branches wired to their neighbours in a ring (rotations, not swaps, are the
automorphisms), and twins (nodes with the same label, inputs and consumers).
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ir_helpers import IO_KINDS, PALETTE, SMALL_PALETTE, Graph, finish, graph_cores, isomorphic

from nader.ir.canonical import LabelledGraph, canonical_hash_of_graph

PROPERTY = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def replicated(
    core: tuple[list, list[list[int]]], copies: int, ring: tuple[int, int] | None = None
) -> Graph:
    """``copies`` copies of the core's operator nodes sharing its input node(s); with ``ring``
    ``(a, b)`` node ``b`` of copy ``i`` also reads node ``a`` of copy ``i + 1`` (mod copies)."""
    kinds, inputs = core
    shared = sum(1 for kind in kinds if kind in IO_KINDS.values())
    body = len(kinds) - shared
    out_kinds = list(kinds[:shared])
    out_inputs: list[list[int]] = [[] for _ in range(shared)]

    def where(copy: int, node: int) -> int:
        return node if node < shared else shared + copy * body + (node - shared)

    for copy in range(copies):
        for node in range(shared, len(kinds)):
            out_kinds.append(kinds[node])
            out_inputs.append([where(copy, s) for s in inputs[node]])
    if ring is not None and body:
        a, b = (shared + r % body for r in ring)
        if a < b:  # keeps the graph acyclic
            for copy in range(copies):
                target = where(copy, b)
                if len(out_inputs[target]) < out_kinds[target].max_inputs:
                    out_inputs[target].append(where((copy + 1) % copies, a))
    return finish(out_kinds, out_inputs)


def labelled(graph: Graph, order: list[int] | None = None) -> LabelledGraph:
    order = order if order is not None else list(range(len(graph)))
    position = {old: new for new, old in enumerate(order)}
    return LabelledGraph(
        tuple(graph.kinds[old].key for old in order),
        tuple(tuple(position[s] for s in graph.inputs[old]) for old in order),
        tuple(graph.kinds[old].commutative for old in order),
    )


@st.composite
def symmetric_graphs(draw: st.DrawFn) -> Graph:
    core = draw(graph_cores(SMALL_PALETTE, max_nodes=3, two_input=False))
    copies = draw(st.integers(2, 6))
    ring = draw(st.none() | st.tuples(st.integers(0, 5), st.integers(0, 5)))
    return replicated(core, copies, ring)


@settings(PROPERTY, max_examples=150)
@given(st.data())
def test_symmetric_blocks_hash_equal_exactly_when_vf2_isomorphic(data: st.DataObject) -> None:
    first = data.draw(symmetric_graphs())
    second = data.draw(symmetric_graphs())
    assert (
        canonical_hash_of_graph(labelled(first)) == canonical_hash_of_graph(labelled(second))
    ) == isomorphic(first, second)


@settings(PROPERTY, max_examples=150)
@given(st.data())
def test_symmetric_block_hash_is_invariant_under_node_permutation(data: st.DataObject) -> None:
    graph = data.draw(symmetric_graphs())
    order = data.draw(st.permutations(range(len(graph))))
    assert canonical_hash_of_graph(labelled(graph)) == canonical_hash_of_graph(
        labelled(graph, list(order))
    )


def test_ring_of_branches_differs_from_separate_branches() -> None:
    # rotations are the automorphisms of a ring; a pruning that assumed swaps would merge these
    relu, add = PALETTE[0], PALETTE[9]
    core = ([IO_KINDS["input"], relu, add], [[], [0], [1]])
    ring = replicated(core, 6, (0, 1))
    plain = replicated(core, 6)
    assert not isomorphic(ring, plain)
    assert canonical_hash_of_graph(labelled(ring)) != canonical_hash_of_graph(labelled(plain))


def parallel_relus(branches: int) -> LabelledGraph:
    """input → ``branches`` parallel ReLUs → Add → output, built without the verifier's node
    limit (1,000 branches make 1,003 nodes)."""
    labels = ("input",) + ("ReLU",) * branches + ("Add", "output")
    inputs = ((),) + ((0,),) * branches + (tuple(range(1, branches + 1)), (branches + 1,))
    commutative = tuple(label == "Add" for label in labels)
    return LabelledGraph(labels, inputs, commutative, topological=True)


def test_parallel_branches_hash_within_the_issues_bounds() -> None:
    # before: 50 branches took 21 s and 400 did not finish in 5 minutes. The bounds are the
    # issue's (1,000 branches < 1 s, 60 < 50 ms); measured ~10 ms and ~0.5 ms, so a loaded
    # machine has a 100x margin. Ratios against baselines are in tests/benchmarks.
    for branches, bound in ((1000, 1.0), (60, 0.05)):
        graph = parallel_relus(branches)
        started = time.perf_counter()
        digest = canonical_hash_of_graph(graph)
        assert time.perf_counter() - started < bound, branches
        assert digest != canonical_hash_of_graph(parallel_relus(branches - 1))
