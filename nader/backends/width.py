"""Width search: the largest base width whose network fits a parameter/FLOP budget.

NAS-Bench-201's protocol compares architectures at equal cost, so every design is widened or
narrowed to the largest width that meets the budget (DESIGN §1). The authors built the torch
model and profiled it at every step of a binary search; here each step is the IR cost model
(:mod:`nader.backends.plan`), which needs no torch and gives the same numbers.

Which widths are *valid* is read from the IR too: a width is valid when every block instance
passes shape inference at its sizes (``groups`` divide the channels, reshapes keep the element
count, ...) and every size division is exact (``C/4`` with C a multiple of 4). The search

1. scans upwards for the smallest valid width ``w0``;
2. takes as step ``g`` the smallest divisor of ``w0`` such that ``w0 + g`` and ``w0 + 2g`` are
   valid too (valid widths are then ``w0 + k*g``: multiples of the blocks' common divisibility);
3. finds the largest ``k`` that fits by doubling then bisection, relying on costs growing with
   width (they do: every size grows with C and dim).

The result names its step, so a caller can check that ``width + step`` does not fit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from nader.backends.plan import NetworkPlan, NetworkPlanner
from nader.errors import NaderError, WidthSearchError
from nader.ir.ops import Cost

#: The scan for the smallest valid width gives up beyond this.
MAX_SCAN_WIDTH = 1024
#: Widths beyond this are never tried (the IR's channel limit is 65,536).
MAX_WIDTH = 1 << 14


@dataclass(frozen=True)
class CostBudget:
    """Upper bounds on params and on FLOPs (NAS-Bench-201 convention, per sample); None = no bound."""

    max_params: int | None = None
    max_flops: int | None = None

    def admits(self, cost: Cost) -> bool:
        if self.max_params is not None and cost.params > self.max_params:
            return False
        return self.max_flops is None or cost.flops <= self.max_flops

    def is_unbounded(self) -> bool:
        return self.max_params is None and self.max_flops is None

    def describe(self) -> str:
        parts = []
        if self.max_params is not None:
            parts.append(f"params <= {self.max_params:,}")
        if self.max_flops is not None:
            parts.append(f"FLOPs <= {self.max_flops:,}")
        return " and ".join(parts) or "no bound"


#: ``measure(width)`` returns the network's cost at ``width``, or None if the width is invalid.
Measure = Callable[[int], "Cost | None"]


@dataclass
class SearchTrace:
    """What a search looked at, for reports and the benchmark."""

    validity_checks: int = 0
    measurements: list[tuple[int, Cost]] = field(default_factory=list)


@dataclass(frozen=True)
class WidthChoice:
    width: int
    step: int
    cost: Cost
    trace: SearchTrace


def search_largest_width(
    is_valid: Callable[[int], bool],
    measure: Measure,
    budget: CostBudget,
    *,
    max_scan: int = MAX_SCAN_WIDTH,
    max_width: int = MAX_WIDTH,
    explain_invalid: Callable[[int], str] | None = None,
) -> WidthChoice:
    """The search itself, independent of how validity and cost are obtained.

    ``explain_invalid(width)`` says why a width is invalid, for the error when none is valid.

    :raises WidthSearchError: no valid width up to ``max_scan``, the budget is unbounded, or even
        the smallest valid width is over budget.
    """
    if budget.is_unbounded():
        raise WidthSearchError("a width search needs a budget: give max params and/or max FLOPs")
    trace = SearchTrace()

    def valid(width: int) -> bool:
        trace.validity_checks += 1
        return is_valid(width)

    def cost_at(width: int) -> Cost | None:
        cost = measure(width)
        if cost is not None:
            trace.measurements.append((width, cost))
        return cost

    smallest = next((w for w in range(1, max_scan + 1) if valid(w)), None)
    if smallest is None:
        example = min(16, max_scan)
        reason = f"; at width {example}: {explain_invalid(example)}" if explain_invalid else ""
        raise WidthSearchError(
            f"no width from 1 to {max_scan} is valid for every block (channel divisibility, "
            f"groups, reshapes, output shapes){reason}"
        )
    step = next(
        (d for d in _divisors(smallest) if valid(smallest + d) and valid(smallest + 2 * d)),
        smallest,
    )
    base_cost = cost_at(smallest)
    if base_cost is None or not budget.admits(base_cost):
        got = (
            "is invalid"
            if base_cost is None
            else f"has {base_cost.params:,} params and {base_cost.flops:,} FLOPs"
        )
        raise WidthSearchError(
            f"no width fits {budget.describe()}: the smallest valid width, {smallest}, {got}"
        )

    def fits(k: int) -> Cost | None:
        width = smallest + k * step
        if width > max_width:
            return None
        cost = cost_at(width)
        return cost if cost is not None and budget.admits(cost) else None

    low, low_cost, high = 0, base_cost, 1
    while (cost := fits(high)) is not None:
        low, low_cost, high = high, cost, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        cost = fits(middle)
        if cost is not None:
            low, low_cost = middle, cost
        else:
            high = middle
    return WidthChoice(smallest + low * step, step, low_cost, trace)


def _divisors(number: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(number) + 1) if number % d == 0]
    return sorted(set(small + [number // d for d in small]))


@dataclass(frozen=True)
class WidthResult:
    """The chosen width, its plan and costs, and the step between valid widths."""

    width: int
    step: int
    plan: NetworkPlan
    cost: Cost
    budget: CostBudget
    trace: SearchTrace


def plan_if_valid(planner: NetworkPlanner, width: int) -> NetworkPlan | None:
    """The plan at ``width`` if the width is valid (shapes work, divisions exact), else None."""
    try:
        return planner.plan(width, exact_divisions=True)
    except NaderError:
        return None


def search_width(planner: NetworkPlanner, budget: CostBudget, **limits: int) -> WidthResult:
    """Largest valid width whose network meets ``budget``, using the IR cost model only."""

    def measure(width: int) -> Cost | None:
        plan = plan_if_valid(planner, width)
        return None if plan is None else plan.cost

    def is_valid(width: int) -> bool:
        return plan_if_valid(planner, width) is not None

    def explain_invalid(width: int) -> str:
        try:
            planner.plan(width, exact_divisions=True)
        except NaderError as err:
            return str(err)
        return "valid"

    choice = search_largest_width(
        is_valid, measure, budget, explain_invalid=explain_invalid, **limits
    )
    plan = planner.plan(choice.width, exact_divisions=True)
    return WidthResult(choice.width, choice.step, plan, plan.cost, budget, choice.trace)
