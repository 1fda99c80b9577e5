"""The knowledge pool: design inspirations, where they come from, and how to find them.

Sources: the Reader (papers), the authors' inspiration file (``[{"id", "paper_id",
"inspiration"}]``, 5,411 entries extracted from CVPR 2023 papers), the authors' hand-made
``manual_v1.json`` (``{"mutate"|"cross": {name: {"reason", "operation"}}}``), and a short built-in
list of expert suggestions used when the Reader is switched off (the paper's "w/o Reader"
ablation). Every inspiration has a stable key, so re-imports add nothing.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nader.agents.memory import Hit, PoolEntry, VectorPool
from nader.errors import ConfigError


@dataclass(frozen=True)
class Inspiration:
    """A short design idea, with where it came from."""

    key: str
    text: str
    source: str
    paper_id: str | None = None
    title: str | None = None

    def payload(self) -> dict[str, Any]:
        return {"source": self.source, "paper_id": self.paper_id, "title": self.title}

    @classmethod
    def from_hit(cls, hit: Hit) -> Inspiration:
        payload = hit.payload
        return cls(
            key=hit.key,
            text=str(payload.get("text", "")),
            source=str(payload.get("source", "")),
            paper_id=payload.get("paper_id"),
            title=payload.get("title"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "source": self.source,
            "paper_id": self.paper_id,
            "title": self.title,
        }


def text_key(source: str, text: str) -> str:
    """A stable key for an inspiration that has no id of its own."""
    digest = hashlib.sha1(" ".join(text.split()).lower().encode("utf-8")).hexdigest()[:16]
    return f"{source}:{digest}"


#: Suggestions a network designer would try first; the knowledge when the Reader is off.
EXPERT_SUGGESTIONS: tuple[tuple[str, str], ...] = (
    (
        "residual",
        "Add a residual (skip) connection around a sequence of layers so that the block learns a correction to its input and gradients flow easily.",
    ),
    (
        "squeeze-excitation",
        "Recalibrate channels with squeeze-and-excitation: global average pooling, a small bottleneck of 1x1 convolutions and a sigmoid gate that scales each channel.",
    ),
    (
        "spatial-attention",
        "Add spatial attention: pool across channels with mean and max, convolve the two maps and use a sigmoid gate to weight every position.",
    ),
    (
        "bottleneck",
        "Use a bottleneck: reduce channels with a 1x1 convolution, apply the 3x3 convolution on fewer channels, and expand back with a 1x1 convolution.",
    ),
    (
        "inverted-bottleneck",
        "Use an inverted bottleneck: expand channels with a 1x1 convolution, filter with a depthwise 3x3 convolution, and project back with a 1x1 convolution.",
    ),
    (
        "depthwise-separable",
        "Replace a standard convolution with a depthwise-separable one: a depthwise spatial convolution followed by a 1x1 pointwise convolution.",
    ),
    (
        "grouped-convolution",
        "Split a convolution into groups so that each group of channels is filtered separately, which cuts parameters and adds diversity.",
    ),
    (
        "multi-branch",
        "Process the features in parallel branches with different kernel sizes (1x1, 3x3, 5x5 and pooling) and concatenate them, as in Inception modules.",
    ),
    (
        "dilation",
        "Use dilated convolutions to enlarge the receptive field without adding parameters.",
    ),
    (
        "large-kernel",
        "Enlarge the convolution kernel (5x5 or 7x7) to capture wider spatial context.",
    ),
    ("activation", "Replace ReLU with a smooth activation such as GELU."),
    (
        "pre-activation",
        "Reorder normalization and activation, e.g. apply the activation before batch normalization, to ease optimization.",
    ),
    (
        "layer-norm",
        "Normalize channels with layer normalization in channels-last layout instead of batch normalization, as in ConvNeXt.",
    ),
    (
        "dense-connection",
        "Use dense connections: concatenate earlier feature maps with later ones so that each layer sees all previous features.",
    ),
    (
        "pooling-branch",
        "Add a parallel pooling branch whose output is summed with the main path, mixing smoothed context into the features.",
    ),
    ("stochastic-depth", "Regularize the residual branch with stochastic depth (drop path)."),
    (
        "self-attention",
        "Add a non-local self-attention branch that relates every position to every other position and adds the result to the features.",
    ),
    (
        "widen",
        "Widen the intermediate layer of the block (more channels between the two convolutions) to raise its capacity.",
    ),
)


def expert_inspirations() -> list[Inspiration]:
    return [Inspiration(f"expert:{name}", text, "expert") for name, text in EXPERT_SUGGESTIONS]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot read inspiration file {path}: {err}") from err


def load_inspiration_file(path: str | Path) -> list[Inspiration]:
    """Read the authors' inspiration list or their manual_v1.json (format told by shape)."""
    path = Path(path)
    data = _read_json(path)
    source = path.stem
    if isinstance(data, list):
        return _from_authors_list(data, source, path)
    if isinstance(data, dict):
        return _from_manual(data, source)
    raise ConfigError(f"{path}: expected a list of inspirations or a manual suggestions object")


def _from_authors_list(items: Sequence[Any], source: str, path: Path) -> list[Inspiration]:
    result = []
    for position, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("inspiration"), str):
            raise ConfigError(f"{path}: entry {position} has no 'inspiration' text")
        text = " ".join(item["inspiration"].split())
        if not text:
            continue
        ident = item.get("id", position)
        paper = item.get("paper_id")
        result.append(
            Inspiration(f"{source}:{ident}", text, source, None if paper is None else str(paper))
        )
    return result


def _from_manual(data: dict[str, Any], source: str) -> list[Inspiration]:
    result = []
    for group, entries in data.items():
        if not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                continue
            operation = " ".join(str(entry.get("operation", "")).split())
            reason = " ".join(str(entry.get("reason", "")).split())
            text = (
                f"{name.replace('_', ' ')}: {operation}"
                if operation
                else f"{name.replace('_', ' ')}: {reason}"
            )
            result.append(Inspiration(f"{source}:{group}:{name}", text, source, title=group))
    return result


class KnowledgePool:
    """Inspirations in a vector pool, searchable by meaning."""

    def __init__(self, pool: VectorPool) -> None:
        self.pool = pool

    def add(self, inspirations: Iterable[Inspiration]) -> int:
        entries = [PoolEntry(i.key, i.text, i.payload()) for i in inspirations]
        return self.pool.add(entries)

    def __len__(self) -> int:
        return self.pool.count()

    def search(
        self, query: str, k: int, exclude_keys: Sequence[str] = ()
    ) -> list[tuple[Inspiration, float]]:
        hits = self.pool.query(query, k=k, exclude_keys=exclude_keys)
        return [(Inspiration.from_hit(hit), hit.score) for hit in hits]

    def random(self, rng: random.Random, exclude_keys: Sequence[str] = ()) -> Inspiration | None:
        """A uniformly random inspiration not in ``exclude_keys`` (the Proposer-off ablation)."""
        excluded = set(exclude_keys)
        keys = [key for key in self.pool.all_keys() if key not in excluded]
        if not keys:
            return None
        hits = self.pool.get([rng.choice(keys)])
        return Inspiration.from_hit(hits[0]) if hits else None

    def get(self, key: str) -> Inspiration | None:
        hits = self.pool.get([key])
        return Inspiration.from_hit(hits[0]) if hits else None
