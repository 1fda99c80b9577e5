"""Operator → ``torch.nn.Module``: the lowering contract and the built-in operators' lowerings.

A *lowering* is ``Callable[[LoweringContext], nn.Module]``; the module's ``forward`` takes the
node's inputs positionally, in edge order. Lowerings are registered next to their operator through
the ``register_operators`` hook (``register(spec, lowering=fn)``), built-ins included, and the
builder looks them up by operator name in ``runtime.lowerings`` — there is no switch on operator
names anywhere else, so a plugin's operator lowers exactly like ``Conv2d``.

One extension for shape operators: a module with ``reads_block_shape = True`` (see
:class:`nader.backends.layers.BlockShapeReader`) also receives ``block_shape=`` (the block input's
live ``torch.Size``), which is how ``reshape(B,C,H*W)`` reads B, H and W from the running tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from nader.backends import layers
from nader.ir.expr import BinOp, Const, Expr, Neg, Sym, normalize


@dataclass(frozen=True)
class LoweringContext:
    """What a lowering knows about the node it builds a module for."""

    op: str  # canonical operator name
    #: parameter values with sizes evaluated at build time (ints, tuples of ints), bools, floats
    params: Mapping[str, Any]
    #: the same size fields as IR expressions, with C and dim replaced by their build-time values,
    #: so only B, H and W remain symbolic (read them from the live tensor)
    exprs: Mapping[str, Any]
    input_shapes: tuple[tuple[int, ...], ...]  # at the build-time probe (batch 1)
    output_shape: tuple[int, ...]


Lowering = Callable[[LoweringContext], nn.Module]


def bind_symbols(expr: Expr, values: Mapping[str, int]) -> Expr:
    """``expr`` with the symbols in ``values`` replaced by constants, then normalized."""

    def substitute(item: Expr) -> Expr:
        if isinstance(item, Sym) and item.name in values:
            return Const(values[item.name])
        if isinstance(item, BinOp):
            return BinOp(item.op, substitute(item.left), substitute(item.right))
        if isinstance(item, Neg):
            return Neg(substitute(item.operand))
        return item

    return normalize(substitute(expr))


# ---------------------------------------------------------------------------------- lowerings


def _odd_effective_kernel(kernel: int, dilation: int = 1) -> bool:
    return (dilation * (kernel - 1)) % 2 == 0


def lower_conv2d(ctx: LoweringContext) -> nn.Module:
    p = ctx.params
    in_channels = ctx.input_shapes[0][1]
    kernel, stride, dilation = p["kernel_size"], p["stride"], p["dilation"]
    if _odd_effective_kernel(kernel, dilation):
        return nn.Conv2d(
            in_channels,
            p["out_channels"],
            kernel,
            stride=stride,
            padding=dilation * (kernel - 1) // 2,
            dilation=dilation,
            groups=p["groups"],
            bias=p["bias"],
        )
    return layers.SameConv2d(
        in_channels,
        p["out_channels"],
        kernel,
        stride=stride,
        dilation=dilation,
        groups=p["groups"],
        bias=p["bias"],
    )


def lower_max_pool(ctx: LoweringContext) -> nn.Module:
    kernel, stride = ctx.params["kernel_size"], ctx.params["stride"]
    if _odd_effective_kernel(kernel):
        return nn.MaxPool2d(kernel, stride, padding=(kernel - 1) // 2)
    return layers.SameMaxPool2d(kernel, stride)


def lower_avg_pool(ctx: LoweringContext) -> nn.Module:
    kernel, stride = ctx.params["kernel_size"], ctx.params["stride"]
    if _odd_effective_kernel(kernel):
        return nn.AvgPool2d(kernel, stride, padding=(kernel - 1) // 2, count_include_pad=False)
    return layers.SameAvgPool2d(kernel, stride)


def _output_size(ctx: LoweringContext) -> int | tuple[int, int]:
    size = tuple(ctx.params["output_size"])
    return size[0] if len(size) == 1 else (size[0], size[1])


def lower_batch_norm(ctx: LoweringContext) -> nn.Module:
    shape = ctx.input_shapes[0]
    return nn.BatchNorm2d(shape[1]) if len(shape) == 4 else nn.BatchNorm1d(shape[1])


def _reduce(kind: str) -> Lowering:
    def lower(ctx: LoweringContext) -> nn.Module:
        return layers.Reduce(kind, tuple(ctx.params["dim"]), bool(ctx.params["keepdim"]))

    return lower


def _live_sizes(ctx: LoweringContext) -> tuple[Expr, ...]:
    return tuple(ctx.exprs["dims"])


def builtin_lowerings() -> dict[str, Lowering]:
    """Lowerings of every built-in operator except ``input*``/``output`` (the builder's own)."""
    return {
        "Conv2d": lower_conv2d,
        "Linear": lambda ctx: nn.Linear(
            ctx.input_shapes[0][-1], ctx.params["out_channels"], bias=ctx.params["bias"]
        ),
        "AvgPool2d": lower_avg_pool,
        "MaxPool2d": lower_max_pool,
        "AdaptiveAvgPool2d": lambda ctx: nn.AdaptiveAvgPool2d(_output_size(ctx)),
        "AdaptiveMaxPool2d": lambda ctx: nn.AdaptiveMaxPool2d(_output_size(ctx)),
        "ReLU": lambda ctx: nn.ReLU(),
        "GELU": lambda ctx: nn.GELU(),
        "Sigmoid": lambda ctx: nn.Sigmoid(),
        "BN": lower_batch_norm,
        "LN": lambda ctx: nn.LayerNorm(ctx.input_shapes[0][-1]),
        "Add": lambda ctx: layers.Add(),
        "Mul": lambda ctx: layers.Mul(),
        "multiply": lambda ctx: layers.MatMul(),
        "concat": lambda ctx: layers.Concat(ctx.params["dim"]),
        "mean": _reduce("mean"),
        "max": _reduce("max"),
        "sum": _reduce("sum"),
        "softmax": lambda ctx: nn.Softmax(dim=ctx.params["dim"]),
        "permute": lambda ctx: layers.Permute(tuple(ctx.params["dims"])),
        "repeat": lambda ctx: layers.Repeat(_live_sizes(ctx)),
        "reshape": lambda ctx: layers.Reshape(_live_sizes(ctx)),
        "DropPath": lambda ctx: layers.DropPath(ctx.params["drop_prob"]),
        "Identity": lambda ctx: nn.Identity(),
        "Zero": lambda ctx: layers.Zero(),
    }
