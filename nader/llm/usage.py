"""Running totals of tokens and dollars (per run, per agent role, per architecture) and budgets.

The ledger is only ever *added to*, from the same call records the client appends to the run
directory, so a resumed run rebuilds exactly the totals it had when it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nader.llm.base import BudgetExhausted, Usage


@dataclass
class UsageTotals:
    """Tokens, dollars and call count for one slice of the run (all, one role, one architecture)."""

    tokens: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    calls: int = 0

    def add(self, usage: Usage, cost_usd: float) -> None:
        self.tokens += usage
        self.cost_usd += cost_usd
        self.calls += 1

    def to_dict(self) -> dict[str, Any]:
        return {**self.tokens.to_dict(), "cost_usd": round(self.cost_usd, 6), "calls": self.calls}


@dataclass
class UsageLedger:
    """What the run has spent, sliced by agent role and by architecture.

    ``calls`` counts logical calls (one ``LLMClient.complete``), ``failures`` those that ended
    in an error, ``retries`` the extra attempts made inside calls.
    """

    total: UsageTotals = field(default_factory=UsageTotals)
    by_role: dict[str, UsageTotals] = field(default_factory=dict)
    by_architecture: dict[str, UsageTotals] = field(default_factory=dict)
    failures: int = 0
    retries: int = 0

    @property
    def calls(self) -> int:
        return self.total.calls

    def add_call(
        self,
        *,
        role: str,
        architecture: str | None,
        usage: Usage,
        cost_usd: float,
        failed: bool,
        retries: int,
    ) -> None:
        self.total.add(usage, cost_usd)
        self.by_role.setdefault(role or "unassigned", UsageTotals()).add(usage, cost_usd)
        if architecture is not None:
            self.by_architecture.setdefault(architecture, UsageTotals()).add(usage, cost_usd)
        self.failures += int(failed)
        self.retries += retries

    def to_dict(self) -> dict[str, Any]:
        """The ``usage`` object of ``summary.json``."""
        return {
            **self.total.to_dict(),
            "by_role": {name: totals.to_dict() for name, totals in sorted(self.by_role.items())},
            "by_architecture": {
                name: totals.to_dict() for name, totals in sorted(self.by_architecture.items())
            },
            "failures": self.failures,
            "retries": self.retries,
        }


@dataclass(frozen=True)
class Budget:
    """Token and dollar ceilings for a run (None: no ceiling)."""

    tokens: int | None = None
    usd: float | None = None

    def check(self, spent: UsageTotals, estimated_tokens: int, estimated_usd: float) -> None:
        """Raise :class:`BudgetExhausted` when this call could reach a ceiling.

        Checked *before* sending: what was spent plus the request's estimated input already
        reaching the ceiling means the call is not made.
        """
        if self.tokens is not None and spent.tokens.total_tokens + estimated_tokens >= self.tokens:
            raise BudgetExhausted(
                f"token budget exhausted: {spent.tokens.total_tokens} tokens spent + ~{estimated_tokens} "
                f"for this request >= budget of {self.tokens}"
            )
        if self.usd is not None and spent.cost_usd + estimated_usd >= self.usd:
            raise BudgetExhausted(
                f"dollar budget exhausted: ${spent.cost_usd:.4f} spent + ~${estimated_usd:.4f} "
                f"for this request >= budget of ${self.usd:.4f}"
            )
