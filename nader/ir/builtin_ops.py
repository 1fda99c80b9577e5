"""The authors' operators as :class:`~nader.ir.ops.OperatorSpec` data.

Registered through the ``register_operators`` hook by the built-in plugin, exactly like a third
party's operators. The parameter models and rules live in :mod:`nader.ir.builtin_rules`.
"""

from __future__ import annotations

from collections.abc import Callable

from nader.ir.builtin_rules import (
    AdaptivePoolParams,
    ConcatParams,
    ConvParams,
    DimsParams,
    DropPathParams,
    LinearParams,
    PoolParams,
    ReduceParams,
    SoftmaxParams,
    _adaptive_shape,
    _bn_cost,
    _bn_shape,
    _concat_shape,
    _conv_cost,
    _conv_shape,
    _elementwise,
    _identity,
    _linear_cost,
    _linear_shape,
    _ln_cost,
    _ln_shape,
    _matmul_cost,
    _matmul_shape,
    _never,
    _permute_shape,
    _pool_shape,
    _reduce_shape,
    _repeat_shape,
    _reshape_shape,
    _softmax_shape,
)
from nader.ir.ops import NoParams, OperatorSpec
from nader.ir.registry import OperatorRegistry

# ------------------------------------------------------------------------------------ the table


def builtin_operator_specs() -> list[OperatorSpec]:
    """Fresh specs for every built-in operator (the order is the prompt's order).

    Operators take exactly one input unless ``min_inputs``/``max_inputs`` say otherwise.
    """
    return [
        OperatorSpec(
            "input", _never, min_inputs=0, max_inputs=0, summary="the block's input (B, C, H, W)"
        ),
        OperatorSpec(
            "input1",
            _never,
            min_inputs=0,
            max_inputs=0,
            summary="first input of a two-input block (B, dim, H, W)",
        ),
        OperatorSpec(
            "input2",
            _never,
            min_inputs=0,
            max_inputs=0,
            summary="second input of a two-input block (B, dim, H, W)",
        ),
        OperatorSpec("output", _identity, summary="the block's result; exactly one input"),
        OperatorSpec(
            "Conv2d",
            _conv_shape,
            ConvParams,
            _conv_cost,
            positional=("out_channels", "kernel_size", "stride"),
            positive=("out_channels", "kernel_size", "stride", "dilation", "groups"),
            summary="2-D convolution, 'same' padding: out size = ceil(in/stride)",
            example="Conv2d(out_channels=C,kernel_size=3,stride=1,dilation=1,groups=1,bias=True)",
        ),
        OperatorSpec(
            "Linear",
            _linear_shape,
            LinearParams,
            _linear_cost,
            positional=("out_channels",),
            positive=("out_channels",),
            summary="fully connected layer over the last axis",
            example="Linear(out_channels=C*4)",
        ),
        OperatorSpec(
            "AvgPool2d",
            _pool_shape("AvgPool2d"),
            PoolParams,
            positional=("kernel_size", "stride"),
            positive=("kernel_size",),
            summary="average pooling, 'same' padding (stride defaults to kernel_size)",
            example="AvgPool2d(kernel_size=3,stride=1)",
        ),
        OperatorSpec(
            "MaxPool2d",
            _pool_shape("MaxPool2d"),
            PoolParams,
            positional=("kernel_size", "stride"),
            positive=("kernel_size",),
            summary="max pooling, 'same' padding (stride defaults to kernel_size)",
            example="MaxPool2d(kernel_size=3,stride=2)",
        ),
        OperatorSpec(
            "AdaptiveAvgPool2d",
            _adaptive_shape("AdaptiveAvgPool2d"),
            AdaptivePoolParams,
            positional=("output_size",),
            positive=("output_size",),
            summary="average pool to a fixed spatial size",
            example="AdaptiveAvgPool2d(output_size=1)",
        ),
        OperatorSpec(
            "AdaptiveMaxPool2d",
            _adaptive_shape("AdaptiveMaxPool2d"),
            AdaptivePoolParams,
            positional=("output_size",),
            positive=("output_size",),
            summary="max pool to a fixed spatial size",
            example="AdaptiveMaxPool2d(output_size=1)",
        ),
        OperatorSpec("ReLU", _identity, NoParams, summary="activation"),
        OperatorSpec("GELU", _identity, NoParams, summary="activation"),
        OperatorSpec("Sigmoid", _identity, NoParams, summary="activation"),
        OperatorSpec(
            "BN",
            _bn_shape,
            NoParams,
            _bn_cost,
            aliases=("BatchNorm2d",),
            summary="batch normalisation over axis 1 (channels)",
        ),
        OperatorSpec(
            "LN",
            _ln_shape,
            NoParams,
            _ln_cost,
            aliases=("LayerNorm",),
            summary="layer normalisation over the last axis (channels must be last)",
        ),
        OperatorSpec(
            "Add",
            _elementwise("Add"),
            NoParams,
            min_inputs=2,
            max_inputs=None,
            commutative=True,
            summary="element-wise sum of 2+ inputs (broadcasting)",
        ),
        OperatorSpec(
            "Mul",
            _elementwise("Mul"),
            NoParams,
            min_inputs=2,
            max_inputs=None,
            commutative=True,
            summary="element-wise product of 2+ inputs (broadcasting), e.g. attention gating",
        ),
        OperatorSpec(
            "multiply",
            _matmul_shape,
            NoParams,
            _matmul_cost,
            min_inputs=2,
            max_inputs=2,
            summary="matrix product first @ second (input order = edge order)",
        ),
        OperatorSpec(
            "concat",
            _concat_shape,
            ConcatParams,
            min_inputs=1,
            max_inputs=None,
            positional=("dim",),
            summary="concatenate inputs along an axis, in edge order",
            example="concat(dim=1)",
        ),
        OperatorSpec(
            "mean",
            _reduce_shape("mean"),
            ReduceParams,
            positional=("dim", "keepdim"),
            summary="mean over axes",
            example="mean(dim=1,keepdim=True)",
        ),
        OperatorSpec(
            "max",
            _reduce_shape("max"),
            ReduceParams,
            positional=("dim", "keepdim"),
            summary="maximum over axes",
            example="max(dim=1,keepdim=True)",
        ),
        OperatorSpec(
            "sum",
            _reduce_shape("sum"),
            ReduceParams,
            positional=("dim", "keepdim"),
            summary="sum over axes",
            example="sum(dim=(2,3),keepdim=True)",
        ),
        OperatorSpec(
            "softmax",
            _softmax_shape,
            SoftmaxParams,
            positional=("dim",),
            summary="softmax along an axis",
            example="softmax(dim=-1)",
        ),
        OperatorSpec(
            "permute",
            _permute_shape,
            DimsParams,
            varargs="dims",
            layer=False,
            summary="reorder axes",
            example="permute(0,2,3,1)",
        ),
        OperatorSpec(
            "repeat",
            _repeat_shape,
            DimsParams,
            varargs="dims",
            layer=False,
            summary="tile along axes (counts may use B, C, H, W)",
            example="repeat(1,1,H,W)",
        ),
        OperatorSpec(
            "reshape",
            _reshape_shape,
            DimsParams,
            varargs="dims",
            layer=False,
            summary="reshape (sizes may use B, C, H, W; one -1 allowed)",
            example="reshape(B,C,H*W)",
        ),
        OperatorSpec(
            "DropPath",
            _identity,
            DropPathParams,
            positional=("drop_prob",),
            summary="stochastic depth on the branch (identity at inference)",
            example="DropPath(drop_prob=0.1)",
        ),
        OperatorSpec(
            "Identity",
            _identity,
            NoParams,
            min_inputs=1,
            max_inputs=1,
            summary="returns its input (NAS-Bench-201's skip_connect as an explicit node)",
        ),
        OperatorSpec(
            "Zero",
            _identity,
            NoParams,
            min_inputs=1,
            max_inputs=1,
            summary="zeros shaped like its input (NAS-Bench-201's none: the edge contributes 0)",
        ),
    ]


def register_builtin_operators(register: Callable[[OperatorSpec], None]) -> None:
    """Register every built-in operator through ``register`` (the hook's callback)."""
    for spec in builtin_operator_specs():
        register(spec)


def default_registry() -> OperatorRegistry:
    """A fresh registry with the built-in operators only (no plugins).

    Library users who do not need plugins call this; the CLI and sessions build theirs with
    :func:`nader.plugins.manager.build_runtime`, which includes plugin operators.
    """
    registry = OperatorRegistry()
    register_builtin_operators(registry.register)
    return registry


__all__ = ["builtin_operator_specs", "default_registry", "register_builtin_operators", "NoParams"]
