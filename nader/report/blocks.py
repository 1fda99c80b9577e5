"""Block drawings: a layered (Sugiyama) layout from grandalf, edges routed so none hides.

grandalf (a small, pure-Python, well-kept graph-drawing library) ranks the nodes, inserts a
dummy vertex in every layer a long edge crosses and orders each layer to reduce crossings. The
dummies are as wide as a small box, so a skip connection gets its own lane beside the chain.
Edges are then drawn here as curves that leave the source's bottom, run vertically only
through their own dummies' lanes, and turn only in the gaps between layers: no edge passes
under a node box (the report's browser test measures this in the rendered SVG).

Node labels keep the salient parameters (``Conv 3×3 s2 → dim``, ``BN``, ``Add``); the full
parameter list is the box's tooltip.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from nader.errors import NaderError
from nader.ir.graph import Block, is_boundary
from nader.report.html import esc

BOX_H = 28
LAYER_GAP = 34
COL_GAP = 18
DUMMY_W = 16
PAD = 12

_SHORT_OPS = {"Conv2d": "Conv", "AvgPool2d": "AvgPool", "MaxPool2d": "MaxPool"}


def _value(value: Any) -> str:
    """A parameter as the block format writes it (``C*2``, ``(1,3)``, ``True``)."""
    from nader.ir.canonical import _format_value
    from nader.ir.expr import Expr

    if isinstance(value, (Expr, tuple, bool, float)) or value is None:
        return _format_value(value)
    return str(value)


def short_label(op: str, params: Mapping[str, Any]) -> str:
    """``Conv 3×3 s2 → dim``, ``MaxPool 3×3 s2``, ``Linear → 10``, ``BN``; other operators show
    their name and at most two parameters."""
    if op in ("Conv2d", "AvgPool2d", "MaxPool2d"):
        kernel = _value(params.get("kernel_size", "?"))
        if kernel.startswith("("):
            size = "×".join(kernel.strip("()").split(","))
        else:
            size = f"{kernel}×{kernel}"
        parts = [_SHORT_OPS[op], size]
        stride = _value(params.get("stride", 1))
        if stride not in ("1", "(1,1)"):
            parts.append(f"s{stride}")
        if _value(params.get("dilation", 1)) not in ("1", "(1,1)"):
            parts.append(f"d{_value(params['dilation'])}")
        if _value(params.get("groups", 1)) != "1":
            parts.append(f"g{_value(params['groups'])}")
        label = " ".join(parts)
        if "out_channels" in params:
            label += f" → {_value(params['out_channels'])}"
        return label
    if op.startswith("Adaptive") and "output_size" in params:
        sides = _value(params["output_size"]).strip("()").split(",")
        return f"{op.removesuffix('2d')} → {'×'.join(sides if len(sides) > 1 else sides * 2)}"
    if op == "Linear" and "out_features" in params:
        return f"Linear → {_value(params['out_features'])}"
    if not params:
        return op
    shown = [f"{k}={_value(v)}" for k, v in list(params.items())[:2] if k != "bias"]
    label = f"{op} {' '.join(shown)}".strip()
    return label if len(label) <= 26 else label[:25] + "…"


@dataclass(frozen=True)
class DrawnNode:
    node_id: int
    label: str
    full: str
    boundary: bool
    #: a stable description of the node for diffs: its full label and its inputs' labels
    signature: tuple[str, tuple[str, ...]]


@dataclass
class BlockGraph:
    """One block ready to draw: nodes, ordered edges, and what the diff highlights."""

    name: str
    role: str
    nodes: dict[int, DrawnNode]
    edges: list[tuple[int, int]]


def block_graphs(text: str) -> list[BlockGraph] | str:
    """Parse ``text`` and analyse each block's structure; a message when it does not parse."""
    from nader.ir.builtin_ops import default_registry
    from nader.ir.canonical import node_label
    from nader.ir.parser import parse_network
    from nader.ir.structure import Limits, analyze_structure

    try:
        network = parse_network(text)
    except NaderError as err:
        return str(err)
    registry = default_registry()
    graphs = []
    for block in network.blocks:
        structure = analyze_structure(block, registry, block.role(), Limits())
        nodes: dict[int, DrawnNode] = {}
        full: dict[int, str] = {}
        for node_id in structure.order:
            spec = structure.specs.get(node_id)
            bound = structure.params.get(node_id)
            name = spec.name if spec else _raw_op(block, node_id)
            full[node_id] = node_label(name, bound)
        for node_id in structure.order:
            spec = structure.specs.get(node_id)
            bound = structure.params.get(node_id)
            name = spec.name if spec else _raw_op(block, node_id)
            params = dict(bound.normalized_items()) if bound is not None else {}
            inputs = tuple(sorted(full[s] for s in structure.inputs.get(node_id, ()) if s in full))
            nodes[node_id] = DrawnNode(
                node_id,
                short_label(name, params),
                full[node_id],
                is_boundary(name),
                (full[node_id], inputs),
            )
        edges = [
            (source, target)
            for target in structure.order
            for source in structure.inputs.get(target, ())
            if source in nodes
        ]
        graphs.append(BlockGraph(block.name, block.role().value, nodes, edges))
    return graphs


def _raw_op(block: Block, node_id: int) -> str:
    for node in block.nodes:
        if node.id == node_id:
            return str(node.op)
    return "?"


def changed_nodes(child: BlockGraph, parent: BlockGraph | None) -> set[int]:
    """Nodes of ``child`` with no counterpart in ``parent`` (same label, same input labels).

    A multiset match: two identical ReLUs in the parent cover two in the child, not three.
    """
    if parent is None:
        return set()
    pool = Counter(node.signature for node in parent.nodes.values())
    changed = set()
    for node_id in sorted(child.nodes):
        signature = child.nodes[node_id].signature
        if pool[signature] > 0:
            pool[signature] -= 1
        else:
            changed.add(node_id)
    return changed


def _box_width(node: DrawnNode) -> float:
    return max(44.0, 7.0 * len(node.label) + 18.0)


def layout(
    graph: BlockGraph,
) -> tuple[dict[int, tuple[float, float, float]], dict[tuple[int, int], list[tuple[float, float]]]]:
    """``node → (x_center, y_center, width)`` and ``edge → points`` (source, dummies, target)."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class _View:
        def __init__(self, w: float, h: float) -> None:
            self.w, self.h = w, h
            self.xy = (0.0, 0.0)

    class _EdgeView:
        def __init__(self) -> None:
            self.points: list[tuple[float, float]] = []

        def setpath(self, points: list[tuple[float, float]]) -> None:
            self.points = [(float(x), float(y)) for x, y in points]

    vertices = {node_id: Vertex(node_id) for node_id in graph.nodes}
    for node_id, vertex in vertices.items():
        vertex.view = _View(_box_width(graph.nodes[node_id]), BOX_H)
    edges = []
    for index, (source, target) in enumerate(graph.edges):
        edge = Edge(vertices[source], vertices[target], data=index)
        edge.view = _EdgeView()
        edges.append(edge)
    g = Graph(list(vertices.values()), edges)
    offset = 0.0
    for component in g.C:
        sugiyama = SugiyamaLayout(component)
        sugiyama.xspace, sugiyama.yspace = COL_GAP, LAYER_GAP
        sugiyama.dw, sugiyama.dh = DUMMY_W, BOX_H
        sugiyama.init_all()
        sugiyama.draw(3)
        members = [v for v in component.sV]
        left = min(v.view.xy[0] - v.view.w / 2 for v in members)
        for dummy in sugiyama.ctrls.values():
            for d in dummy.values():
                left = min(left, d.view.xy[0] - DUMMY_W / 2)
        shift = offset - left
        for v in members:
            v.view.xy = (v.view.xy[0] + shift, v.view.xy[1])
        right = max(v.view.xy[0] + v.view.w / 2 for v in members)
        for e in component.sE:
            e.view.points = [(x + shift, y) for x, y in e.view.points]
            right = max([right, *(x + DUMMY_W / 2 for x, _ in e.view.points)])
        offset = right + 3 * COL_GAP
    boxes = {node_id: (v.view.xy[0], v.view.xy[1], v.view.w) for node_id, v in vertices.items()}
    paths: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for edge in edges:
        source, target = graph.edges[edge.data]
        points = edge.view.points or [vertices[source].view.xy, vertices[target].view.xy]
        if points[0] != vertices[source].view.xy:  # grandalf reverses inverted edges
            points = points[::-1]
        paths[(source, target)] = points
    return boxes, paths


def edge_path(points: list[tuple[float, float]]) -> str:
    """SVG path through ``points`` (centres): leave the first box at its bottom, pass each
    dummy vertically, enter the last box at its top; turns happen between layers only."""
    half = BOX_H / 2
    x, y = points[0]
    d = [f"M{x:.1f},{y + half:.1f}"]
    cy = y + half
    for index, (nx, ny) in enumerate(points[1:], start=1):
        top = ny - half
        mid = (cy + top) / 2
        d.append(f"C{x:.1f},{mid:.1f} {nx:.1f},{mid:.1f} {nx:.1f},{top:.1f}")
        x, cy = nx, top
        if index < len(points) - 1:  # a dummy: straight down through its lane
            cy = ny + half
            d.append(f"L{x:.1f},{cy:.1f}")
    return " ".join(d)


def block_svg(
    graph: BlockGraph, highlight: AbstractSet[int] = frozenset(), marker_id: str = "arrow"
) -> str:
    """One block as inline SVG; ``highlight``ed nodes (changed from the parent) are orange.

    ``marker_id`` must be unique in the page: a marker referenced from another SVG inside a
    closed ``<details>`` is not rendered, and the arrowheads would vanish.
    """
    if not graph.nodes:
        return f"<p>{esc(graph.name)}: cannot draw (structural errors)</p>"
    boxes, paths = layout(graph)
    xs = [x - w / 2 for x, _, w in boxes.values()] + [x + w / 2 for x, _, w in boxes.values()]
    ys = [y for _, y, _ in boxes.values()]
    for points in paths.values():
        xs += [x - DUMMY_W for x, _ in points] + [x + DUMMY_W for x, _ in points]
    left, top = min(xs) - PAD, min(ys) - BOX_H / 2 - PAD
    width, height = max(xs) - left + PAD, max(ys) + BOX_H / 2 + PAD - top
    parts = [
        f'<svg class="block" data-block="{esc(graph.name)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="{left:.1f} {top:.1f} {width:.1f} {height:.1f}">',
        f'<defs><marker id="{marker_id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>',
    ]
    for (source, target), points in paths.items():
        parts.append(
            f'<path class="edge" data-source="{source}" data-target="{target}" d="{edge_path(points)}" '
            f'fill="none" stroke="#64748b" stroke-width="1.4" marker-end="url(#{marker_id})"/>'
        )
    for node_id, (x, y, w) in boxes.items():
        node = graph.nodes[node_id]
        changed = node_id in highlight
        fill = "#ffedd5" if changed else ("#e8f0fe" if node.boundary else "#fff")
        stroke = "#ea580c" if changed else "#94a3b8"
        parts.append(
            f'<g class="block-node{" changed" if changed else ""}" data-node="{node_id}">'
            f"<title>{node_id}: {esc(node.full)}</title>"
            f'<rect x="{x - w / 2:.1f}" y="{y - BOX_H / 2:.1f}" width="{w:.1f}" height="{BOX_H}" rx="5" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{2 if changed else 1}"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="12" text-anchor="middle">{esc(node.label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
