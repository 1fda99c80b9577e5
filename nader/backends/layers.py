"""The torch modules that built-in operators lower to, where ``torch.nn`` has no exact match.

"Same" padding (DESIGN §2) means output size ``ceil(in / stride)``. When the effective kernel
``dilation*(kernel-1)+1`` is odd, torch's own symmetric padding ``dilation*(kernel-1)/2`` gives
exactly that for every input size, so the lowering uses plain ``nn.Conv2d``/``nn.MaxPool2d``/
``nn.AvgPool2d``. When it is even (``kernel_size=2``, ...), no symmetric padding works: the
``Same*`` modules below pad asymmetrically, computing the padding from the live tensor (it depends
on ``in % stride``) — the extra row/column goes after, which is the authors' "crop one row/column"
for stride 1 and TensorFlow's "SAME" for larger strides.

:func:`same_padding`, :class:`SameConv2d`, :class:`SameMaxPool2d`, :class:`SameAvgPool2d`,
:class:`DropPath` and :class:`Zero` depend on torch only: :mod:`nader.backends.export` copies their
source into generated model files, which import nothing but torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nader.ir.expr import BinOp, Const, Expr, Neg, Sym


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding of one axis so that the output has ceil(size / stride) entries."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    before = min(dilation * (kernel - 1) // 2, total)
    return before, total - before


class SameConv2d(nn.Conv2d):
    """Conv2d with "same" padding for even effective kernels (asymmetric, from the live size)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = same_padding(
            x.shape[-2], self.kernel_size[0], self.stride[0], self.dilation[0]
        )
        left, right = same_padding(
            x.shape[-1], self.kernel_size[1], self.stride[1], self.dilation[1]
        )
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


class SameMaxPool2d(nn.MaxPool2d):
    """MaxPool2d with "same" padding for even kernels; padded cells never win (-inf)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel, stride = int(self.kernel_size), int(self.stride)  # type: ignore[arg-type]
        top, bottom = same_padding(x.shape[-2], kernel, stride)
        left, right = same_padding(x.shape[-1], kernel, stride)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        return super().forward(x)


class SameAvgPool2d(nn.Module):
    """AvgPool2d with "same" padding for even kernels, averaging real cells only.

    Matches ``nn.AvgPool2d(..., count_include_pad=False)``, which the odd-kernel lowering uses
    (NAS-Bench-201's ``avg_pool_3x3`` convention).
    """

    def __init__(self, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = same_padding(x.shape[-2], self.kernel_size, self.stride)
        left, right = same_padding(x.shape[-1], self.kernel_size, self.stride)
        pads = (left, right, top, bottom)
        window = (self.kernel_size, self.kernel_size)
        if not any(pads):
            return F.avg_pool2d(x, window, self.stride)
        total = F.avg_pool2d(F.pad(x, pads), window, self.stride, divisor_override=1)
        ones = F.pad(torch.ones_like(x[:1, :1]), pads)
        count = F.avg_pool2d(ones, window, self.stride, divisor_override=1)
        return total / count

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class DropPath(nn.Module):
    """Stochastic depth: while training, zero whole samples with probability ``drop_prob`` and
    rescale the rest; the identity at inference."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drop_prob <= 0.0:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"


class Zero(nn.Module):
    """Zeros shaped like the input (NAS-Bench-201's ``none``: ``x.mul(0.)``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


# ------------------------------------------------------------------------ stateless operators


class Add(nn.Module):
    """Element-wise sum of two or more inputs (broadcasting)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        total = inputs[0]
        for item in inputs[1:]:
            total = total + item
        return total


class Mul(nn.Module):
    """Element-wise product of two or more inputs (broadcasting)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        product = inputs[0]
        for item in inputs[1:]:
            product = product * item
        return product


class MatMul(nn.Module):
    """``first @ second`` (the ``multiply`` operator)."""

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        return torch.matmul(first, second)


class Concat(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Reduce(nn.Module):
    """``mean``, ``sum`` or ``max`` over axes."""

    def __init__(self, kind: str, dims: tuple[int, ...], keepdim: bool) -> None:
        super().__init__()
        if kind not in ("mean", "sum", "max"):
            raise ValueError(f"unknown reduction {kind!r}")
        self.kind = kind
        self.dims = dims
        self.keepdim = keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "mean":
            return torch.mean(x, dim=self.dims, keepdim=self.keepdim)
        if self.kind == "sum":
            return torch.sum(x, dim=self.dims, keepdim=self.keepdim)
        return torch.amax(x, dim=self.dims, keepdim=self.keepdim)

    def extra_repr(self) -> str:
        return f"{self.kind}, dims={self.dims}, keepdim={self.keepdim}"


class Permute(nn.Module):
    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


def evaluate_live(expr: Expr, env: Mapping[str, Any]) -> Any:
    """Evaluate a size expression whose symbols are live sizes (ints or torch SymInts).

    The expression was verified by the IR, so no limits are checked here; ``//`` floors.
    """
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Sym):
        return env[expr.name]
    if isinstance(expr, Neg):
        return -evaluate_live(expr.operand, env)
    assert isinstance(expr, BinOp)
    left, right = evaluate_live(expr.left, env), evaluate_live(expr.right, env)
    if expr.op == "+":
        return left + right
    if expr.op == "-":
        return left - right
    if expr.op == "*":
        return left * right
    return left // right


class BlockShapeReader(nn.Module):
    """Base of modules whose sizes use B, H or W: the builder passes the block input's live shape
    as ``block_shape=``, so any batch (and image) size works."""

    reads_block_shape = True

    def __init__(self, sizes: tuple[Expr, ...]) -> None:
        super().__init__()
        self.sizes = sizes

    def live_sizes(self, block_shape: torch.Size | tuple[int, ...]) -> list[Any]:
        env = {"B": block_shape[0], "H": block_shape[-2], "W": block_shape[-1]}
        return [evaluate_live(size, env) for size in self.sizes]

    def extra_repr(self) -> str:
        return "(" + ", ".join(str(size) for size in self.sizes) + ")"


class Reshape(BlockShapeReader):
    def forward(self, x: torch.Tensor, block_shape: torch.Size) -> torch.Tensor:
        return x.reshape(self.live_sizes(block_shape))


class Repeat(BlockShapeReader):
    def forward(self, x: torch.Tensor, block_shape: torch.Size) -> torch.Tensor:
        return x.repeat(self.live_sizes(block_shape))
