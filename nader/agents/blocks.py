"""Blocks as the agents handle them: a network's parts, naming, prompt text, op diffs.

Agents pass IR objects (:class:`~nader.ir.graph.Block`, :class:`~nader.ir.graph.Network`); text
is made from them only for prompts (:func:`block_text`) and files.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from nader.errors import NaderError
from nader.ir.graph import Block, Network, Role, is_boundary
from nader.ir.printer import print_block
from nader.ir.registry import OperatorRegistry


@dataclass(frozen=True)
class NetworkParts:
    """A network's cell, stem and downsample blocks (stem/downsample optional)."""

    cell: Block
    stem: Block | None
    downsample: Block | None

    @property
    def cell_name(self) -> str:
        return self.cell.name


def network_parts(network: Network) -> NetworkParts:
    """The parts of a parsed network, by role (the first block stands in for a missing cell)."""
    cell = network.by_role(Role.CELL) or network.blocks[0]
    return NetworkParts(cell, network.by_role(Role.STEM), network.by_role(Role.DOWNSAMPLE))


def assemble_network(cell: Block, stem: Block | None, downsample: Block | None) -> Network:
    """A network of the given blocks, named ``X``, ``X_stem`` and ``X_downsample`` after the
    cell so that their roles read from their names, in the file order cell, stem, downsample."""
    blocks = [replace(cell, index=0)]
    if stem is not None and downsample is not None:
        blocks.append(replace(stem, name=f"{cell.name}_stem", index=1))
        blocks.append(replace(downsample, name=f"{cell.name}_downsample", index=2))
    return Network(tuple(blocks))


def block_text(block: Block, registry: OperatorRegistry) -> str:
    """Canonical text of a structurally sound block (defaults omitted, which keeps prompts
    short), or its raw lines when it has faults."""
    try:
        return print_block(block, registry)
    except NaderError:
        return _raw_text(block)


def _raw_text(block: Block) -> str:
    lines = [f"##{block.name}##"]
    lines += [f"{n.id}:{n.op}" for n in block.nodes]
    lines += [f"{','.join(str(s) for s in e.sources)}->{e.target}" for e in block.edges]
    return "\n".join(lines) + "\n"


def layer_counts(block: Block, registry: OperatorRegistry) -> Counter[str]:
    """How often each layer (operator with its normalized parameters) occurs in ``block``."""
    counts: Counter[str] = Counter()
    ops = {node.id: node.op for node in block.nodes}
    for line in block_text(block, registry).splitlines()[1:]:
        if ":" in line and "->" not in line:
            node_id, layer = line.split(":", 1)
            op = ops.get(int(node_id)) if node_id.strip().isdigit() else None
            if op is None or not is_boundary(op):
                counts[layer] += 1
    return counts


def describe_change(parent: Block, child: Block, registry: OperatorRegistry) -> str:
    """Layer difference of two cells, e.g. ``+1 Mul, +1 Sigmoid, -1 BN``."""
    before, after = layer_counts(parent, registry), layer_counts(child, registry)
    parts = [f"+{after[k] - before[k]} {k}" for k in sorted(after) if after[k] > before[k]]
    parts += [f"-{before[k] - after[k]} {k}" for k in sorted(before) if before[k] > after[k]]
    return ", ".join(parts) if parts else "same layers, rewired"


def safe_cell_name(name: str, fallback: str) -> str:
    """A header name that reads as a cell: no 'stem'/'downsample' inside, identifier-like."""
    cleaned = re.sub(r"[^A-Za-z0-9_\-]", "_", name).strip("_") or fallback
    if re.search("stem|downsample", cleaned, re.I):
        cleaned = re.sub("stem|downsample", "", cleaned, flags=re.I).strip("_") or fallback
    return cleaned
