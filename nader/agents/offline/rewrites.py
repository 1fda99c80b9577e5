"""The offline designer's library of graph rewrites.

Each :class:`Rewrite` knows the words that call for it, where it fits in a block
(:meth:`Rewrite.sites`) and how to apply it at a site on an :class:`EditableGraph`. Layers it
inserts are sized from the block's own symbolic channel counts (:class:`ShapeContext`), so a
rewrite works on cells (``C``), two-input cells and stem/downsample blocks (``dim``) alike. The
designer verifies every result; a site where a rewrite does not fit simply fails verification
and is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

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


# ----------------------------------------------------------------------------------- library


def _single(
    name: str, finder: Callable[[ShapeContext], list[int]], variants: int = 1
) -> SiteFinder:
    return lambda ctx: _variants(finder(ctx), name, variants)


def _bns(ctx: ShapeContext) -> list[int]:
    return [n for n in ctx.graph.ids_with_op("BN") if ctx.is_feature_map(n)]


def _k3(ctx: ShapeContext) -> list[int]:
    return _convs(ctx, min_kernel=3)


REWRITES: tuple[Rewrite, ...] = (
    Rewrite(
        "squeeze_excitation",
        "SE",
        "squeeze and excitation channel attention: global average pooling, bottleneck 1x1 convolutions, sigmoid gate rescales channels",
        (
            "squeeze",
            "excitation",
            "se block",
            "channel attention",
            "channel-wise",
            "recalibrat",
            "channel weights",
            "global context",
        ),
        _single("squeeze_excitation", _attention_sites, 2),
        _se_apply,
    ),
    Rewrite(
        "channel_gate",
        "Gate",
        "lightweight channel gating: pooled descriptor, one 1x1 convolution, sigmoid gate on channels (efficient channel attention)",
        (
            "gating",
            "gate",
            "efficient channel attention",
            "eca",
            "lightweight attention",
            "channel interaction",
        ),
        _single("channel_gate", _attention_sites, 2),
        _channel_gate_apply,
    ),
    Rewrite(
        "cbam_channel_attention",
        "CA",
        "channel attention from both average and max pooled descriptors summed before a sigmoid",
        (
            "max pooling",
            "average and max",
            "avg and max",
            "dual pooling",
            "channel attention module",
        ),
        _single("cbam_channel_attention", _attention_sites),
        _cbam_channel_apply,
    ),
    Rewrite(
        "spatial_attention",
        "SA",
        "spatial attention: mean and max over channels, convolution, sigmoid map weights every position",
        (
            "spatial attention",
            "attention map",
            "spatial weights",
            "where to focus",
            "saliency",
            "spatial relationships",
            "spatial features",
        ),
        _single("spatial_attention", _attention_sites, 2),
        _spatial_apply,
    ),
    Rewrite(
        "cbam",
        "CBAM",
        "convolutional block attention module: channel attention followed by spatial attention",
        (
            "cbam",
            "channel and spatial",
            "spatial and channel",
            "dual attention",
            "attention module",
            "attention mechanism",
        ),
        _single("cbam", _attention_sites),
        _cbam_apply,
    ),
    Rewrite(
        "self_attention",
        "NL",
        "non-local self-attention: every position attends to all positions, result added back residually",
        (
            "self-attention",
            "self attention",
            "non-local",
            "transformer",
            "long-range",
            "global dependencies",
            "query",
            "key",
            "token",
        ),
        _single("self_attention", _attention_sites),
        _self_attention_apply,
    ),
    Rewrite(
        "residual_connection",
        "Res",
        "residual skip connection adds an earlier feature map to a later one so layers learn a residual",
        ("residual", "skip connection", "shortcut", "identity mapping", "skip", "gradient flow"),
        _residual_sites,
        _residual_apply,
    ),
    Rewrite(
        "dense_connection",
        "Dense",
        "dense connection concatenates earlier feature maps with later ones for feature reuse",
        (
            "dense",
            "densenet",
            "feature reuse",
            "concatenat",
            "aggregate features",
            "multi-level features",
            "hierarchical",
        ),
        _dense_sites,
        _dense_apply,
    ),
    Rewrite(
        "pooling_branch",
        "Pool",
        "parallel pooling branch summed into the block output for smoothed context",
        (
            "pooling",
            "pool",
            "context aggregation",
            "smooth",
            "parallel branch",
            "multi-scale context",
        ),
        _pool_branch_sites,
        _pool_branch_apply,
    ),
    Rewrite(
        "stochastic_depth",
        "Drop",
        "stochastic depth drop path on the residual branch regularizes training",
        ("stochastic depth", "drop path", "droppath", "dropout", "regulariz", "overfitting"),
        _droppath_sites,
        _droppath_apply,
    ),
    Rewrite(
        "bottleneck",
        "Btl",
        "bottleneck: 1x1 convolution reduces channels, 3x3 convolution, 1x1 convolution expands back",
        (
            "bottleneck",
            "reduce dimensionality",
            "reduce channels",
            "compress",
            "1x1 convolution",
            "computational cost",
        ),
        _single("bottleneck", _k3, 2),
        _bottleneck_apply,
    ),
    Rewrite(
        "inverted_bottleneck",
        "IBN",
        "inverted bottleneck: 1x1 expansion, depthwise 3x3 convolution, 1x1 projection as in MobileNetV2",
        ("inverted bottleneck", "inverted residual", "expansion", "mobilenet", "expand", "mbconv"),
        _single("inverted_bottleneck", _k3, 2),
        _inverted_bottleneck_apply,
    ),
    Rewrite(
        "depthwise_separable",
        "DW",
        "depthwise separable convolution: depthwise spatial filter then 1x1 pointwise convolution",
        ("depthwise", "separable", "pointwise", "lightweight", "efficient", "mobile"),
        _single("depthwise_separable", _k3),
        _depthwise_separable_apply,
    ),
    Rewrite(
        "grouped_convolution",
        "Grp",
        "grouped convolution splits channels into groups filtered separately (cardinality, ResNeXt)",
        ("group", "grouped", "cardinality", "resnext", "split channels", "groups"),
        _single("grouped_convolution", _k3, 2),
        _grouped_apply,
    ),
    Rewrite(
        "inception_branches",
        "Incep",
        "multi-branch inception module: parallel 1x1, 3x3, 5x5 convolutions and pooling concatenated",
        (
            "inception",
            "multi-branch",
            "multi branch",
            "parallel",
            "multi-scale",
            "multiscale",
            "different kernel sizes",
            "multiple scales",
        ),
        _single("inception_branches", _k3),
        _inception_apply,
    ),
    Rewrite(
        "mixed_kernel",
        "Mix",
        "mixed kernel sizes: channels split between 3x3 and 5x5 convolutions concatenated",
        ("mixed", "mixconv", "kernel sizes", "heterogeneous", "split"),
        _single("mixed_kernel", _k3),
        _mixed_kernel_apply,
    ),
    Rewrite(
        "dilated_convolution",
        "Dil",
        "dilated atrous convolution enlarges the receptive field without more parameters",
        ("dilat", "atrous", "receptive field", "broader context", "hole"),
        _single("dilated_convolution", _k3, 2),
        _dilation_apply,
    ),
    Rewrite(
        "larger_kernel",
        "K",
        "larger convolution kernel 5x5 or 7x7 captures wider spatial context",
        (
            "large kernel",
            "larger kernel",
            "kernel size",
            "7x7",
            "5x5",
            "wider context",
            "increase kernel",
        ),
        _single("larger_kernel", _k3, 2),
        _kernel_apply,
    ),
    Rewrite(
        "widen",
        "Wide",
        "widen the intermediate layer: more channels between the convolutions raise capacity",
        ("widen", "wider", "width", "more channels", "capacity", "expand channels"),
        _widen_sites,
        _widen_apply,
    ),
    Rewrite(
        "deepen",
        "Deep",
        "deepen the block: add another convolution, normalization and activation layer",
        ("deeper", "deepen", "depth", "additional layer", "more layers", "stack", "cascade"),
        _deepen_sites,
        _deepen_apply,
    ),
    Rewrite(
        "activation_swap",
        "GELU",
        "replace ReLU activation with smooth GELU activation",
        ("activation", "gelu", "smooth", "nonlinearity", "non-linearity", "relu"),
        _activation_sites,
        _activation_apply,
    ),
    Rewrite(
        "layer_norm",
        "LN",
        "layer normalization in channels-last layout instead of batch normalization, as in ConvNeXt",
        (
            "layer normalization",
            "layernorm",
            "layer norm",
            "normalization",
            "convnext",
            "batch statistics",
        ),
        _single("layer_norm", _bns),
        _layer_norm_apply,
    ),
    Rewrite(
        "norm_activation_order",
        "Pre",
        "reorder normalization and activation: activation before batch normalization (pre-activation ordering)",
        ("pre-activation", "preactivation", "order", "reorder", "before normalization", "ordering"),
        _reorder_sites,
        _reorder_apply,
    ),
)

REWRITES_BY_NAME: dict[str, Rewrite] = {rewrite.name: rewrite for rewrite in REWRITES}
