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
    """Tokens one call (or a sum of calls) consumed.

    ``input_tokens`` counts *every* prompt token the model read, cached or not (the OpenAI
    convention); ``cached_input_tokens`` is the part served from the prompt cache and
    ``cache_creation_tokens`` the part written to it (Anthropic bills both differently).
    Providers whose API reports them separately (Anthropic) add them up before building this.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_creation_tokens: int = 0

    def __post_init__(self) -> None:
        # the invariant that keeps every total honest: a count is a non-negative integer, so
        # no sum of usages can go down (providers turn a bad count into LLMMalformedResponse
        # before building one; this catches any other path)
        for name, value in self.to_dict().items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Usage.{name} must be a non-negative integer, not {value!r}")

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.cache_creation_tokens + other.cache_creation_tokens,
        )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "cache_creation_tokens": self.cache_creation_tokens,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Usage:
        return cls(
            int(data.get("input_tokens", 0)),
            int(data.get("output_tokens", 0)),
            int(data.get("cached_input_tokens", 0)),
            int(data.get("cache_creation_tokens", 0)),
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
    """What ``register_llm_providers`` factories return: ``factory(config) -> provider``.

    ``complete`` sends one request and returns the answer, or raises an :class:`LLMError`
    subclass whose ``retryable`` says whether the same request may succeed later. Providers do
    not retry, record or count: :class:`nader.llm.client.LLMClient` does that for all of them.
    """

    name: str

    def complete(self, request: LLMRequest) -> LLMResponse: ...


class LLMError(NaderError):
    """A call to a model failed; ``retryable`` says whether trying again may help.

    Besides the message an error carries what the client needs to act and account: the
    provider and task, the HTTP status, the wait the server asked for (``retry_after_s``), the
    provider's request id, tokens billed for a bad answer (``usage``), the partial text of a
    truncated answer, and (set by the client) how many ``attempts`` were made.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        task: str | None = None,
        status: int | None = None,
        retry_after_s: float | None = None,
        request_id: str | None = None,
        usage: Usage | None = None,
        partial_text: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.task = task
        self.status = status
        self.retry_after_s = retry_after_s
        self.request_id = request_id
        self.usage = usage if usage is not None else Usage()
        self.partial_text = partial_text
        self.attempts = 1
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        where = [f"{k}={v}" for k, v in (("provider", self.provider), ("task", self.task)) if v]
        if self.status is not None:
            where.append(f"status={self.status}")
        if self.attempts > 1:
            where.append(f"attempts={self.attempts}")
        return f"{self.message} ({', '.join(where)})" if where else self.message


class LLMTimeout(LLMError):
    """No answer within the configured timeout."""

    retryable = True


class LLMConnectionError(LLMError):
    """The service could not be reached or dropped the connection."""

    retryable = True


class LLMRateLimited(LLMError):
    """HTTP 429: too many requests; ``retry_after_s`` holds the server's requested wait."""

    retryable = True


class LLMServerError(LLMError):
    """HTTP 5xx (incl. Anthropic's 529 "overloaded"): the service failed, not the request."""

    retryable = True


class LLMRequestRejected(LLMError):
    """HTTP 4xx other than 429 (bad request, authentication, unknown model...).

    Not retryable, except 408 (request timeout) and 409 (conflict), which the vendors document
    as transient.
    """


class LLMMalformedResponse(LLMError):
    """The body was not valid JSON or lacked the fields an answer needs."""

    retryable = True


class LLMEmptyResponse(LLMError):
    """The answer carried no text."""

    retryable = True


class LLMRefusal(LLMError):
    """The model refused (stop_reason "refusal", finish_reason "content_filter", refusal text)."""


class LLMTruncated(LLMError):
    """The answer hit ``max_tokens``; ``partial_text`` holds what came back."""


class LLMAnswerTooLarge(LLMError):
    """The answer is longer than ``llm.max_answer_chars``: refused for this turn, never fed back.

    ``partial_text`` holds only its beginning, so the recording stays small.
    """


class LLMProviderError(LLMError):
    """A provider raised something that is not an :class:`LLMError` (a bug in the provider)."""


class ReplayMiss(LLMError):
    """``provider = "replay"`` found no recorded answer for this request (or this occurrence)."""

    def __init__(self, message: str, *, key: str, occurrence: int, task: str | None = None) -> None:
        super().__init__(message, provider="replay", task=task)
        self.key = key
        self.occurrence = occurrence


class BudgetExhausted(LLMError):
    """The token or dollar budget is spent; the run ends cleanly.

    The only LLM error meant to stop a run: every other one is about a single call.
    """


class ProviderUnavailable(NaderError):
    """The provider could not be reached, or refused us, on several calls in a row: the run stops.

    Deliberately *not* an :class:`LLMError`: agents treat an LLMError as one failed turn and go
    on, but no turn can succeed against a dead endpoint or a refused key, so this passes through
    them to the session. The message names the provider, the endpoint and the last error.
    """

    def __init__(self, message: str, *, provider: str, endpoint: str, last_error: LLMError):
        super().__init__(message)
        self.provider = provider
        self.endpoint = endpoint
        self.last_error = last_error


#: Error types a recording may name, by class name. Recorded errors are rebuilt from this
#: fixed table, never by importing a name found in a file.
RECORDABLE_ERRORS: dict[str, type[LLMError]] = {
    cls.__name__: cls
    for cls in (
        LLMError,
        LLMTimeout,
        LLMConnectionError,
        LLMRateLimited,
        LLMServerError,
        LLMRequestRejected,
        LLMMalformedResponse,
        LLMEmptyResponse,
        LLMRefusal,
        LLMTruncated,
        LLMAnswerTooLarge,
        LLMProviderError,
    )
}
