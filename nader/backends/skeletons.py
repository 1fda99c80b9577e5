"""Named network skeletons: how a file's stem, cell and downsample blocks are stacked.

A network is ``stem -> stage 1 cells -> downsample -> stage 2 cells -> ... -> head``. Stage ``i``
runs at ``width * multipliers[i]`` channels and has ``depths[i]`` cells; each downsample halves H
and W and moves to the next stage's channels. The skeleton's own parts — the classifier head and
the adapter that feeds a two-input cell an input of another shape — are written in the block text
format too (below), so the cost model, the verifier and the torch lowering treat them exactly like
a user's blocks: one code path, no separate bookkeeping that could drift.

Two-input (DARTS-style) blocks take the outputs of the two previous blocks (``input1`` the older,
``input2`` the newer; the first one after the stem gets the stem's output twice). Both must be
``(B, dim, H, W)``; when the older one is not (it comes from before a downsample, or a two-input
downsample wants the next stage's channels), an *adapter* ``ReLU -> 1x1 Conv(stride s) -> BN``
maps it — DARTS's ``ReLUConvBN`` preprocessing, with a strided 1x1 conv in place of DARTS's
factorized reduce (same parameter and FLOP count, one conv instead of two half-width ones). The
adapter is part of the network, its costs included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from nader.errors import ConfigError

#: Global average pool + Linear (the authors' NAS-Bench-201 setting). ``dim`` = number of classes.
HEAD_POOL_LINEAR = """\
##head##
0:input
1:output
2:AdaptiveAvgPool2d(output_size=1)
3:reshape(B,C)
4:Linear(out_channels=dim)
0->2
2->3
3->4
4->1
"""

#: NAS-Bench-201's TinyNetwork head: BN + ReLU ("lastact"), global average pool, Linear.
HEAD_BN_RELU_POOL_LINEAR = """\
##head##
0:input
1:output
2:BN
3:ReLU
4:AdaptiveAvgPool2d(output_size=1)
5:reshape(B,C)
6:Linear(out_channels=dim)
0->2
2->3
3->4
4->5
5->6
6->1
"""


def adapter_text(stride: int) -> str:
    """The adapter block for a two-input block's input: C -> dim channels, H -> H/stride."""
    return (
        "##adapter##\n0:input\n1:output\n2:ReLU\n"
        f"3:Conv2d(out_channels=dim,kernel_size=1,stride={int(stride)},bias=False)\n"
        "4:BN\n0->2\n2->3\n3->4\n4->1\n"
    )


@dataclass(frozen=True)
class Skeleton:
    """A named macro structure; ``depths`` and ``multipliers`` have one entry per stage."""

    name: str
    depths: tuple[int, ...]
    multipliers: tuple[int, ...]
    head: str
    #: The spatial reduction the stem must make (1 on CIFAR-style skeletons, 4 on ImageNet).
    stem_scale: int
    default_dataset: str
    description: str

    def __post_init__(self) -> None:
        if not self.depths or len(self.depths) != len(self.multipliers):
            raise ConfigError(
                f"skeleton {self.name!r}: depths {self.depths} and multipliers "
                f"{self.multipliers} need one entry per stage"
            )
        if any(d < 1 for d in self.depths) or any(m < 1 for m in self.multipliers):
            raise ConfigError(f"skeleton {self.name!r}: depths and multipliers must be >= 1")

    def with_depths(self, depths: tuple[int, ...]) -> Skeleton:
        """The same skeleton with other stage depths (same number of stages)."""
        if len(depths) != len(self.depths):
            raise ConfigError(
                f"skeleton {self.name!r} has {len(self.depths)} stages; got depths {depths}"
            )
        return replace(self, depths=tuple(depths))


SKELETONS: dict[str, Skeleton] = {
    skeleton.name: skeleton
    for skeleton in (
        Skeleton(
            "nader",
            (5, 5, 5),
            (1, 2, 4),
            HEAD_POOL_LINEAR,
            stem_scale=1,
            default_dataset="cifar100",
            description="the authors' NAS-Bench-201 setting: 3 stages of 5 cells, widths x1/x2/x4, "
            "global average pool + Linear",
        ),
        Skeleton(
            "nb201",
            (5, 5, 5),
            (1, 2, 4),
            HEAD_BN_RELU_POOL_LINEAR,
            stem_scale=1,
            default_dataset="cifar10",
            description="NAS-Bench-201's TinyNetwork: as 'nader' plus BN + ReLU before pooling",
        ),
        Skeleton(
            "nb201-mini",
            (1, 1, 1),
            (1, 2, 4),
            HEAD_BN_RELU_POOL_LINEAR,
            stem_scale=1,
            default_dataset="cifar10",
            description="NAS-Bench-201's TinyNetwork with one cell per stage (N=1): a small, "
            "CPU-friendly skeleton for search benchmarks",
        ),
        Skeleton(
            "imagenet",
            (3, 4, 6, 3),
            (1, 2, 4, 8),
            HEAD_POOL_LINEAR,
            stem_scale=4,
            default_dataset="imagenet",
            description="4 stages (ResNet-50 depths 3/4/6/3), widths x1/x2/x4/x8, a stem that "
            "reduces H and W by 4, global average pool + Linear",
        ),
        Skeleton(
            "darts",
            (6, 6, 6),
            (1, 2, 4),
            HEAD_POOL_LINEAR,
            stem_scale=1,
            default_dataset="cifar10",
            description="DARTS's CIFAR network: 3 stages of 6 cells (two-input cells are fed by "
            "the two previous blocks), widths x1/x2/x4, global average pool + Linear",
        ),
    )
}


def skeleton_named(name: str) -> Skeleton:
    try:
        return SKELETONS[name.lower()]
    except KeyError:
        known = ", ".join(SKELETONS)
        raise ConfigError(f"unknown skeleton {name!r}; known skeletons: {known}") from None
