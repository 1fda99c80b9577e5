"""Turning the vendor SDKs' exceptions, and unusable answers, into nader's typed LLM errors.

The ``anthropic`` and ``openai`` SDKs share one generated exception layout (APITimeoutError,
APIConnectionError, RateLimitError, APIStatusError...), so one translation serves both; the
SDK module is passed in so neither SDK is imported here. The SDKs' own retries are disabled
(``max_retries=0``) and this module reads ``retry-after`` itself, so every retry is ours,
counted and bounded.

Nothing a server sends is trusted further than it has to be: error texts are cut to
:data:`MAX_ERROR_CHARS` and redacted (the SDK exception kept as the cause is redacted in place),
token counts must be non-negative integers (:func:`token_count`), and an answer longer than
``llm.max_answer_chars`` is refused (:func:`check_answer`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from types import ModuleType
from typing import Any

from nader.errors import ConfigError
from nader.llm.base import (
    LLMAnswerTooLarge,
    LLMConnectionError,
    LLMEmptyResponse,
    LLMError,
    LLMMalformedResponse,
    LLMRateLimited,
    LLMRefusal,
    LLMRequestRejected,
    LLMResponse,
    LLMServerError,
    LLMTimeout,
    LLMTruncated,
    Usage,
)
from nader.llm.config import LLMConfig
from nader.llm.pricing import estimate_input_tokens, estimate_tokens
from nader.llm.redaction import Redactor

#: 4xx statuses the vendors document as transient.
_TRANSIENT_CLIENT_STATUSES = frozenset({408, 409})
#: an error body quoted in a message is cut here (a proxy's error page can be megabytes)
MAX_ERROR_CHARS = 2_000
#: how much of a refused over-long answer is kept for the recording
ANSWER_PREVIEW_CHARS = 1_000


def bounded(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"


def import_sdk(name: str, provider: str) -> ModuleType:
    """Import a vendor SDK lazily, with an install hint when it is missing."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ConfigError(
            f"the {provider!r} LLM provider needs the {name!r} package: pip install {name}"
        ) from err


def sdk_timeout(sdk: ModuleType, config: LLMConfig) -> Any:
    """The SDK's timeout: connect within ``connect_timeout_s``, and no wait on the socket (for
    the answer, a write, a pooled connection) longer than ``timeout_s``."""
    return sdk.Timeout(config.timeout_s, connect=config.connect_timeout_s)


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, ``retry-after`` (seconds or an
    HTTP date); None when absent or unreadable."""
    if not headers:
        return None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@contextmanager
def translated_sdk_errors(
    sdk: ModuleType, *, provider: str, task: str, redact: Redactor | None = None
) -> Iterator[None]:
    """Re-raise the SDK's exceptions (and undecodable bodies) as :class:`LLMError` subclasses.

    With ``redact``, the SDK exception (kept as ``__cause__``, so it shows in tracebacks) has
    its message and body redacted in place first.
    """
    try:
        yield
    except (sdk.APIError, json.JSONDecodeError) as err:
        if redact is not None:
            _redact_exception(err, redact)
        raise _translated(sdk, err, provider=provider, task=task) from err


def _translated(sdk: ModuleType, err: Exception, *, provider: str, task: str) -> LLMError:
    if isinstance(err, sdk.APITimeoutError):
        return LLMTimeout("no complete answer within the timeout", provider=provider, task=task)
    if isinstance(err, sdk.APIConnectionError):
        return LLMConnectionError(
            f"could not reach the service: {bounded(str(err))}", provider=provider, task=task
        )
    if isinstance(err, sdk.APIStatusError):
        return _status_error(err, provider=provider, task=task)
    if isinstance(err, sdk.APIResponseValidationError):
        return LLMMalformedResponse(
            f"the response did not match the API schema: {bounded(str(err))}",
            provider=provider,
            task=task,
        )
    if isinstance(err, json.JSONDecodeError):
        return LLMMalformedResponse(
            f"the response body is not valid JSON: {bounded(str(err), 200)}",
            provider=provider,
            task=task,
        )
    return LLMError(f"{type(err).__name__}: {bounded(str(err))}", provider=provider, task=task)


def _redact_exception(err: BaseException, redact: Redactor) -> None:
    """Redact what an SDK exception would show: its args, ``message`` and ``body``."""
    err.args = tuple(redact(bounded(a)) if isinstance(a, str) else a for a in err.args)
    if isinstance(getattr(err, "message", None), str):
        err.message = redact(bounded(err.message))  # type: ignore[attr-defined]
    if getattr(err, "body", None) is not None:
        err.body = redact(bounded(json.dumps(err.body, default=str)))  # type: ignore[attr-defined]


def _status_error(err: Any, *, provider: str, task: str) -> LLMError:
    status = int(err.status_code)
    headers = err.response.headers if getattr(err, "response", None) is not None else None
    details: dict[str, Any] = {
        "provider": provider,
        "task": task,
        "status": status,
        "request_id": getattr(err, "request_id", None),
    }
    text = bounded(getattr(err, "message", None) or str(err))
    if status == 429:
        return LLMRateLimited(
            f"rate limited: {text}", retry_after_s=parse_retry_after(headers), **details
        )
    if status >= 500:
        return LLMServerError(
            f"server error: {text}", retry_after_s=parse_retry_after(headers), **details
        )
    hint = ""
    if status in (401, 403):
        hint = " (check the API key in the environment variable named by llm.api_key_env)"
    return LLMRequestRejected(
        f"request rejected: {text}{hint}",
        retryable=status in _TRANSIENT_CLIENT_STATUSES,
        **details,
    )


def check_answer(
    response: LLMResponse,
    *,
    task: str,
    refusal: str | None,
    truncated: bool,
    max_chars: int | None = None,
) -> LLMResponse:
    """Return ``response`` if it is a usable answer, else raise what is wrong with it.

    :param refusal: why the model refused (a refusal text, or the stop/finish reason), or None
    :param truncated: the answer stopped at the token limit
    :param max_chars: the longest answer accepted (``llm.max_answer_chars``)
    :raises LLMAnswerTooLarge, LLMRefusal, LLMTruncated, LLMEmptyResponse: carrying the billed
        usage and (the beginning of) the text
    """

    def failure(kind: type[LLMError], message: str, partial_text: str | None) -> LLMError:
        return kind(
            message,
            provider=response.provider,
            task=task,
            request_id=response.request_id,
            usage=response.usage,
            partial_text=partial_text,
        )

    if max_chars is not None and len(response.text) > max_chars:
        raise failure(
            LLMAnswerTooLarge,
            f"the answer has {len(response.text)} characters, more than llm.max_answer_chars = "
            f"{max_chars}; it is not used",
            response.text[:ANSWER_PREVIEW_CHARS],
        )
    if refusal is not None:
        raise failure(LLMRefusal, f"the model refused to answer ({refusal})", response.text or None)
    if truncated:
        raise failure(
            LLMTruncated,
            f"the answer was cut off at the token limit ({response.finish_reason}); "
            "raise llm.max_tokens",
            response.text,
        )
    if not response.text.strip():
        raise failure(
            LLMEmptyResponse,
            f"the answer has no text (finish reason {response.finish_reason!r})",
            None,
        )
    return response


def token_count(value: Any, name: str, *, provider: str, task: str) -> int:
    """A token count from a response: a non-negative integer, 0 when absent.

    :raises LLMMalformedResponse: for anything else (a string, a float, a bool, a negative
        number): the answer is retried like any malformed one, and totals never go down.
    """
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LLMMalformedResponse(
            f"usage.{name} is {bounded(repr(value), 40)}, not a non-negative integer",
            provider=provider,
            task=task,
        )
    return value


def estimated_usage(request: Any, text: str = "") -> Usage:
    """What a call cost when the server does not say: the prompt sent and the text received."""
    return Usage(input_tokens=estimate_input_tokens(request), output_tokens=estimate_tokens(text))
