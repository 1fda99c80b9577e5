"""The ``nader compile`` pipeline as a library call: verify → plan (or width search) → fx → check.

:func:`compile_network` verifies every block of the file (the same checks as ``nader check``),
places the blocks on a skeleton at a given width or at the largest width that fits a budget,
builds the ``torch.fx`` module, and confirms the analytic costs on the built module: its parameter
count, and fvcore's count of conv/linear/matmul multiply-adds. A disagreement is a bug in an
operator's cost rule or lowering, so it is an error rather than a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import fx

from nader.backends.fx_build import build_network, count_parameters
from nader.backends.lowering import Lowering
from nader.backends.plan import NetworkPlan, NetworkPlanner
from nader.backends.presets import DatasetPreset
from nader.backends.profile import fvcore_macs
from nader.backends.skeletons import Skeleton
from nader.backends.width import CostBudget, SearchTrace, search_width
from nader.errors import BackendError, VerifyError
from nader.ir.check import check_network
from nader.ir.graph import Network
from nader.ir.registry import OperatorRegistry


@dataclass(frozen=True)
class CompileResult:
    """A compiled network and the numbers that describe it."""

    plan: NetworkPlan
    module: fx.GraphModule
    width: int
    #: distance to the next valid width (from the width search); None for a given width
    step: int | None
    budget: CostBudget | None
    fvcore_flops: int
    trace: SearchTrace | None = None

    @property
    def params(self) -> int:
        return self.plan.cost.params

    @property
    def flops(self) -> int:
        return self.plan.cost.flops

    @property
    def macs(self) -> int:
        return self.plan.cost.macs

    def to_dict(self) -> dict[str, Any]:
        return {
            "skeleton": self.plan.skeleton.name,
            "depths": list(self.plan.skeleton.depths),
            "dataset": self.plan.dataset.name,
            "input_shape": list(self.plan.input_shape[1:]),
            "num_classes": self.plan.dataset.num_classes,
            "width": self.width,
            "step": self.step,
            "params": self.params,
            "flops": self.flops,
            "macs": self.macs,
            "fvcore_flops": self.fvcore_flops,
            "budget": None
            if self.budget is None
            else {"max_params": self.budget.max_params, "max_flops": self.budget.max_flops},
        }


def verify_network_file(network: Network, registry: OperatorRegistry) -> None:
    """Every block must pass the verifier (``nader check``) before it is compiled."""
    problems = [d for report in check_network(network, registry) for d in report.errors]
    if problems:
        raise VerifyError(problems)


def compile_network(
    network: Network,
    registry: OperatorRegistry,
    lowerings: Mapping[str, Lowering],
    *,
    skeleton: Skeleton,
    dataset: DatasetPreset,
    width: int | None = None,
    budget: CostBudget | None = None,
) -> CompileResult:
    """Compile ``network`` at ``width``, or at the largest width within ``budget``.

    :raises VerifyError: a block is invalid, or does not work at the sizes the skeleton gives it.
    :raises WidthSearchError: no valid width fits the budget.
    :raises BackendError: a lowering is missing or failed, or the built module's counts differ
        from the analytic ones.
    """
    if (width is None) == (budget is None):
        raise BackendError("give either a width or a budget")
    verify_network_file(network, registry)
    planner = NetworkPlanner(network, registry, skeleton, dataset)
    step: int | None = None
    trace: SearchTrace | None = None
    if width is not None:
        plan = planner.plan(width)
    else:
        assert budget is not None
        result = search_width(planner, budget)
        plan, step, trace = result.plan, result.step, result.trace
    module = build_network(plan, lowerings)
    counted = count_parameters(module)
    if counted != plan.cost.params:
        raise BackendError(
            f"the built module has {counted:,} parameters but the cost model says "
            f"{plan.cost.params:,}: an operator's cost rule and its lowering disagree"
        )
    measured = fvcore_macs(module, plan.input_shape)
    if measured != plan.cost.macs:
        raise BackendError(
            f"fvcore counts {measured:,} conv/linear/matmul multiply-adds but the cost model says "
            f"{plan.cost.macs:,}: an operator's cost rule and its lowering disagree"
        )
    return CompileResult(plan, module, plan.width, step, budget, measured, trace)
