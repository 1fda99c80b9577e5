"""The offline designer's answers to the non-design tasks, from plain text heuristics.

Relevance by counting block-design keywords in the abstract; extraction by picking the method
sentences richest in such keywords; tips from the verifier's error codes. Crude next to a real
model, but deterministic, instant and honest about what it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

DESIGN_KEYWORDS: tuple[str, ...] = (
    "convolution",
    "convolutional",
    "attention",
    "residual",
    "backbone",
    "architecture",
    "block",
    "layer",
    "module",
    "normalization",
    "activation",
    "kernel",
    "depthwise",
    "skip connection",
    "receptive field",
    "channel",
    "bottleneck",
    "transformer",
    "feature map",
    "pooling",
    "branch",
    "dilated",
    "network design",
    "shortcut",
    "gating",
    "fusion",
)

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def design_keyword_hits(text: str) -> list[str]:
    lowered = text.lower()
    return [k for k in DESIGN_KEYWORDS if k in lowered]


def judge_relevance(title: str, abstract: str) -> tuple[bool, list[str]]:
    hits = design_keyword_hits(f"{title} {abstract}")
    return len(hits) >= 2, hits


def pick_inspiring_sentences(method: str, limit: int) -> list[str]:
    """Up to ``limit`` method sentences with the most design keywords, in reading order."""
    sentences = [" ".join(s.split()) for s in _SENTENCE.split(method)]
    scored = [
        (len(design_keyword_hits(s)), index, s)
        for index, s in enumerate(sentences)
        if 6 <= len(s.split()) <= 80
    ]
    chosen = sorted((item for item in scored if item[0] > 0), key=lambda t: (-t[0], t[1]))[:limit]
    return [s for _, _, s in sorted(chosen, key=lambda t: t[1])]


TIP_OF_CATEGORY: dict[str, str] = {
    "format": "Write every block as a ##Name## header, N:Op(...) node lines and A->B edge lines only, inside one ``` fence.",
    "unknown operator": "Use only the listed operators; build anything else (e.g. ROIAlign, Conv1d, Dropout) from listed ones such as Conv2d, pooling, reshape and Mul.",
    "parameter": "Give each operator exactly its listed parameters (Conv2d needs out_channels and kernel_size; pooling needs kernel_size and stride) with positive integer sizes.",
    "symbol": "Size layers with C (cells) or dim (stem and downsample); only reshape, repeat and permute may use B, H or W.",
    "invalid connection": "Connect every node on a path from input to output: each operator gets exactly its number of inputs, output has one input, and no branch is left dangling.",
    "shape": "Check shapes before Add, Mul and concat: inputs must match except on the concatenated axis, groups must divide the channels, and a cell must end with C channels at the input's H and W.",
    "resource": "Keep tensors small: reduce channels (e.g. C/4) before large matrix products or wide layers.",
    "duplicate": "Make a change that alters the graph, not just node numbering or names; an isomorphic block is a known design.",
    "general": "Insert new layers where the channel count is known (after a convolution or BN) and keep the block's output shape.",
}


def tips_for_codes(categories: Sequence[str], change: str, kind: str, suggestion: str) -> list[str]:
    tips = []
    for category in dict.fromkeys(categories):
        tip = TIP_OF_CATEGORY.get(category)
        if tip:
            tips.append(tip)
    if kind != "failure" and change:
        idea = " ".join(suggestion.split()[:12])
        tips.append(f"For a suggestion like '{idea}...', the change '{change}' passed the checker.")
    return tips[:3] or [TIP_OF_CATEGORY["general"]]
