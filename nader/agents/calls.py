"""One door to the LLM for every agent, so that each call is labelled for the usage ledger.

Agents never call ``llm.complete`` themselves: :class:`AgentCaller` builds the
:class:`~nader.llm.base.LLMRequest` with its ``task``, ``role``, ``fields`` and ``architecture``
set. The LLM books each call into the run's one :class:`~nader.llm.usage.UsageLedger` (an
:class:`~nader.llm.client.LLMClient` does; a bare provider is wrapped by
:func:`~nader.llm.usage.accounted`), and agents read slices of that ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from nader.llm.base import LLMRequest, LLMResponse, Message
from nader.llm.usage import CompletesRequests, UsageLedger, accounted

log = logging.getLogger(__name__)


class AgentCaller:
    """Builds labelled requests and sends them through an accounted LLM."""

    def __init__(
        self,
        llm: CompletesRequests,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self.llm = accounted(llm)
        self.temperature = temperature
        self.max_tokens = max_tokens

    @property
    def ledger(self) -> UsageLedger:
        return self.llm.usage

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
        log.debug("%s/%s for %s: %s", role, task, architecture, response.usage)
        return response
