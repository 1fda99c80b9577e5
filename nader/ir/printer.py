"""IR → canonical block text.

Nodes are renumbered: inputs first (``0:input``, or ``0:input1`` ``1:input2``), then the
output, then every other node in a topological order whose ties are broken by the canonical
labelling, so isomorphic blocks print identically. Parameters are printed normalized, defaults
omitted, in the operator's declared order. Edges are printed one source per line in input order,
which preserves the order of non-commuting inputs. ``parse(print(b))`` is isomorphic to ``b``
and printing it again gives the same text.
"""

from __future__ import annotations

import heapq

from nader.ir.canonical import LabelledGraph, _format_value, canonical_labelling, graph_structure
from nader.ir.graph import Block, Network
from nader.ir.registry import OperatorRegistry
from nader.ir.structure import Structure


def _args_text(structure: Structure, node_id: int) -> str:
    spec = structure.specs[node_id]
    bound = structure.params.get(node_id)
    if bound is None:
        return ""
    model = bound.model
    defaults = {
        name: info.default
        for name, info in type(model).model_fields.items()
        if not info.is_required()
    }
    values = dict(bound.sizes + bound.others)
    if spec.varargs is not None:
        items = values.get(spec.varargs, ())
        return "(" + ",".join(_format_value(v) for v in items) + ")"
    parts = []
    for name in type(model).model_fields:
        value = values[name]
        default = defaults.get(name, ...)
        if default is not ... and _format_value(_coerce_default(default)) == _format_value(value):
            continue
        parts.append(f"{name}={_format_value(value)}")
    return "(" + ",".join(parts) + ")" if parts else ""


def _coerce_default(value: object) -> object:
    from nader.ir.expr import Const

    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return Const(value)


def print_structure(structure: Structure, name: str | None = None) -> str:
    graph, ids = LabelledGraph.from_structure(structure)
    ranks, _ = canonical_labelling(graph)
    rank_of = {node_id: ranks[i] for i, node_id in enumerate(ids)}
    first: list[int] = sorted(structure.input_ids, key=lambda n: structure.specs[n].name)
    if structure.output_id is not None:
        first.append(structure.output_id)
    numbering = {node_id: i for i, node_id in enumerate(first)}
    consumers: dict[int, list[int]] = {n: [] for n in ids}
    indegree = {n: len(set(structure.inputs[n])) for n in ids}
    for target in ids:
        for source in dict.fromkeys(structure.inputs[target]):
            consumers[source].append(target)
    heap = [(rank_of[n], n) for n in ids if indegree[n] == 0]
    heapq.heapify(heap)
    topo: list[int] = []
    while heap:
        _, current = heapq.heappop(heap)
        topo.append(current)
        for nxt in consumers[current]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(heap, (rank_of[nxt], nxt))
    for node_id in topo:
        if node_id not in numbering:
            numbering[node_id] = len(numbering)
    lines = [f"##{name or structure.block.name}##"]
    for node_id in sorted(numbering, key=numbering.__getitem__):
        spec = structure.specs[node_id]
        lines.append(f"{numbering[node_id]}:{spec.name}{_args_text(structure, node_id)}")
    edges: list[tuple[int, int, int]] = []
    for target in ids:
        sources = list(structure.inputs[target])
        if structure.specs[target].commutative:
            sources.sort(key=lambda s: numbering[s])
        for position, source in enumerate(sources):
            edges.append((numbering[target], position, numbering[source]))
    last = len(numbering)
    output_number = (
        numbering.get(structure.output_id, -1) if structure.output_id is not None else -1
    )
    edges.sort(key=lambda e: (last if e[0] == output_number else e[0], e[1]))
    lines.extend(f"{source}->{target}" for target, _, source in edges)
    return "\n".join(lines) + "\n"


def print_block(block: Block, registry: OperatorRegistry) -> str:
    """Canonical text of a structurally valid block (raises VerifyError otherwise).

    The text keeps the block's name; a role that came from the block's position in its file is
    kept only by :func:`print_network`, which prints every block in order.
    """
    return print_structure(graph_structure(block, registry))


def print_network(network: Network, registry: OperatorRegistry) -> str:
    """Canonical text of every block, in the file's order (so roles by position survive)."""
    return "".join(print_block(block, registry) for block in network.blocks)
