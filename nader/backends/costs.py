"""Network-level params and FLOPs from the IR alone (no torch).

The cost of a network is the sum of its block instances' costs, each computed by the operators'
cost rules at that instance's real C, dim, H and W (batch 1, so per sample):

- ``params``: trainable parameters — what ``sum(p.numel() for p in model.parameters())`` gives;
- ``flops``: NAS-Bench-201's convention — multiply-adds of Conv2d and Linear, biases included;
- ``macs``: what fvcore counts for conv, linear and matmul — multiply-adds without biases.

:func:`network_cost` is what ``nader compile``, the width search and the session use; the backend
tests check it against the built torch module and fvcore for every corpus network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nader.backends.plan import NetworkPlan, NetworkPlanner
from nader.backends.presets import DatasetPreset
from nader.backends.skeletons import Skeleton
from nader.ir.graph import Network
from nader.ir.ops import Cost
from nader.ir.registry import OperatorRegistry


@dataclass(frozen=True)
class NetworkCost:
    """A network's totals and the share of each kind of block (stem, cell, downsample, ...)."""

    width: int
    params: int
    flops: int
    macs: int
    by_kind: dict[str, Cost]

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "params": self.params,
            "flops": self.flops,
            "macs": self.macs,
            "by_kind": {
                kind: {"params": c.params, "flops": c.flops, "macs": c.macs}
                for kind, c in self.by_kind.items()
            },
        }


def plan_cost(plan: NetworkPlan) -> NetworkCost:
    """Totals of a plan, with a per-kind breakdown."""
    by_kind: dict[str, Cost] = {}
    for instance in plan:
        by_kind[instance.kind] = by_kind.get(instance.kind, Cost()) + instance.cost
    total = plan.cost
    return NetworkCost(plan.width, total.params, total.flops, total.macs, by_kind)


def network_cost(
    network: Network,
    registry: OperatorRegistry,
    skeleton: Skeleton,
    dataset: DatasetPreset,
    width: int,
) -> NetworkCost:
    """Params and FLOPs of ``network`` stacked on ``skeleton`` at ``width`` for ``dataset``.

    :raises VerifyError: a block does not work at the sizes this width gives it.
    :raises BackendError: the file lacks a block the skeleton needs.
    """
    return plan_cost(NetworkPlanner(network, registry, skeleton, dataset).plan(width))


def summarize_network(
    network: Network,
    registry: OperatorRegistry,
    *,
    skeleton_name: str,
    dataset_name: str | None,
    width: int,
) -> dict[str, Any]:
    """What ``nader check --width`` reports for a file: the whole network's costs at ``width``.

    :raises NaderError: unknown skeleton or dataset, a missing block, or a block that does not
        work at the sizes the skeleton gives it.
    """
    from nader.backends.presets import dataset_preset
    from nader.backends.skeletons import skeleton_named

    skeleton = skeleton_named(skeleton_name)
    dataset = dataset_preset(dataset_name or skeleton.default_dataset)
    cost = network_cost(network, registry, skeleton, dataset, width)
    return {"skeleton": skeleton.name, "dataset": dataset.name, **cost.to_dict()}
