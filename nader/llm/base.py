"""The provider interface every LLM backend implements (and the offline designer too).

A request carries the agent *task* (``"modify_block"``, ``"rank_inspirations"``...), the
structured *fields* the prompt was rendered from, and the rendered *messages*. Live providers
send the messages; the offline designer answers from the fields; recordings are keyed by
provider, model, parameters and messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from nader.errors import NaderError


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str
    #: The message is a long static prefix (e.g. the block-format definition) worth caching.
    cache: bool = False


@dataclass(frozen=True)
class LLMRequest:
    task: str
    messages: tuple[Message, ...]
    fields: Mapping[str, Any] = field(default_factory=dict)
    #: the agent role making the call: "reader", "proposer", "modifier", "reflector"
    role: str = ""
    #: the architecture this call works towards, for per-architecture accounting
    architecture: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_creation_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.cache_creation_tokens + other.cache_creation_tokens,
        )


@dataclass(frozen=True)
class LLMResponse:
    text: str
    usage: Usage
    model: str
    provider: str
    latency_s: float = 0.0
    request_id: str | None = None
    finish_reason: str | None = None
    cost_usd: float = 0.0


@runtime_checkable
class LLMProvider(Protocol):
    """What ``register_llm_providers`` factories return."""

    name: str

    def complete(self, request: LLMRequest) -> LLMResponse: ...


class LLMError(NaderError):
    """A call to a model failed; ``retryable`` says whether trying again may help."""

    retryable: bool = False


class BudgetExhausted(LLMError):
    """The token or dollar budget is spent; the run ends cleanly."""
