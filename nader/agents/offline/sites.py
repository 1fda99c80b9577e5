"""What a rewrite is (:class:`Rewrite`, :class:`Site`) and the helpers that find where one fits.

Used by the rewrite library (:mod:`nader.agents.offline.rewrites`) and the edits it applies
(:mod:`nader.agents.offline.edits`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nader.agents.offline.graph_edit import EditableGraph, ShapeContext

ACTIVATIONS = ("ReLU", "GELU")


@dataclass(frozen=True)
class Site:
    """Where (node ids) and how (variant) a rewrite applies."""

    rewrite: str
    nodes: tuple[int, ...]
    variant: int = 0

    def describe(self) -> str:
        where = ",".join(str(n) for n in self.nodes)
        return f"at node {where}" + (f", variant {self.variant}" if self.variant else "")


SiteFinder = Callable[[ShapeContext], list[Site]]
Applier = Callable[[EditableGraph, ShapeContext, Site], None]


@dataclass(frozen=True)
class Rewrite:
    name: str
    tag: str
    description: str
    keywords: tuple[str, ...]
    find: SiteFinder
    apply_in_place: Applier

    def sites(self, ctx: ShapeContext) -> list[Site]:
        return self.find(ctx)

    def apply(self, graph: EditableGraph, ctx: ShapeContext, site: Site) -> EditableGraph | None:
        """A rewritten copy, or None when the site lacks what the rewrite needs."""
        result = graph.copy()
        try:
            self.apply_in_place(result, ctx, site)
        except _DoesNotFit:
            return None
        return result


class _DoesNotFit(Exception):
    pass


def _need(value: str | None) -> str:
    if value is None:
        raise _DoesNotFit
    return value


def _int_param(graph: EditableGraph, node_id: int, name: str, default: int) -> int | None:
    text = graph.nodes[node_id].params.get(name)
    if text is None:
        return default
    return int(text) if text.lstrip("-").isdigit() else None


# ------------------------------------------------------------------------------- site finders


def _attention_sites(ctx: ShapeContext) -> list[int]:
    """Ends of conv units: BN nodes, and convolutions not followed by BN."""
    graph = ctx.graph
    sites = []
    for node_id in sorted(graph.nodes):
        op = graph.op(node_id)
        if not ctx.is_feature_map(node_id):
            continue
        if op == "BN" or (
            op == "Conv2d" and all(graph.op(c) != "BN" for c in graph.consumers(node_id))
        ):
            sites.append(node_id)
    return sites


def _convs(ctx: ShapeContext, *, min_kernel: int = 1, plain: bool = True) -> list[int]:
    graph = ctx.graph
    result = []
    for node_id in graph.ids_with_op("Conv2d"):
        kernel = _int_param(graph, node_id, "kernel_size", 0)
        groups = _int_param(graph, node_id, "groups", 1)
        if kernel is None or kernel < min_kernel:
            continue
        if plain and groups != 1:
            continue
        if not graph.inputs[node_id] or not ctx.is_feature_map(graph.inputs[node_id][0]):
            continue
        if not ctx.is_feature_map(node_id):
            continue
        result.append(node_id)
    return result


def _variants(nodes: Sequence[int], name: str, count: int) -> list[Site]:
    return [Site(name, (n,), v) for n in nodes for v in range(count)]
