"""Tensor shapes at a probe point, and the problems shape rules report.

A shape is a tuple of concrete integers evaluated at a probe (``B``, ``C``, ``H``, ``W``,
``dim``), plus, per axis, whether its size depends on the input's spatial size (``H``/``W``).
That flag is what lets the verifier say "LN normalises over a spatial axis" or "Linear's input
features depend on the image size" without symbolic algebra; a second probe with other sizes
catches the rest (see :mod:`nader.ir.verify`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TensorShape:
    dims: tuple[int, ...]
    spatial: tuple[bool, ...]

    @classmethod
    def of(cls, dims: tuple[int, ...], spatial: tuple[bool, ...] | None = None) -> TensorShape:
        return cls(dims, spatial if spatial is not None else (False,) * len(dims))

    @property
    def rank(self) -> int:
        return len(self.dims)

    def numel(self) -> int:
        total = 1
        for size in self.dims:
            total *= size
        return total

    def __str__(self) -> str:
        return "(" + ", ".join(str(d) for d in self.dims) + ")"


class ShapeProblem(Exception):
    """Raised by a shape or cost rule; the verifier attaches block, node and line."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def image(shape: TensorShape, op: str) -> tuple[int, int, int, int]:
    """Require a 4-D (B, C, H, W) tensor and return its sizes."""
    if shape.rank != 4:
        raise ShapeProblem(
            "rank-mismatch",
            f"{op} expects a 4-D (B, C, H, W) tensor but gets {shape.rank}-D {shape}",
        )
    b, c, h, w = shape.dims
    return b, c, h, w


def normalize_axis(axis: int, rank: int, op: str) -> int:
    if -rank <= axis < rank:
        return axis % rank
    raise ShapeProblem("invalid-axis", f"{op}: axis {axis} is out of range for a {rank}-D tensor")


def broadcast(shapes: list[TensorShape], op: str) -> TensorShape:
    """NumPy/torch broadcasting of several shapes, with a message naming both shapes."""
    rank = max(shape.rank for shape in shapes)
    dims = [1] * rank
    spatial = [False] * rank
    for shape in shapes:
        offset = rank - shape.rank
        for index, (size, flag) in enumerate(zip(shape.dims, shape.spatial, strict=True)):
            position = offset + index
            if dims[position] == 1:
                dims[position], spatial[position] = size, flag
            elif size not in (1, dims[position]):
                listed = " and ".join(str(s) for s in shapes)
                raise ShapeProblem(
                    "shape-mismatch",
                    f"{op} needs inputs of the same shape (or broadcastable), got {listed}",
                )
            elif size != 1:
                spatial[position] = spatial[position] or flag
    return TensorShape(tuple(dims), tuple(spatial))


def same_padding_size(size: int, stride: int) -> int:
    """Output size under the "same" padding of DESIGN §2: ceil(size / stride)."""
    return -(-size // stride)
