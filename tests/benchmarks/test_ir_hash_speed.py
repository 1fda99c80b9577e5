"""Canonical hashing on symmetric blocks and on the corpus, against baselines in the same run.

Blocks: input → N parallel ReLUs → Add → output for N = 30, 60, 200 and 1,000 (1,000 branches
make 1,003 nodes, over the verifier's 1,000-node limit, so the graph is built directly as a
:class:`LabelledGraph`), the same with two-node branches (ReLU → BN), and every section of the
authors' block files.

Baselines, measured in the same run:

* ``old``: the search nader used before orbit pruning (recursive individualisation with a first
  leaf per member of every tied cell), kept below; it shares today's colour refinement (which
  gives the same colours, faster), so the ratio isolates the search. It is cubic in the branch
  count (30 branches ≈ 3 s on the issue's machine), so it runs at 30 branches and on the
  corpus only.
* ``vf2``: networkx VF2 deciding that the block is isomorphic to a node-permuted copy of
  itself (labels and input positions must match) — what a dedup without a canonical form does
  per comparison.

Run: ``PYTHONPATH=. python -m pytest tests/benchmarks/test_ir_canonical_symmetry.py
-p no:cacheprovider --benchmark-only -s`` (``-s`` prints the ratios).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from nader.ir import default_registry, parse_network
from nader.ir.canonical import (
    LabelledGraph,
    _Canonizer,
    canonical_hash_of_graph,
    digest_encoding,
    graph_structure,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("NADER_CORPUS", REPO_ROOT / ".." / "shared" / "corpus"))
BLOCKS = CORPUS / "nader-official" / "blocks"
BRANCHES = (30, 60, 200, 1000)
RESULTS: dict[str, float] = {}


def parallel(branches: int, depth: int = 1) -> LabelledGraph:
    labels = ["input"]
    inputs: list[tuple[int, ...]] = [()]
    ends = []
    for _ in range(branches):
        previous = 0
        for level in range(depth):
            labels.append("ReLU" if level % 2 == 0 else "BN")
            inputs.append((previous,))
            previous = len(labels) - 1
        ends.append(previous)
    labels += ["Add", "output"]
    inputs += [tuple(ends), (len(labels) - 2,)]
    return LabelledGraph(
        tuple(labels), tuple(inputs), tuple(label == "Add" for label in labels), True
    )


def corpus_graphs() -> list[LabelledGraph]:
    if not BLOCKS.is_dir():
        pytest.skip(f"corpus not found at {BLOCKS}")
    registry = default_registry()
    graphs = []
    for path in sorted(BLOCKS.rglob("*.txt")):
        for block in parse_network(path.read_text(encoding="utf-8")).blocks:
            graphs.append(LabelledGraph.from_structure(graph_structure(block, registry))[0])
    return graphs


# ------------------------------------------------------------ baseline: the search before


def _old_target_cell(colors: list[int]) -> list[int] | None:
    if len(set(colors)) == len(colors):
        return None
    members: dict[int, list[int]] = {}
    for v, c in enumerate(colors):
        members.setdefault(c, []).append(v)
    tied = [group for c, group in sorted(members.items()) if len(group) > 1]
    return tied[0] if tied else None


def _old_first_leaf(canonizer: _Canonizer, colors: list[int]) -> tuple:  # type: ignore[type-arg]
    colors = canonizer.refine(colors)
    cell = _old_target_cell(colors)
    while cell is not None:
        colors = canonizer.refine(canonizer.individualize(colors, (cell[0],)))
        cell = _old_target_cell(colors)
    return canonizer.encode(colors)


def _old_search(canonizer: _Canonizer, colors: list[int]) -> tuple:  # type: ignore[type-arg]
    colors = canonizer.refine(colors)
    cell = _old_target_cell(colors)
    if cell is None:
        encoding = canonizer.encode(colors)
        return encoding, encoding
    best = first = None
    for i, v in enumerate(cell):
        child = canonizer.individualize(colors, (v,))
        if i > 0 and _old_first_leaf(canonizer, child) == first:
            continue
        encoding, child_first = _old_search(canonizer, child)
        if i == 0:
            first = child_first
        if best is None or encoding < best:
            best = encoding
    return best, first


def old_hash(graph: LabelledGraph) -> str:
    canonizer = _Canonizer(graph)
    rows, _ = _old_search(canonizer, canonizer.initial_colors())
    return digest_encoding((tuple(sorted(set(graph.labels))), rows))


# ------------------------------------------------------------------- baseline: networkx VF2


def to_networkx(graph: LabelledGraph, order: list[int]) -> nx.DiGraph:
    position = {old: new for new, old in enumerate(order)}
    result = nx.DiGraph()
    for old in order:
        result.add_node(position[old], label=graph.labels[old])
    for target, sources in enumerate(graph.inputs):
        for slot, source in enumerate(sources):
            key = -1 if graph.commutative[target] else slot
            a, b = position[source], position[target]
            slots = result.edges[a, b]["slots"] if result.has_edge(a, b) else ()
            result.add_edge(a, b, slots=tuple(sorted((*slots, key))))
    return result


def vf2_self_check(graphs: list[LabelledGraph]) -> bool:
    rng = random.Random(7)
    pairs = []
    for graph in graphs:
        order = list(range(len(graph.labels)))
        rng.shuffle(order)
        pairs.append((to_networkx(graph, list(range(len(order)))), to_networkx(graph, order)))

    def check() -> bool:
        return all(
            nx.is_isomorphic(
                a,
                b,
                node_match=lambda x, y: x["label"] == y["label"],
                edge_match=lambda x, y: x["slots"] == y["slots"],
            )
            for a, b in pairs
        )

    return check  # type: ignore[return-value]


def report(key: str, baseline: str, benchmark: Any) -> None:
    mean = benchmark.stats.stats.mean
    RESULTS[f"{baseline}:{key}"] = mean
    ours = RESULTS.get(f"nader:{key}")
    if ours:
        benchmark.extra_info[f"{baseline} / nader"] = round(mean / ours, 1)
        print(
            f"\n{key}: nader {ours * 1e3:.2f} ms, {baseline} {mean * 1e3:.2f} ms "
            f"(x{mean / ours:,.1f})"
        )


# ------------------------------------------------------------------------------ benchmarks


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("branches", BRANCHES)
def test_nader_symmetric(benchmark: Any, branches: int, depth: int) -> None:
    if depth == 2 and branches == 1000:
        pytest.skip("two-node branches: benchmarked up to 200")
    key = f"{branches} branches x{depth}"
    benchmark.group = key
    graph = parallel(branches, depth)
    rounds = 3 if branches * depth >= 400 else 10
    digest = benchmark.pedantic(canonical_hash_of_graph, (graph,), rounds=rounds)
    assert digest != canonical_hash_of_graph(parallel(branches - 1, depth))
    RESULTS[f"nader:{key}"] = benchmark.stats.stats.mean


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("branches", BRANCHES)
def test_baseline_vf2_symmetric(benchmark: Any, branches: int, depth: int) -> None:
    if depth == 2 and branches == 1000:
        pytest.skip("two-node branches: benchmarked up to 200")
    key = f"{branches} branches x{depth}"
    benchmark.group = key
    check = vf2_self_check([parallel(branches, depth)])
    assert benchmark.pedantic(check, rounds=3) is True
    report(key, "vf2", benchmark)


@pytest.mark.parametrize("depth", [1, 2])
def test_baseline_old_search_30_branches(benchmark: Any, depth: int) -> None:
    key = f"30 branches x{depth}"
    benchmark.group = key
    graph = parallel(30, depth)
    digest = benchmark.pedantic(old_hash, (graph,), rounds=1)
    assert digest == canonical_hash_of_graph(graph)  # same canonical form, only slower
    report(key, "old", benchmark)


def test_nader_corpus(benchmark: Any) -> None:
    graphs = corpus_graphs()
    benchmark.group = "corpus"
    digests = benchmark(lambda: [canonical_hash_of_graph(g) for g in graphs])
    assert len(digests) == len(graphs)
    RESULTS["nader:corpus"] = benchmark.stats.stats.mean


def test_baseline_old_search_corpus(benchmark: Any) -> None:
    graphs = corpus_graphs()
    benchmark.group = "corpus"
    digests = benchmark(lambda: [old_hash(g) for g in graphs])
    assert digests == [canonical_hash_of_graph(g) for g in graphs]
    report("corpus", "old", benchmark)


def test_baseline_vf2_corpus(benchmark: Any) -> None:
    benchmark.group = "corpus"
    check = vf2_self_check(corpus_graphs())
    assert benchmark.pedantic(check, rounds=3) is True
    report("corpus", "vf2", benchmark)
