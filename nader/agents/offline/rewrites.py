"""The offline designer's library of graph rewrites.

Each :class:`Rewrite` knows the words that call for it, where it fits in a block
(:meth:`Rewrite.sites`) and how to apply it at a site on an :class:`EditableGraph`. Layers it
inserts are sized from the block's own symbolic channel counts (:class:`ShapeContext`), so a
rewrite works on cells (``C``), two-input cells and stem/downsample blocks (``dim``) alike. The
designer verifies every result; a site where a rewrite does not fit simply fails verification
and is skipped.
"""

from __future__ import annotations

from collections.abc import Callable

from nader.agents.offline.edits import (
    _activation_apply,
    _activation_sites,
    _bottleneck_apply,
    _cbam_apply,
    _cbam_channel_apply,
    _channel_gate_apply,
    _deepen_apply,
    _deepen_sites,
    _dense_apply,
    _dense_sites,
    _depthwise_separable_apply,
    _dilation_apply,
    _droppath_apply,
    _droppath_sites,
    _grouped_apply,
    _inception_apply,
    _inverted_bottleneck_apply,
    _kernel_apply,
    _layer_norm_apply,
    _mixed_kernel_apply,
    _pool_branch_apply,
    _pool_branch_sites,
    _reorder_apply,
    _reorder_sites,
    _residual_apply,
    _residual_sites,
    _se_apply,
    _self_attention_apply,
    _spatial_apply,
    _widen_apply,
    _widen_sites,
)
from nader.agents.offline.graph_edit import ShapeContext
from nader.agents.offline.sites import (
    Rewrite,
    SiteFinder,
    _attention_sites,
    _convs,
    _variants,
)

__all__ = ["REWRITES", "REWRITES_BY_NAME", "Rewrite"]


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
