"""Dedup lookup: nader's canonical hash + :class:`DedupIndex` against a linear VF2 scan.

Stored graphs are the authors' 46-node cell (``nasbench201_cifar100_acc76.txt``) and random
mutations of it (an operator or parameter changed, an input rewired), all distinct. A lookup
asks for a further mutation that is not stored — the common case for a new architecture, and
the worst case for a scan, which must compare against everything.

* nader: canonical hash of the query (its labelled graph built from the verified structure) +
  one dictionary lookup.
* baseline (what the authors do): build the query's networkx graph, then
  ``networkx.is_isomorphic`` against every stored graph (node labels and input positions must
  match). At 1,000 and 10,000 stored graphs a full scan would take seconds to minutes per
  round, so the baseline times a scan of the first ``SCAN_SAMPLE`` stored graphs and scales
  the mean by ``N / SCAN_SAMPLE`` (comparisons cost the same order of time whichever graphs
  they are against; recorded in ``extra_info``).

Run: ``PYTHONPATH=. python -m pytest tests/benchmarks/test_ir_dedup.py -p no:cacheprovider
--benchmark-only`` (building 10,000 stored graphs takes a little while). Goal: ≤ 1 ms per
lookup at 10,000 stored graphs.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from nader.ir import DedupIndex, default_registry, parse_block
from nader.ir.canonical import LabelledGraph, canonical_hash_of_structure, graph_structure
from nader.ir.structure import Structure

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("NADER_CORPUS", REPO_ROOT / ".." / "shared" / "corpus"))
CELL_FILE = (
    CORPUS / "nader-official" / "blocks" / "nas-bench-201" / "nasbench201_cifar100_acc76.txt"
)
SIZES = (10, 100, 1_000, 10_000)
SCAN_SAMPLE = 100
REGISTRY = default_registry()
RESULTS: dict[int, float] = {}

_REPLACEMENTS = [
    "Conv2d(out_channels=C,kernel_size=3,stride=1)",
    "Conv2d(out_channels=C,kernel_size=1,stride=1)",
    "Conv2d(out_channels=C,kernel_size=3,stride=1,groups=C)",
    "Conv2d(out_channels=C,kernel_size=5,stride=1)",
    "BN",
    "ReLU",
    "GELU",
    "Sigmoid",
    "DropPath(drop_prob=0.1)",
]


def mutate(text: str, rng: random.Random) -> str:
    """One to three random edits that keep the block structurally valid."""
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.6:  # change a unary operator or its parameters
            candidates = [
                i
                for i, line in enumerate(lines)
                if re.match(r"\d+:(Conv2d|BN|ReLU|GELU|Sigmoid|DropPath)", line)
            ]
            i = rng.choice(candidates)
            lines[i] = lines[i].split(":", 1)[0] + ":" + rng.choice(_REPLACEMENTS)
        else:  # feed an Add from another node that comes earlier on the same path
            edges = [i for i, line in enumerate(lines) if re.fullmatch(r"\d+->\d+", line)]
            i = rng.choice(edges)
            source, target = (int(x) for x in lines[i].split("->"))
            if source > 2:
                lines[i] = f"{rng.randint(2, source)}->{target}"
    return "\n".join(lines) + "\n"


def structure_of(text: str) -> Structure | None:
    try:
        return graph_structure(parse_block(text), REGISTRY)
    except Exception:  # noqa: BLE001 - a mutation that broke the wiring is simply skipped
        return None


def to_networkx(structure: Structure) -> nx.DiGraph:
    graph, ids = LabelledGraph.from_structure(structure)
    result = nx.DiGraph()
    for index, label in enumerate(graph.labels):
        result.add_node(index, label=label)
    for target, sources in enumerate(graph.inputs):
        for position, source in enumerate(sources):
            slot = -1 if graph.commutative[target] else position
            if result.has_edge(source, target):
                result[source][target]["slots"] = tuple(
                    sorted((*result[source][target]["slots"], slot))
                )
            else:
                result.add_edge(source, target, slots=(slot,))
    return result


def _same_label(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["label"] == b["label"]


def _same_slots(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["slots"] == b["slots"]


class Store:
    """``max(SIZES) + 1`` distinct mutated cells (by canonical hash); the last one is the query.

    Only digests are kept for all of them (and structures for the scan sample), so the store
    for ``N`` stored graphs is the first ``N`` digests.
    """

    def __init__(self) -> None:
        base = CELL_FILE.read_text(encoding="utf-8")
        cell = base[: base.index("\n##") + 1]
        rng = random.Random(20250601)
        self.digests: list[str] = []
        self.sample: list[Structure] = []
        seen: set[str] = set()
        candidate = cell
        while len(self.digests) < max(SIZES) + 1:
            structure = structure_of(candidate)
            if structure is not None:
                digest = canonical_hash_of_structure(structure)
                if digest not in seen:
                    seen.add(digest)
                    self.digests.append(digest)
                    if len(self.sample) < SCAN_SAMPLE:
                        self.sample.append(structure)
                    self.query = structure
            candidate = mutate(cell, rng)
        self.digests.pop()  # the query: generated like the others, never stored

    def index(self, size: int) -> DedupIndex:
        index = DedupIndex()
        for number, digest in enumerate(self.digests[:size]):
            index.add(digest, f"arch-{number}")
        return index


_STORE: list[Store] = []


def store() -> Store:
    if not CELL_FILE.is_file():
        pytest.skip(f"corpus file not found: {CELL_FILE}")
    if not _STORE:
        _STORE.append(Store())
    return _STORE[0]


@pytest.mark.parametrize("size", SIZES)
def test_dedup_index_lookup(benchmark: Any, size: int) -> None:
    benchmark.group = f"dedup lookup, {size:,} stored"
    stored = store()
    index = stored.index(size)
    assert len(index) == size

    def lookup() -> str | None:
        return index.lookup(canonical_hash_of_structure(stored.query))

    assert benchmark(lookup) is None
    RESULTS[size] = benchmark.stats.stats.mean


@pytest.mark.parametrize("size", SIZES)
def test_baseline_networkx_scan(benchmark: Any, size: int) -> None:
    benchmark.group = f"dedup lookup, {size:,} stored"
    stored = store()
    sample = [to_networkx(s) for s in stored.sample[: min(size, SCAN_SAMPLE)]]

    def scan() -> bool:
        query = to_networkx(stored.query)
        return any(
            nx.is_isomorphic(query, other, node_match=_same_label, edge_match=_same_slots)
            for other in sample
        )

    assert benchmark.pedantic(scan, rounds=5 if size <= SCAN_SAMPLE else 3) is False
    measured = benchmark.stats.stats.mean
    scaled = measured * size / len(sample)
    benchmark.extra_info.update(
        {"compared": len(sample), "scale": size / len(sample), "scaled_mean_s": scaled}
    )
    if size in RESULTS:
        benchmark.extra_info["scan / index"] = round(scaled / RESULTS[size], 1)
        print(
            f"\n{size:>6,} stored: index {RESULTS[size] * 1e3:.3f} ms, "
            f"networkx scan {scaled * 1e3:,.1f} ms (x{scaled / RESULTS[size]:,.0f})"
        )
