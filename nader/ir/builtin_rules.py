"""Parameter models and shape/cost rules of the built-in operators (the data behind
:mod:`nader.ir.builtin_ops`' table). Shape rules follow DESIGN §2: Conv2d and pooling use "same"
padding, so the output size is ``ceil(size / stride)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import model_validator

from nader.ir.ops import Cost, Flag, Number, OpParams, Size, Sizes
from nader.ir.shapes import (
    ShapeProblem,
    TensorShape,
    broadcast,
    image,
    normalize_axis,
    same_padding_size,
)

# ----------------------------------------------------------------------------- parameter models


class ConvParams(OpParams):
    out_channels: Size
    kernel_size: Size
    stride: Size = 1
    dilation: Size = 1
    groups: Size = 1
    bias: Flag = True


class LinearParams(OpParams):
    out_channels: Size
    bias: Flag = True


class PoolParams(OpParams):
    kernel_size: Size
    stride: Size

    @model_validator(mode="before")
    @classmethod
    def _stride_defaults_to_kernel(cls, data: Any) -> Any:
        # torch's default; filling it here makes AvgPool2d(kernel_size=2) hash like stride=2
        if isinstance(data, dict) and data.get("stride") is None and "kernel_size" in data:
            return {**data, "stride": data["kernel_size"]}
        return data


class AdaptivePoolParams(OpParams):
    output_size: Sizes

    @model_validator(mode="after")
    def _square_when_one_size(self) -> AdaptivePoolParams:
        # torch reads output_size=1 as (1, 1): store both so the two spellings hash alike
        if len(self.output_size) == 1:
            object.__setattr__(self, "output_size", self.output_size * 2)
        return self


class ConcatParams(OpParams):
    dim: Size = 1


class ReduceParams(OpParams):
    dim: Sizes
    keepdim: Flag = False


class SoftmaxParams(OpParams):
    dim: Size = -1


class DimsParams(OpParams):
    dims: Sizes


class DropPathParams(OpParams):
    drop_prob: Number = 0.0

    @model_validator(mode="after")
    def _probability(self) -> DropPathParams:
        if not 0.0 <= self.drop_prob < 1.0:
            raise ValueError(f"drop_prob must be in [0, 1), got {self.drop_prob!r}")
        return self


# --------------------------------------------------------------------------------- shape rules


def _identity(inputs: list[TensorShape], params: Mapping[str, Any]) -> TensorShape:
    return inputs[0]


def _channel_check(shape: TensorShape, axis: int, op: str) -> None:
    if shape.spatial[axis]:
        raise ShapeProblem(
            "spatial-channels",
            f"{op} would learn weights over an axis of size {shape.dims[axis]} that depends on the "
            "image size (H or W); apply it to the channel axis",
        )


def _conv_shape(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
    b, c, h, w = image(inputs[0], "Conv2d")
    _channel_check(inputs[0], 1, "Conv2d")
    out, groups = p["out_channels"], p["groups"]
    if c % groups or out % groups:
        raise ShapeProblem(
            "groups-divisibility",
            f"Conv2d groups={groups} must divide both input channels ({c}) and "
            f"out_channels ({out})",
        )
    stride = p["stride"]
    flags = inputs[0].spatial
    return TensorShape(
        (b, out, same_padding_size(h, stride), same_padding_size(w, stride)),
        (flags[0], False, flags[2], flags[3]),
    )


def _conv_cost(inputs: list[TensorShape], out: TensorShape, p: Mapping[str, Any]) -> Cost:
    c_in = inputs[0].dims[1]
    k, groups, c_out = p["kernel_size"], p["groups"], p["out_channels"]
    per_output = (c_in // groups) * k * k
    outputs = out.numel()
    macs = outputs * per_output
    bias = c_out if p["bias"] else 0
    return Cost(
        params=c_out * per_output + bias,
        flops=macs + (outputs if p["bias"] else 0),
        macs=macs,
    )


def _linear_shape(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
    shape = inputs[0]
    if shape.rank < 2:
        raise ShapeProblem("rank-mismatch", f"Linear expects at least a 2-D tensor, got {shape}")
    if shape.spatial[-1]:
        raise ShapeProblem(
            "spatial-channels",
            f"Linear acts on the last axis, whose size {shape.dims[-1]} depends on the image size; "
            "move channels last first (permute(0,2,3,1)) or pool to (B, C)",
        )
    return TensorShape(shape.dims[:-1] + (p["out_channels"],), shape.spatial[:-1] + (False,))


def _linear_cost(inputs: list[TensorShape], out: TensorShape, p: Mapping[str, Any]) -> Cost:
    c_in, c_out = inputs[0].dims[-1], p["out_channels"]
    positions = out.numel() // c_out if c_out else 0
    macs = positions * c_in * c_out
    return Cost(
        params=c_in * c_out + (c_out if p["bias"] else 0),
        flops=macs + (positions * c_out if p["bias"] else 0),
        macs=macs,
    )


def _pool_shape(name: str) -> Callable[[list[TensorShape], Mapping[str, Any]], TensorShape]:
    def rule(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
        b, c, h, w = image(inputs[0], name)
        stride = p["stride"]
        if stride <= 0:
            raise ShapeProblem("non-positive-size", f"{name} stride must be positive, got {stride}")
        flags = inputs[0].spatial
        return TensorShape(
            (b, c, same_padding_size(h, stride), same_padding_size(w, stride)), flags
        )

    return rule


def _adaptive_shape(name: str) -> Callable[[list[TensorShape], Mapping[str, Any]], TensorShape]:
    def rule(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
        b, c, _, _ = image(inputs[0], name)
        size = p["output_size"]
        if len(size) not in (1, 2):
            raise ShapeProblem("invalid-parameter", f"{name} output_size takes one or two sizes")
        oh, ow = (size[0], size[0]) if len(size) == 1 else size
        flags = inputs[0].spatial
        return TensorShape((b, c, oh, ow), (flags[0], flags[1], False, False))

    return rule


def _bn_shape(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
    shape = inputs[0]
    if shape.rank not in (2, 3, 4):
        raise ShapeProblem(
            "rank-mismatch", f"BN normalises axis 1 of a 2-D to 4-D tensor, got {shape}"
        )
    _channel_check(shape, 1, "BN")
    return shape


def _bn_cost(inputs: list[TensorShape], out: TensorShape, p: Mapping[str, Any]) -> Cost:
    return Cost(params=2 * inputs[0].dims[1])


def _ln_shape(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
    shape = inputs[0]
    if shape.rank == 0:
        raise ShapeProblem(
            "rank-mismatch", "LN normalises the last axis, but its input is a scalar"
        )
    if shape.spatial[-1]:
        raise ShapeProblem(
            "ln-axis",
            f"LN normalises the last axis, but it has size {shape.dims[-1]}, which depends on the "
            "image size; put channels last first, e.g. permute(0,2,3,1) -> LN -> permute(0,3,1,2)",
        )
    return shape


def _ln_cost(inputs: list[TensorShape], out: TensorShape, p: Mapping[str, Any]) -> Cost:
    return Cost(params=2 * inputs[0].dims[-1])


def _elementwise(name: str) -> Callable[[list[TensorShape], Mapping[str, Any]], TensorShape]:
    def rule(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
        return broadcast(inputs, name)

    return rule


def _matmul_shape(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
    left, right = inputs
    if left.rank < 2 or right.rank < 2:
        raise ShapeProblem(
            "shape-mismatch",
            f"multiply (matrix product) needs 2-D or larger inputs, got {left} and {right}",
        )
    if left.dims[-1] != right.dims[-2]:
        raise ShapeProblem(
            "shape-mismatch",
            f"multiply computes first @ second: the last axis of the first input ({left.dims[-1]}) "
            f"must equal the second-to-last axis of the second ({right.dims[-2]}); got {left} and {right}",
        )
    batch = broadcast(
        [
            TensorShape(left.dims[:-2], left.spatial[:-2]),
            TensorShape(right.dims[:-2], right.spatial[:-2]),
        ],
        "multiply",
    )
    return TensorShape(
        batch.dims + (left.dims[-2], right.dims[-1]),
        batch.spatial + (left.spatial[-2], right.spatial[-1]),
    )


def _matmul_cost(inputs: list[TensorShape], out: TensorShape, p: Mapping[str, Any]) -> Cost:
    return Cost(macs=out.numel() * inputs[0].dims[-1])


def _concat_shape(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
    first = inputs[0]
    axis = normalize_axis(p["dim"], first.rank, "concat")
    total = 0
    flag = False
    for shape in inputs:
        if shape.rank != first.rank or any(
            a != b for i, (a, b) in enumerate(zip(shape.dims, first.dims, strict=True)) if i != axis
        ):
            listed = ", ".join(str(s) for s in inputs)
            raise ShapeProblem(
                "shape-mismatch",
                f"concat along axis {axis} needs all other axes equal, got {listed}",
            )
        total += shape.dims[axis]
        flag = flag or shape.spatial[axis]
    dims = list(first.dims)
    flags = list(first.spatial)
    dims[axis], flags[axis] = total, flag
    return TensorShape(tuple(dims), tuple(flags))


def _reduce_shape(name: str) -> Callable[[list[TensorShape], Mapping[str, Any]], TensorShape]:
    def rule(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
        shape = inputs[0]
        listed = [normalize_axis(a, shape.rank, name) for a in p["dim"]]
        axes = set(listed)
        if not listed or len(axes) != len(listed):
            raise ShapeProblem(
                "invalid-axis",
                f"{name} needs one or more distinct axes of the {shape.rank}-D input {shape}, "
                f"got dim={tuple(p['dim'])}",
            )
        if p["keepdim"]:
            return TensorShape(
                tuple(1 if i in axes else d for i, d in enumerate(shape.dims)),
                tuple(False if i in axes else f for i, f in enumerate(shape.spatial)),
            )
        keep = [i for i in range(shape.rank) if i not in axes]
        return TensorShape(
            tuple(shape.dims[i] for i in keep), tuple(shape.spatial[i] for i in keep)
        )

    return rule


def _softmax_shape(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
    normalize_axis(p["dim"], inputs[0].rank, "softmax")
    return inputs[0]


def _permute_shape(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
    shape = inputs[0]
    dims = p.get("dims")
    if not dims or sorted(normalize_axis(d, shape.rank, "permute") for d in dims) != list(
        range(shape.rank)
    ):
        raise ShapeProblem(
            "permute-invalid",
            f"permute needs a permutation of 0..{shape.rank - 1} for a {shape.rank}-D tensor "
            f"{shape}, got {tuple(dims or ())}",
        )
    order = [normalize_axis(d, shape.rank, "permute") for d in dims]
    return TensorShape(tuple(shape.dims[i] for i in order), tuple(shape.spatial[i] for i in order))


def _repeat_shape(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
    shape = inputs[0]
    counts = p.get("dims") or ()
    if len(counts) < shape.rank:
        raise ShapeProblem(
            "repeat-invalid",
            f"repeat needs at least {shape.rank} counts for a {shape.rank}-D tensor {shape}, "
            f"got {len(counts)}",
        )
    if any(c <= 0 for c in counts):
        raise ShapeProblem("repeat-invalid", f"repeat counts must be positive, got {tuple(counts)}")
    pad = len(counts) - shape.rank
    dims = (1,) * pad + shape.dims
    flags = (False,) * pad + shape.spatial
    spatial_args = p.get("_spatial", {}).get("dims", (False,) * len(counts))
    return TensorShape(
        tuple(d * c for d, c in zip(dims, counts, strict=True)),
        tuple(f or s for f, s in zip(flags, spatial_args, strict=True)),
    )


def _reshape_shape(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
    shape = inputs[0]
    sizes = list(p.get("dims") or ())
    spatial_args = list(p.get("_spatial", {}).get("dims", (False,) * len(sizes)))
    if not sizes:
        raise ShapeProblem(
            "reshape-invalid", "reshape needs the target sizes, e.g. reshape(B,C,H*W)"
        )
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    if len(unknown) > 1 or any(s <= 0 for s in sizes if s != -1):
        raise ShapeProblem(
            "reshape-invalid",
            f"reshape sizes must be positive, with at most one -1; got {tuple(sizes)}",
        )
    total = shape.numel()
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    if unknown:
        if known == 0 or total % known:
            raise ShapeProblem(
                "reshape-invalid",
                f"reshape of {shape} ({total} elements) to {tuple(sizes)}: -1 cannot be inferred",
            )
        sizes[unknown[0]] = total // known
        spatial_args[unknown[0]] = any(shape.spatial)
    elif known != total:
        raise ShapeProblem(
            "reshape-invalid",
            f"reshape of {shape} ({total} elements) to {tuple(sizes)} ({known} elements) "
            "must keep the number of elements",
        )
    return TensorShape(tuple(sizes), tuple(spatial_args))


def _never(inputs: list[TensorShape], p: Mapping[str, Any]) -> TensorShape:
    raise ShapeProblem("internal", "input nodes get their shape from the probe")
