"""Vector storage for the knowledge and experience pools: Qdrant, embedded or a server.

By default Qdrant runs *embedded* (``QdrantClient(path=...)``, a folder inside the run directory
or a shared knowledge folder), so a run needs no service; given a URL it talks to a server.
:class:`VectorPool` is one collection holding texts under stable keys: the Qdrant point id is a
UUID derived from the key, so importing the same file twice adds nothing, and a collection is
named after its embedder's ``identity`` so vectors of different embedders never mix.

Vectors are L2-normalised here, before they are stored or used as queries, and the collection
uses the dot product: for unit vectors that *is* cosine similarity, and it spares embedded
Qdrant from re-normalising every stored vector on every query (which made a top-5 query over
5,411 inspirations about ten times slower).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient, models

from nader.agents.embedders import Embedder

log = logging.getLogger(__name__)

_KEY_NAMESPACE = uuid.UUID("5f1b2f4e-4b0c-4f5e-9a51-6e61646572ff")
_UPSERT_BATCH = 256
_RETRIEVE_BATCH = 1024


def open_qdrant(*, path: str | Path | None = None, url: str | None = None) -> QdrantClient:
    """A client on a server (``url``), an embedded folder (``path``), or in memory (neither)."""
    if url:
        return QdrantClient(url=url)
    if path is not None:
        Path(path).mkdir(parents=True, exist_ok=True)
        return QdrantClient(path=str(path))
    return QdrantClient(location=":memory:")


def point_id(key: str) -> str:
    """The Qdrant id of a key: a UUID5, stable across processes and machines."""
    return str(uuid.uuid5(_KEY_NAMESPACE, key))


@dataclass(frozen=True)
class PoolEntry:
    """A text to store: ``key`` identifies it, ``text`` is embedded, ``payload`` is kept."""

    key: str
    text: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Hit:
    key: str
    score: float
    payload: Mapping[str, Any]


def unit(vector: Sequence[float]) -> list[float]:
    """``vector`` scaled to length 1 (a zero vector stays zero)."""
    norm = math.sqrt(sum(x * x for x in vector))
    return [float(x) / norm for x in vector] if norm > 0.0 else [float(x) for x in vector]


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)


class VectorPool:
    """One Qdrant collection of texts keyed by stable string keys."""

    def __init__(self, client: QdrantClient, name: str, embedder: Embedder) -> None:
        self.client = client
        self.embedder = embedder
        self.collection = f"{_safe_name(name)}__{_safe_name(embedder.identity)}"
        self._keys: list[str] | None = None
        if not client.collection_exists(self.collection):
            client.create_collection(
                self.collection,
                vectors_config=models.VectorParams(
                    size=embedder.dimension, distance=models.Distance.DOT
                ),
            )

    def count(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    def existing(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are already stored."""
        found: set[str] = set()
        by_id = {point_id(k): k for k in keys}
        ids = list(by_id)
        for start in range(0, len(ids), _RETRIEVE_BATCH):
            records = self.client.retrieve(
                self.collection, ids=ids[start : start + _RETRIEVE_BATCH], with_payload=False
            )
            found.update(by_id[str(record.id)] for record in records)
        return found

    def add(
        self, entries: Sequence[PoolEntry], *, vector_texts: Sequence[str] | None = None
    ) -> int:
        """Store entries whose keys are new; returns how many were added.

        ``vector_texts`` (one per entry) embeds a different text than ``entry.text`` — the
        experience pool keys tips by their *suggestion*.
        """
        unique: dict[str, tuple[PoolEntry, str]] = {}
        for index, entry in enumerate(entries):
            vector_text = vector_texts[index] if vector_texts is not None else entry.text
            unique.setdefault(entry.key, (entry, vector_text))
        present = self.existing(list(unique))
        fresh = [pair for key, pair in unique.items() if key not in present]
        for start in range(0, len(fresh), _UPSERT_BATCH):
            chunk = fresh[start : start + _UPSERT_BATCH]
            vectors = [unit(v) for v in self.embedder.embed([text for _, text in chunk])]
            self.client.upsert(
                self.collection,
                points=models.Batch(
                    ids=[point_id(entry.key) for entry, _ in chunk],
                    vectors=vectors,
                    payloads=[
                        {**entry.payload, "key": entry.key, "text": entry.text}
                        for entry, _ in chunk
                    ],
                ),
            )
        if fresh:
            self._keys = None
        return len(fresh)

    def query(
        self,
        text: str,
        *,
        k: int = 5,
        exclude_keys: Sequence[str] = (),
        where: Mapping[str, str] | None = None,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        """The ``k`` stored texts most similar to ``text`` (cosine), best first."""
        return self.query_vector(
            self.embedder.embed([text])[0],
            k=k,
            exclude_keys=exclude_keys,
            where=where,
            score_threshold=score_threshold,
        )

    def query_vector(
        self,
        vector: Sequence[float],
        *,
        k: int = 5,
        exclude_keys: Sequence[str] = (),
        where: Mapping[str, str] | None = None,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        must: list[Any] = [
            models.FieldCondition(key=field, match=models.MatchValue(value=value))
            for field, value in (where or {}).items()
        ]
        must_not: list[Any] = []
        if exclude_keys:
            must_not.append(models.HasIdCondition(has_id=[point_id(key) for key in exclude_keys]))
        query_filter = (
            models.Filter(must=must or None, must_not=must_not or None)
            if must or must_not
            else None
        )
        response = self.client.query_points(
            self.collection,
            query=unit(vector),
            query_filter=query_filter,
            limit=k,
            with_payload=True,
            score_threshold=score_threshold,
        )
        return [
            Hit(
                str((point.payload or {}).get("key", point.id)),
                float(point.score),
                point.payload or {},
            )
            for point in response.points
        ]

    def all_keys(self) -> list[str]:
        """Every stored key, in a stable order (cached until the next add)."""
        if self._keys is None:
            keys: list[str] = []
            offset: Any = None
            while True:
                records, offset = self.client.scroll(
                    self.collection, limit=1024, offset=offset, with_payload=["key"]
                )
                keys.extend(str((r.payload or {}).get("key", r.id)) for r in records)
                if offset is None:
                    break
            self._keys = sorted(keys)
        return self._keys

    def get(self, keys: Sequence[str]) -> list[Hit]:
        records = self.client.retrieve(
            self.collection, ids=[point_id(k) for k in keys], with_payload=True
        )
        return [Hit(str((r.payload or {}).get("key", r.id)), 1.0, r.payload or {}) for r in records]
