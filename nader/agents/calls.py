"""One door to the LLM for every agent, so that each call is labelled and accounted for.

Agents never call ``llm.complete`` themselves: :class:`AgentCaller` builds the
:class:`~nader.llm.base.LLMRequest` with its ``task``, ``role``, ``fields`` and ``architecture``
set (the provider layer keys budgets, recordings and per-architecture cost on them) and appends a
:class:`CallRecord` to a ledger, from which a design outcome reports its usage call by call.
The injected ``llm`` is anything with ``complete(request)``: a live client, a recording replayer,
the offline designer, or a scripted test provider.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from nader.llm.base import LLMRequest, LLMResponse, Message, Usage

log = logging.getLogger(__name__)


class CompletesRequests(Protocol):
    """What agents need from an LLM: the provider protocol without the name."""

    def complete(self, request: LLMRequest) -> LLMResponse: ...


def estimate_tokens(text: str) -> int:
    """Characters / 4, the rough rule used where no tokenizer is available (offline, reports)."""
    return (len(text) + 3) // 4


@dataclass(frozen=True)
class CallRecord:
    """What one LLM call cost and what it was for."""

    task: str
    role: str
    architecture: str | None
    provider: str
    model: str
    usage: Usage
    cost_usd: float = 0.0
    latency_s: float = 0.0
    prompt_chars: int = 0
    answer_chars: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["usage"] = asdict(self.usage)
        return data


@dataclass
class UsageLedger:
    """Every call made by a team, in order."""

    records: list[CallRecord] = field(default_factory=list)

    def add(self, record: CallRecord) -> None:
        self.records.append(record)

    def since(self, start: int) -> tuple[CallRecord, ...]:
        return tuple(self.records[start:])

    def for_architecture(self, architecture: str) -> tuple[CallRecord, ...]:
        return tuple(r for r in self.records if r.architecture == architecture)

    def total(self, records: Sequence[CallRecord] | None = None) -> Usage:
        usage = Usage()
        for record in self.records if records is None else records:
            usage = usage + record.usage
        return usage


class AgentCaller:
    """Builds labelled requests, sends them, and books the usage."""

    def __init__(
        self,
        llm: CompletesRequests,
        ledger: UsageLedger | None = None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self.llm = llm
        self.ledger = ledger if ledger is not None else UsageLedger()
        self.temperature = temperature
        self.max_tokens = max_tokens

    def ask(
        self,
        *,
        task: str,
        role: str,
        messages: Sequence[Message],
        fields: Mapping[str, Any],
        architecture: str | None,
    ) -> LLMResponse:
        request = LLMRequest(
            task=task,
            messages=tuple(messages),
            fields=dict(fields),
            role=role,
            architecture=architecture,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )
        response = self.llm.complete(request)
        prompt_chars = sum(len(m.content) for m in request.messages)
        self.ledger.add(
            CallRecord(
                task=task,
                role=role,
                architecture=architecture,
                provider=response.provider,
                model=response.model,
                usage=response.usage,
                cost_usd=response.cost_usd,
                latency_s=response.latency_s,
                prompt_chars=prompt_chars,
                answer_chars=len(response.text),
            )
        )
        log.debug("%s/%s for %s: %s", role, task, architecture, response.usage)
        return response
