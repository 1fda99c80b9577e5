"""The edits the offline designer's rewrites apply: attention, connections, convolutions,
normalisation and activation, each sized from the block's own symbolic channels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

from nader.agents.offline.graph_edit import EditableGraph, ShapeContext
from nader.agents.offline.sites import (
    ACTIVATIONS,
    Site,
    _convs,
    _DoesNotFit,
    _int_param,
    _need,
)

# --------------------------------------------------------------------------------- attention


def _gate_with(graph: EditableGraph, node: int, gate: int) -> int:
    """``node * gate``; every other consumer of ``node`` reads the product."""
    mul = graph.add("Mul", node, gate)
    graph.replace_uses(node, mul, keep={mul} | graph.ancestors(gate) | {gate})
    return mul


def _se_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    node = site.nodes[0]
    reduction = (4, 16)[site.variant]
    channels = _need(ctx.channel_text(node))
    squeezed = _need(ctx.channel_text(node, Fraction(1, reduction)))
    pooled = graph.add("AdaptiveAvgPool2d", node, output_size=1)
    fc1 = graph.add("Conv2d", pooled, out_channels=squeezed, kernel_size=1)
    act = graph.add("ReLU", fc1)
    fc2 = graph.add("Conv2d", act, out_channels=channels, kernel_size=1)
    gate = graph.add("Sigmoid", fc2)
    _gate_with(graph, node, gate)


def _channel_gate_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    node = site.nodes[0]
    channels = _need(ctx.channel_text(node))
    pool_op = ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d")[site.variant]
    pooled = graph.add(pool_op, node, output_size=1)
    fc = graph.add("Conv2d", pooled, out_channels=channels, kernel_size=1)
    gate = graph.add("Sigmoid", fc)
    _gate_with(graph, node, gate)


def _channel_attention(graph: EditableGraph, ctx: ShapeContext, node: int) -> int:
    channels = _need(ctx.channel_text(node))
    squeezed = _need(ctx.channel_text(node, Fraction(1, 4)))
    branches = []
    for pool_op in ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d"):
        pooled = graph.add(pool_op, node, output_size=1)
        fc1 = graph.add("Conv2d", pooled, out_channels=squeezed, kernel_size=1)
        act = graph.add("ReLU", fc1)
        branches.append(graph.add("Conv2d", act, out_channels=channels, kernel_size=1))
    summed = graph.add("Add", *branches)
    gate = graph.add("Sigmoid", summed)
    return _gate_with(graph, node, gate)


def _spatial_attention(graph: EditableGraph, node: int, kernel: int) -> int:
    mean = graph.add("mean", node, dim=1, keepdim=True)
    peak = graph.add("max", node, dim=1, keepdim=True)
    both = graph.add("concat", mean, peak, dim=1)
    conv = graph.add("Conv2d", both, out_channels=1, kernel_size=kernel)
    gate = graph.add("Sigmoid", conv)
    return _gate_with(graph, node, gate)


def _cbam_channel_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    _channel_attention(graph, ctx, site.nodes[0])


def _spatial_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    _spatial_attention(graph, site.nodes[0], (7, 3)[site.variant])


def _cbam_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    gated = _channel_attention(graph, ctx, site.nodes[0])
    _spatial_attention(graph, gated, 7)


def _self_attention_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    node = site.nodes[0]
    if not ctx.same_spatial_as_input(node):
        raise _DoesNotFit
    channels = _need(ctx.channel_text(node))
    half = _need(ctx.channel_text(node, Fraction(1, 2)))

    def project(transpose: bool) -> int:
        conv = graph.add("Conv2d", node, out_channels=half, kernel_size=1)
        flat = graph.add_positional("reshape", conv, "B", half, "H*W")
        return graph.add_positional("permute", flat, "0", "2", "1") if transpose else flat

    query, key, value = project(True), project(False), project(True)
    scores = graph.add("multiply", query, key)
    weights = graph.add("softmax", scores, dim=-1)
    mixed = graph.add("multiply", weights, value)
    back = graph.add_positional("permute", mixed, "0", "2", "1")
    image = graph.add_positional("reshape", back, "B", half, "H", "W")
    out = graph.add("Conv2d", image, out_channels=channels, kernel_size=1)
    norm = graph.add("BN", out)
    total = graph.add("Add", node, norm)
    graph.replace_uses(node, total, keep=graph.ancestors(total) | {total})


# ------------------------------------------------------------------------------- connections


def _residual_sites(ctx: ShapeContext) -> list[Site]:
    graph = ctx.graph
    starts = [n for n in graph.input_ids if ctx.is_feature_map(n)]
    starts += [n for n in sorted(graph.nodes) if graph.op(n) in ACTIVATIONS + ("Add",)]
    sites = []
    for end in sorted(graph.nodes):
        if graph.op(end) not in ("BN",) + ACTIVATIONS or not ctx.is_feature_map(end):
            continue
        if any(graph.op(c) == "BN" for c in graph.consumers(end)):
            continue
        above = graph.ancestors(end)
        for start in starts:
            if start not in above or not ctx.same_shape(start, end):
                continue
            between = above - graph.ancestors(start) - {start}
            if not any(graph.op(n) == "Conv2d" for n in between | {end}):
                continue
            # a skip from ``start`` already joins this path: another one would duplicate it
            joined = any(graph.op(n) == "Add" and start in graph.inputs[n] for n in between | {end})
            joined = joined or any(
                graph.op(c) == "Add" and start in graph.inputs[c] for c in graph.consumers(end)
            )
            if not joined:
                sites.append(Site("residual_connection", (start, end)))
    return sites


def _residual_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    start, end = site.nodes
    total = graph.add("Add", end, start)
    graph.replace_uses(end, total, keep={total})


def _dense_sites(ctx: ShapeContext) -> list[Site]:
    graph = ctx.graph
    sites = []
    for conv in _convs(ctx, plain=False):
        source = graph.inputs[conv][0]
        if source in graph.input_ids:
            continue
        for start in graph.input_ids:
            if (
                ctx.is_feature_map(start)
                and ctx.dims.get(start)
                and ctx.dims[start][0][2:] == ctx.dims[source][0][2:]
            ):
                groups = _int_param(graph, conv, "groups", 1)
                if groups == 1:
                    sites.append(Site("dense_connection", (start, conv)))
    return sites


def _dense_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    start, conv = site.nodes
    source = graph.inputs[conv][0]
    if not (ctx.same_spatial_as_input(source) or ctx.dims[source][0][2:] == ctx.dims[start][0][2:]):
        raise _DoesNotFit
    joined = graph.add("concat", start, source, dim=1)
    graph.inputs[conv] = [joined]


def _pool_branch_sites(ctx: ShapeContext) -> list[Site]:
    graph = ctx.graph
    sites: list[Site] = []
    for add in graph.ids_with_op("Add"):
        for source in graph.inputs[add]:
            identity_like = source in graph.input_ids or graph.op(source) in ACTIVATIONS
            if identity_like and ctx.same_shape(source, add):
                sites.extend(Site("pooling_branch", (add, source), v) for v in range(2))
    if not sites:  # no Add to join: add one at the end of the block
        last = graph.inputs[graph.output_id][0] if graph.inputs[graph.output_id] else None
        for start in graph.input_ids:
            if last is not None and last != start and ctx.same_shape(start, last):
                sites.extend(Site("pooling_branch", (last, start), v + 2) for v in range(2))
    return sites


def _pool_branch_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    target, source = site.nodes
    pool_op = ("AvgPool2d", "MaxPool2d")[site.variant % 2]
    pooled = graph.add(pool_op, source, kernel_size=3, stride=1)
    if site.variant < 2:
        graph.inputs[target].append(pooled)
    else:
        total = graph.add("Add", target, pooled)
        graph.replace_uses(target, total, keep={total})


def _droppath_sites(ctx: ShapeContext) -> list[Site]:
    """The non-identity inputs of an Add that also has an identity-like input (a residual)."""
    graph = ctx.graph
    sites = []
    for add in graph.ids_with_op("Add"):
        sources = graph.inputs[add]
        for source in sources:
            if source in graph.input_ids or graph.op(source) == "DropPath":
                continue
            others = [s for s in sources if s != source]
            if any(s in graph.input_ids or graph.op(s) in ACTIVATIONS for s in others):
                sites.append(Site("stochastic_depth", (add, source)))
    return sites


def _droppath_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    add, source = site.nodes
    dropped = graph.add("DropPath", source, drop_prob=0.1)
    graph.replace_uses(source, dropped, only={add})


# ------------------------------------------------------------------------------ convolutions


def _conv_settings(graph: EditableGraph, conv: int) -> dict[str, str]:
    params = graph.nodes[conv].params
    return {k: v for k, v in params.items() if k in ("stride", "dilation")}


def _replace_conv(graph: EditableGraph, conv: int, build: Callable[[int], int]) -> None:
    source = graph.inputs[conv][0]
    last = build(source)
    graph.replace_with(conv, last)


def _conv_bn_relu(graph: EditableGraph, x: int, **conv: object) -> int:
    return graph.add("ReLU", graph.add("BN", graph.add("Conv2d", x, **conv)))


def _sandwich(
    graph: EditableGraph, ctx: ShapeContext, conv: int, inner: str, depthwise: bool
) -> None:
    """Replace ``conv`` by 1x1 (to ``inner``) -> kxk on ``inner`` -> 1x1 back to its width."""
    out = _need(ctx.channel_text(conv))
    kernel = graph.nodes[conv].params["kernel_size"]
    settings = _conv_settings(graph, conv)
    if depthwise:
        settings["groups"] = inner

    def build(x: int) -> int:
        x = _conv_bn_relu(graph, x, out_channels=inner, kernel_size=1)
        x = _conv_bn_relu(graph, x, out_channels=inner, kernel_size=kernel, **settings)
        return graph.add("Conv2d", x, out_channels=out, kernel_size=1)

    _replace_conv(graph, conv, build)


def _bottleneck_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    conv = site.nodes[0]
    narrow = ctx.channel_text(graph.inputs[conv][0], Fraction(1, (2, 4)[site.variant]))
    _sandwich(graph, ctx, conv, _need(narrow), depthwise=False)


def _inverted_bottleneck_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    conv = site.nodes[0]
    wide = ctx.channel_text(graph.inputs[conv][0], (2, 4)[site.variant])
    _sandwich(graph, ctx, conv, _need(wide), depthwise=True)


def _depthwise_separable_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    conv = site.nodes[0]
    cin = _need(ctx.channel_text(graph.inputs[conv][0]))
    out = _need(ctx.channel_text(conv))
    kernel = graph.nodes[conv].params["kernel_size"]
    settings = _conv_settings(graph, conv)

    def build(x: int) -> int:
        x = _conv_bn_relu(graph, x, out_channels=cin, kernel_size=kernel, groups=cin, **settings)
        return graph.add("Conv2d", x, out_channels=out, kernel_size=1)

    _replace_conv(graph, conv, build)


def _grouped_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    graph.nodes[site.nodes[0]].params["groups"] = str((4, 8)[site.variant])


def _branches(
    graph: EditableGraph, ctx: ShapeContext, conv: int, kernels: Sequence[int], with_pool: bool
) -> None:
    count = len(kernels) + (1 if with_pool else 0)
    part = _need(ctx.channel_text(conv, Fraction(1, count)))
    settings = _conv_settings(graph, conv)
    stride = settings.get("stride", "1")

    def build(x: int) -> int:
        outs = [
            graph.add("Conv2d", x, out_channels=part, kernel_size=k, **settings) for k in kernels
        ]
        if with_pool:
            pooled = graph.add("MaxPool2d", x, kernel_size=3, stride=stride)
            outs.append(graph.add("Conv2d", pooled, out_channels=part, kernel_size=1))
        return graph.add("concat", *outs, dim=1)

    _replace_conv(graph, conv, build)


def _inception_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    _branches(graph, ctx, site.nodes[0], (1, 3, 5), with_pool=True)


def _mixed_kernel_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    _branches(graph, ctx, site.nodes[0], (3, 5), with_pool=False)


def _dilation_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    params = graph.nodes[site.nodes[0]].params
    if params.get("dilation", "1") != "1":
        raise _DoesNotFit
    params["dilation"] = str((2, 3)[site.variant])


def _kernel_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    params = graph.nodes[site.nodes[0]].params
    new = str((5, 7)[site.variant])
    if params.get("kernel_size") == new:
        raise _DoesNotFit
    params["kernel_size"] = new


def _widen_sites(ctx: ShapeContext) -> list[Site]:
    graph = ctx.graph
    sites = []
    for conv in _convs(ctx):
        chain = conv
        while True:
            consumers = graph.consumers(chain)
            if len(consumers) != 1:
                break
            chain = consumers[0]
            if graph.op(chain) == "Conv2d":
                sites.append(Site("widen", (conv,)))
                break
            if graph.op(chain) not in ("BN",) + ACTIVATIONS:
                break
    return sites


def _widen_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    graph.nodes[site.nodes[0]].params["out_channels"] = _need(ctx.channel_text(site.nodes[0], 2))


def _deepen_sites(ctx: ShapeContext) -> list[Site]:
    graph = ctx.graph
    sites = []
    for conv in _convs(ctx, min_kernel=3):
        after = graph.consumers(conv)
        if len(after) == 1 and graph.op(after[0]) == "BN":
            act = graph.consumers(after[0])
            if len(act) == 1 and graph.op(act[0]) in ACTIVATIONS:
                sites.append(Site("deepen", (conv, act[0])))
    return sites


def _deepen_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    conv, act = site.nodes
    channels = _need(ctx.channel_text(act))
    kernel = graph.nodes[conv].params.get("kernel_size", "3")
    new_conv = graph.insert_after(act, "Conv2d", out_channels=channels, kernel_size=kernel)
    new_bn = graph.insert_after(new_conv, "BN")
    graph.insert_after(new_bn, graph.op(act))


# ------------------------------------------------------------------- normalization, activation


def _activation_sites(ctx: ShapeContext) -> list[Site]:
    relus = ctx.graph.ids_with_op("ReLU")
    sites = [Site("activation_swap", (n,)) for n in relus]
    if len(relus) > 1:
        sites.append(Site("activation_swap", tuple(relus), 1))
    return sites


def _activation_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    for node in site.nodes:
        graph.nodes[node].op = "GELU"


def _layer_norm_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    bn = site.nodes[0]
    source = graph.inputs[bn][0]
    last = graph.add_positional("permute", source, "0", "2", "3", "1")
    last = graph.add("LN", last)
    last = graph.add_positional("permute", last, "0", "3", "1", "2")
    graph.replace_with(bn, last)


def _reorder_sites(ctx: ShapeContext) -> list[Site]:
    graph = ctx.graph
    sites = []
    for bn in graph.ids_with_op("BN"):
        after = graph.consumers(bn)
        if len(after) == 1 and graph.op(after[0]) in ACTIVATIONS and graph.inputs[after[0]] == [bn]:
            sites.append(Site("norm_activation_order", (bn, after[0])))
    return sites


def _reorder_apply(graph: EditableGraph, ctx: ShapeContext, site: Site) -> None:
    bn, act = site.nodes
    source = graph.inputs[bn][0]
    graph.inputs[act] = [source]
    graph.inputs[bn] = [act]
    graph.replace_uses(act, bn, keep={bn})
