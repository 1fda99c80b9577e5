"""The one usage ledger of a run: every LLM call, in order, and totals sliced by role and
architecture; and the token/dollar budget checked against it.

The ledger is only ever *added to*: by :class:`~nader.llm.client.LLMClient` from the same call
records it appends to the run directory (so a resumed run rebuilds exactly the totals it had when
it stopped), or by :class:`AccountedLLM` around a bare provider (tests, notebooks). Agents never
book usage; they read slices (:meth:`UsageLedger.since`, :meth:`UsageLedger.for_architecture`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from nader.llm.base import BudgetExhausted, LLMError, LLMRequest, LLMResponse, Usage


@dataclass(frozen=True)
class UsageEntry:
    """What one logical LLM call cost and what it was for (all its attempts together)."""

    task: str
    role: str
    architecture: str | None
    provider: str
    model: str
    usage: Usage
    cost_usd: float = 0.0
    latency_s: float = 0.0
    failed: bool = False
    retries: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["usage"] = self.usage.to_dict()
        return data


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
    """What the run has spent: every call in order, and totals by agent role and architecture.

    ``calls`` counts logical calls (one ``LLMClient.complete``), ``failures`` those that ended
    in an error, ``retries`` the extra attempts made inside calls.
    """

    entries: list[UsageEntry] = field(default_factory=list)
    total: UsageTotals = field(default_factory=UsageTotals)
    by_role: dict[str, UsageTotals] = field(default_factory=dict)
    by_architecture: dict[str, UsageTotals] = field(default_factory=dict)
    failures: int = 0
    retries: int = 0

    @property
    def calls(self) -> int:
        return self.total.calls

    def add(self, entry: UsageEntry) -> None:
        self.entries.append(entry)
        usage, cost = entry.usage, entry.cost_usd
        self.total.add(usage, cost)
        self.by_role.setdefault(entry.role or "unassigned", UsageTotals()).add(usage, cost)
        if entry.architecture is not None:
            self.by_architecture.setdefault(entry.architecture, UsageTotals()).add(usage, cost)
        self.failures += int(entry.failed)
        self.retries += entry.retries

    def mark(self) -> int:
        """A position to read :meth:`since` from."""
        return len(self.entries)

    def since(self, mark: int) -> tuple[UsageEntry, ...]:
        return tuple(self.entries[mark:])

    def for_architecture(self, architecture: str) -> tuple[UsageEntry, ...]:
        return tuple(e for e in self.entries if e.architecture == architecture)

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


def total_usage(entries: Sequence[UsageEntry]) -> Usage:
    """Tokens of a slice of the ledger."""
    usage = Usage()
    for entry in entries:
        usage = usage + entry.usage
    return usage


class CompletesRequests(Protocol):
    """What agents need from an LLM: the provider protocol without the name."""

    def complete(self, request: LLMRequest) -> LLMResponse: ...


class AccountedLLM(Protocol):
    """An LLM that books every call it answers into its :attr:`usage` ledger."""

    usage: UsageLedger

    def complete(self, request: LLMRequest) -> LLMResponse: ...


class Accounted:
    """Books the calls of a bare provider (no budgets, retries or recording: that is
    :class:`~nader.llm.client.LLMClient`'s job) into a ledger, so agents can read their usage."""

    def __init__(self, llm: CompletesRequests, usage: UsageLedger | None = None) -> None:
        self.llm = llm
        self.usage = usage if usage is not None else UsageLedger()

    def complete(self, request: LLMRequest) -> LLMResponse:
        try:
            response = self.llm.complete(request)
        except LLMError as err:
            provider = str(getattr(self.llm, "name", err.provider or "?"))
            self.usage.add(_entry(request, provider, "?", Usage(), failed=True))
            raise
        self.usage.add(
            _entry(
                request,
                response.provider,
                response.model,
                response.usage,
                cost_usd=response.cost_usd,
                latency_s=response.latency_s,
            )
        )
        return response


def accounted(llm: CompletesRequests) -> AccountedLLM:
    """``llm`` itself when it keeps a ledger (an :class:`LLMClient`), else it wrapped in one."""
    if isinstance(getattr(llm, "usage", None), UsageLedger):
        return llm  # type: ignore[return-value]
    return Accounted(llm)


def _entry(
    request: LLMRequest,
    provider: str,
    model: str,
    usage: Usage,
    *,
    cost_usd: float = 0.0,
    latency_s: float = 0.0,
    failed: bool = False,
    retries: int = 0,
) -> UsageEntry:
    return UsageEntry(
        task=request.task,
        role=request.role,
        architecture=request.architecture,
        provider=provider,
        model=model,
        usage=usage,
        cost_usd=cost_usd,
        latency_s=latency_s,
        failed=failed,
        retries=retries,
    )
