"""Top-5 retrieval over the authors' 5,411 inspirations: embedded Qdrant vs brute force.

Goal: under 10 ms per top-5 query *including embedding the query*, after indexing. The baseline,
measured in the same run, is a brute-force numpy cosine over every stored vector (the best a
linear scan can do). Run with:

    PYTHONPATH=. python -m pytest tests/benchmarks/test_memory_retrieval.py -p no:cacheprovider --benchmark-only
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest

from nader.agents.embedders import HashingEmbedder
from nader.agents.knowledge import KnowledgePool, load_inspiration_file
from nader.agents.memory import VectorPool, open_qdrant

CORPUS = Path(
    os.environ.get("NADER_CORPUS", Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus")
)
INSPIRATIONS = CORPUS / "nader-official" / "knowledge" / "inspirations.json"

QUERIES = [
    "channel attention with squeeze and excitation",
    "spatial attention to focus on informative regions",
    "residual connections for deeper networks",
    "depthwise separable convolutions reduce computation",
    "multi-scale feature fusion with parallel branches",
    "dilated convolutions enlarge the receptive field",
    "layer normalization and GELU activation as in transformers",
    "dense connections for feature reuse",
    "bottleneck block with 1x1 convolutions",
    "self-attention over all positions of the feature map",
]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    if not INSPIRATIONS.is_file():
        pytest.skip("the shared corpus is not available")
    items = load_inspiration_file(INSPIRATIONS)
    embedder = HashingEmbedder()
    client = open_qdrant(path=tmp_path_factory.mktemp("memory"))  # embedded, on disk: the default
    pool = KnowledgePool(VectorPool(client, "knowledge", embedder))
    pool.add(items)
    matrix = np.asarray(embedder.embed([i.text for i in items]), dtype=np.float32)
    keys = [i.key for i in items]
    yield pool, embedder, matrix, keys
    client.close()


def brute_force(
    embedder: HashingEmbedder, matrix: np.ndarray, keys: list[str], query: str, k: int = 5
) -> list[str]:
    vector = np.asarray(embedder.embed_one(query), dtype=np.float32)
    scores = matrix @ vector  # rows are unit vectors: cosine
    top = np.argpartition(-scores, k)[:k]
    return [keys[i] for i in top[np.argsort(-scores[top])]]


def test_both_find_the_same_neighbours(indexed):
    pool, embedder, matrix, keys = indexed
    assert len(pool) == 5411
    for query in QUERIES:
        qdrant = [i.key for i, _ in pool.search(query, k=5)]
        assert qdrant[0] == brute_force(embedder, matrix, keys, query)[0]


@pytest.mark.benchmark(group="top5-retrieval-5411")
def test_qdrant_embedded_query(benchmark, indexed):
    pool, *_ = indexed
    queries = itertools.cycle(QUERIES)
    hits = benchmark(lambda: pool.search(next(queries), k=5))
    assert len(hits) == 5


@pytest.mark.benchmark(group="top5-retrieval-5411")
def test_numpy_brute_force_baseline(benchmark, indexed):
    _, embedder, matrix, keys = indexed
    queries = itertools.cycle(QUERIES)
    assert len(benchmark(lambda: brute_force(embedder, matrix, keys, next(queries)))) == 5


@pytest.mark.benchmark(group="top5-retrieval-5411")
def test_embedding_the_query_alone(benchmark, indexed):
    _, embedder, *_ = indexed
    queries = itertools.cycle(QUERIES)
    assert len(benchmark(lambda: embedder.embed_one(next(queries)))) == embedder.dimension
