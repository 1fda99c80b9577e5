"""Which rewrite an inspiration calls for: keyword phrases first, embedding similarity second.

Scores are deterministic; ties are broken by a seeded shuffle so that different inspirations (or
seeds) explore different rewrites and sites.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from nader.agents.embedders import HashingEmbedder
from nader.agents.offline.rewrites import REWRITES, Rewrite

_EMBEDDER = HashingEmbedder(dimension=512)
_DESCRIPTION_VECTORS: dict[str, list[float]] = {}


def stable_seed(*parts: object) -> int:
    """An integer seed from the parts' text (same in every process)."""
    digest = hashlib.blake2b(
        "\x1f".join(str(p) for p in parts).encode("utf-8"), digest_size=8
    ).digest()
    return int.from_bytes(digest, "little")


def _description_vector(rewrite: Rewrite) -> list[float]:
    vector = _DESCRIPTION_VECTORS.get(rewrite.name)
    if vector is None:
        vector = _EMBEDDER.embed_one(rewrite.description + " " + " ".join(rewrite.keywords))
        _DESCRIPTION_VECTORS[rewrite.name] = vector
    return vector


def similarity(text: str, rewrite: Rewrite) -> float:
    query = _EMBEDDER.embed_one(text)
    return sum(a * b for a, b in zip(query, _description_vector(rewrite), strict=True))


def keyword_hits(text: str, rewrite: Rewrite) -> int:
    lowered = text.lower()
    return sum(1 for keyword in rewrite.keywords if keyword in lowered)


def match_score(text: str, rewrite: Rewrite) -> float:
    """Keyword hits count most; similarity (in [-1, 1]) orders rewrites with equal hits."""
    return keyword_hits(text, rewrite) + similarity(text, rewrite)


def rank_rewrites(text: str, seed: int, rewrites: Sequence[Rewrite] = REWRITES) -> list[Rewrite]:
    """Rewrites best-matching ``text`` first; a seeded jitter orders near-ties."""
    rng = random.Random(seed)
    scored = [(match_score(text, r) + rng.uniform(0.0, 0.05), r) for r in rewrites]
    return [r for _, r in sorted(scored, key=lambda pair: -pair[0])]
