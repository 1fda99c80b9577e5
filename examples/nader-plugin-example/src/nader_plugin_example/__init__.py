"""An example nader plugin: the HardSwish activation and the "newest" search policy.

nader finds this module through the ``nader`` entry-point group declared in this package's
``pyproject.toml``, and calls the functions marked with ``@hookimpl``. Importing it needs no
torch: the lowering imports torch only when a network is compiled.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping
from typing import Any

from nader import hookimpl
from nader.hookspecs import RegisterFactory, RegisterOperator, SearchPolicyFactory
from nader.ir import Cost, OperatorSpec, TensorShape

__version__ = "0.1.0"


# ------------------------------------------------------------------------- the HardSwish operator


def hardswish_shape(inputs: list[TensorShape], params: Mapping[str, Any]) -> TensorShape:
    """An element-wise activation: the output has the input's shape."""
    return inputs[0]


def hardswish_cost(
    inputs: list[TensorShape], output: TensorShape, params: Mapping[str, Any]
) -> Cost:
    """No weights; NAS-Bench-201 and fvcore count no FLOPs for activations either."""
    return Cost(params=0, flops=0, macs=0)


def lower_hardswish(ctx: Any) -> Any:
    """The torch module for one HardSwish node (``ctx`` describes the node; nothing to read)."""
    import torch

    return torch.nn.Hardswish()


HARDSWISH = OperatorSpec(
    "HardSwish",
    hardswish_shape,
    cost_rule=hardswish_cost,
    summary="activation x * relu6(x + 3) / 6, as in MobileNetV3",
    example="HardSwish",
)


@hookimpl
def register_operators(register: RegisterOperator) -> None:
    register(HARDSWISH, lowering=lower_hardswish)


# ---------------------------------------------------------------------- the "newest" search policy


class NewestPolicy:
    """Always expand the architecture added to the modification tree most recently.

    A pure depth-first walk: useful as a baseline, and as the smallest possible policy.

    Assumes only this much of the tree (duck typing, so the plugin does not depend on the tree's
    class): iterating ``tree`` yields its nodes in the order they were added, and each node
    has an ``id``.
    """

    def __init__(self) -> None:  # takes no options: factory(**options) with unknown ones fails
        pass

    def select(self, tree: Any, rng: random.Random) -> Hashable:
        newest = None
        for node in tree:
            newest = node
        if newest is None:
            raise ValueError("the modification tree has no nodes to select from")
        return newest.id


@hookimpl
def register_search_policies(register: RegisterFactory[SearchPolicyFactory]) -> None:
    register("newest", NewestPolicy)
