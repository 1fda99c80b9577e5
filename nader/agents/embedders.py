"""Text embedders for the knowledge and experience pools (registered as plugins).

- ``hashing`` (default): feature hashing of word uni- and bi-grams into a fixed number of signed
  buckets, sub-linear term weights, L2-normalised. No download, no model, and the same vector in
  every process — buckets come from BLAKE2b, never from Python's salted ``hash()``.
- ``sentence-transformers``: a local model folder (``model_path``); the package is imported only
  when this embedder is built, with an install hint if it is missing.
- ``openai``: the embeddings endpoint of any OpenAI-compatible server (``base_url``), through the
  official SDK.

A factory takes the embedder options (a mapping, an object with attributes, or ``None``) and
returns an object with ``dimension``, ``identity`` and ``embed(texts) -> list[list[float]]``.
``identity`` names the vector space: pools keep one collection per identity, so vectors from
different embedders are never compared.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from nader.errors import ConfigError

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "with",
        "which",
        "while",
        "we",
        "our",
        "their",
        "can",
        "using",
        "use",
        "used",
        "via",
    ]
)


@runtime_checkable
class Embedder(Protocol):
    identity: str

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def option(config: Any, name: str, default: Any = None) -> Any:
    """Read ``name`` from a mapping, an object with attributes, or ``None``."""
    if config is None:
        return default
    if isinstance(config, Mapping):
        return config.get(name, default)
    return getattr(config, name, default)


def words(text: str) -> list[str]:
    """Lower-case word tokens without stopwords (shared with the offline designer's matching)."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


class HashingEmbedder:
    """Deterministic feature-hashing embedder: no model, no download, stable across processes."""

    def __init__(self, dimension: int = 512, bigram_weight: float = 0.5) -> None:
        if dimension < 8:
            raise ConfigError(f"hashing embedder dimension must be at least 8, got {dimension}")
        self._dimension = dimension
        self.bigram_weight = bigram_weight
        self.identity = f"hashing-{dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self._dimension, (1.0 if value >> 63 else -1.0)

    def embed_one(self, text: str) -> list[float]:
        tokens = words(text)
        counts: dict[str, float] = {}
        for token in tokens:
            counts[token] = counts.get(token, 0.0) + 1.0
        for left, right in zip(tokens, tokens[1:], strict=False):
            key = f"{left} {right}"
            counts[key] = counts.get(key, 0.0) + self.bigram_weight
        vector = [0.0] * self._dimension
        for feature, count in counts.items():
            index, sign = self._bucket(feature)
            vector[index] += sign * (1.0 + math.log(count)) if count >= 1 else sign * count
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:
            return vector
        return [v / norm for v in vector]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.embed_one(text) for text in texts]


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder (no download at run time)."""

    def __init__(self, model_path: str, device: str = "cpu", batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as err:
            raise ConfigError(
                "the 'sentence-transformers' embedder needs the sentence-transformers package: "
                "pip install sentence-transformers (and a model folder given as model_path)"
            ) from err
        if not os.path.isdir(model_path):
            raise ConfigError(f"sentence-transformers model_path {model_path!r} is not a folder")
        self._model = SentenceTransformer(model_path, device=device)
        self.batch_size = batch_size
        get_dim = self._model.get_sentence_embedding_dimension
        self._dimension = int(get_dim())
        self.identity = f"st-{os.path.basename(os.path.normpath(model_path))}-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True
        )
        return [[float(x) for x in row] for row in vectors]


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible ``/v1/embeddings`` endpoint via the openai SDK."""

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        dimension: int | None = None,
        batch_size: int = 256,
        timeout_s: float = 60.0,
    ) -> None:
        from openai import OpenAI

        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ConfigError(
                "the 'openai' embedder needs an API key: set OPENAI_API_KEY or embedder_options.api_key"
            )
        self._client = OpenAI(api_key=key, base_url=base_url, timeout=timeout_s, max_retries=2)
        self.model = model
        self.batch_size = batch_size
        self._requested_dimension = dimension
        self._dimension = dimension
        self.identity = f"openai-{model}" + (f"-{dimension}" if dimension else "")

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = len(self.embed(["dimension probe"])[0])
        return self._dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            extra: dict[str, Any] = {}
            if self._requested_dimension:
                extra["dimensions"] = self._requested_dimension
            response = self._client.embeddings.create(model=self.model, input=batch, **extra)
            rows = sorted(response.data, key=lambda item: item.index)
            vectors.extend([float(x) for x in row.embedding] for row in rows)
        if vectors and self._dimension is None:
            self._dimension = len(vectors[0])
        return vectors


# ---------------------------------------------------------------------------- plugin factories


def hashing_factory(config: Any = None) -> HashingEmbedder:
    return HashingEmbedder(
        dimension=int(option(config, "dimension", 512)),
        bigram_weight=float(option(config, "bigram_weight", 0.5)),
    )


def sentence_transformers_factory(config: Any = None) -> SentenceTransformerEmbedder:
    path = option(config, "model_path")
    if not path:
        raise ConfigError("the 'sentence-transformers' embedder needs embedder_options.model_path")
    return SentenceTransformerEmbedder(
        str(path),
        device=str(option(config, "device", "cpu")),
        batch_size=int(option(config, "batch_size", 64)),
    )


def openai_factory(config: Any = None) -> OpenAIEmbedder:
    dimension = option(config, "dimension")
    return OpenAIEmbedder(
        str(option(config, "model", "text-embedding-3-small")),
        base_url=option(config, "base_url"),
        api_key=option(config, "api_key"),
        dimension=int(dimension) if dimension else None,
        batch_size=int(option(config, "batch_size", 256)),
    )
