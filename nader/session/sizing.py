"""Sizing: the dataset's compile-time facts, and every network's width within the budget.

Every architecture of a run — the base included — is sized the same way: a fixed
``base.width``, or the largest width whose network fits ``max_params``/``max_flops`` (by default
the dataset's NAS-Bench-201 limits), by the IR cost model alone (no torch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nader.backends.plan import NetworkPlanner
from nader.backends.presets import DatasetPreset, dataset_preset, preset_for
from nader.backends.skeletons import skeleton_named
from nader.backends.width import CostBudget, search_width
from nader.data.base import DatasetSplits
from nader.data.load import load_dataset
from nader.errors import ConfigError, NaderError
from nader.ir.graph import Network
from nader.ir.structure import Structure
from nader.plugins.registries import Runtime
from nader.session.config import SessionConfig


@dataclass(frozen=True)
class Sizing:
    """A network's width and its analytic params/FLOPs at that width."""

    width: int
    params: int
    flops: int


class Sizer:
    """Sizes networks for one run: its skeleton, its dataset and its budget."""

    def __init__(
        self, config: SessionConfig, runtime: Runtime, data: DatasetSplits | None = None
    ) -> None:
        """``data``: the run's dataset when the caller loaded it already (it is not kept)."""
        self.config = config
        self.runtime = runtime
        self.skeleton = skeleton_named(config.base.skeleton)
        self.preset = _dataset_preset(config, data or session_dataset(config, runtime))

    def size(self, network: Network, verified: Sequence[Structure] = ()) -> Sizing:
        """Width (fixed, or the largest within budget) and its analytic params/FLOPs.

        :param verified: structures the verifier already made of ``network``'s blocks.
        :raises NaderError: no width fits (``WidthSearchError``), or the network does not
            fit the skeleton.
        """
        base = self.config.base
        planner = NetworkPlanner(
            network, self.runtime.operators, self.skeleton, self.preset, verified=verified
        )
        if base.width is not None:
            plan = planner.plan(base.width, exact_divisions=True)
            return Sizing(base.width, plan.cost.params, plan.cost.flops)
        max_params = base.max_params or self.preset.max_params
        max_flops = base.max_flops or self.preset.max_flops
        if max_params is None and max_flops is None:
            raise ConfigError(
                "base: give width, or max_params/max_flops (the dataset has no NAS-Bench-201 preset)"
            )
        result = search_width(planner, CostBudget(max_params=max_params, max_flops=max_flops))
        return Sizing(result.width, result.plan.cost.params, result.plan.cost.flops)


def session_dataset(config: SessionConfig, runtime: Runtime) -> DatasetSplits:
    """The run's dataset, as ``[dataset]`` names it (read from disk, or made)."""
    ds = config.dataset
    return load_dataset(
        ds.name, data_dir=ds.data_dir, split_file=ds.split_file, seed=ds.seed, runtime=runtime
    )


def _dataset_preset(config: SessionConfig, data: DatasetSplits) -> DatasetPreset:
    """The loaded dataset's shape and classes, with its NAS-Bench-201 budget when it has one."""
    try:
        known = dataset_preset(config.dataset.name)
        max_params, max_flops = known.max_params, known.max_flops
    except NaderError:
        max_params = max_flops = None
    return preset_for(data, max_params, max_flops)
