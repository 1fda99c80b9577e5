"""Small helpers on block text shared by the agents: splitting a network, naming, op diffs."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from nader.errors import NaderError
from nader.ir.graph import Block, Network, Role
from nader.ir.ops import OperatorRegistry
from nader.ir.parser import parse_network
from nader.ir.printer import print_block


@dataclass(frozen=True)
class NetworkParts:
    """A network file's cell, stem and downsample, as block text (stem/downsample optional)."""

    cell: str
    stem: str | None
    downsample: str | None
    cell_name: str


def block_text(block: Block, registry: OperatorRegistry) -> str:
    """Canonical text of a structurally sound block, or its raw lines when it has faults."""
    try:
        return print_block(block, registry)
    except NaderError:
        return _raw_text(block)


def _raw_text(block: Block) -> str:
    lines = [f"##{block.name}##"]
    lines += [f"{n.id}:{n.op}" for n in block.nodes]
    lines += [f"{','.join(str(s) for s in e.sources)}->{e.target}" for e in block.edges]
    return "\n".join(lines) + "\n"


def split_network(network_text: str, registry: OperatorRegistry) -> NetworkParts:
    """The parts of a network file, each as canonical block text (raises on syntax errors).

    Canonical text omits default parameters, which keeps prompts short.
    """
    network: Network = parse_network(network_text)
    cell = network.by_role(Role.CELL) or network.blocks[0]

    def text_of(block: Block | None) -> str | None:
        return None if block is None else block_text(block, registry)

    return NetworkParts(
        text_of(cell) or "",
        text_of(network.by_role(Role.STEM)),
        text_of(network.by_role(Role.DOWNSAMPLE)),
        cell.name,
    )


def layer_counts(text: str, registry: OperatorRegistry) -> Counter[str]:
    """How often each layer (operator with its normalized parameters) occurs in the first block."""
    counts: Counter[str] = Counter()
    try:
        block = parse_network(text).blocks[0]
        lines = block_text(block, registry).splitlines()[1:]
    except (NaderError, IndexError):
        return counts
    for line in lines:
        if ":" in line and "->" not in line:
            layer = line.split(":", 1)[1]
            if layer not in ("input", "input1", "input2", "output"):
                counts[layer] += 1
    return counts


def describe_change(parent_text: str, child_text: str, registry: OperatorRegistry) -> str:
    """Layer difference of two cells, e.g. ``+1 Mul, +1 Sigmoid, -1 BN``."""
    before, after = layer_counts(parent_text, registry), layer_counts(child_text, registry)
    parts = [f"+{after[k] - before[k]} {k}" for k in sorted(after) if after[k] > before[k]]
    parts += [f"-{before[k] - after[k]} {k}" for k in sorted(before) if before[k] > after[k]]
    return ", ".join(parts) if parts else "same layers, rewired"


def safe_cell_name(name: str, fallback: str) -> str:
    """A header name that reads as a cell: no 'stem'/'downsample' inside, identifier-like."""
    cleaned = re.sub(r"[^A-Za-z0-9_\-]", "_", name).strip("_") or fallback
    if re.search("stem|downsample", cleaned, re.I):
        cleaned = re.sub("stem|downsample", "", cleaned, flags=re.I).strip("_") or fallback
    return cleaned
