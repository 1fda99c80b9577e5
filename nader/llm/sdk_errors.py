"""Turning the vendor SDKs' exceptions, and unusable answers, into nader's typed LLM errors.

The ``anthropic`` and ``openai`` SDKs share one generated exception layout (APITimeoutError,
APIConnectionError, RateLimitError, APIStatusError...), so one translation serves both; the
SDK module is passed in so neither SDK is imported here. The SDKs' own retries are disabled
(``max_retries=0``) and this module reads ``retry-after`` itself, so every retry is ours,
counted and bounded.
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
)
from nader.llm.config import LLMConfig

#: 4xx statuses the vendors document as transient.
_TRANSIENT_CLIENT_STATUSES = frozenset({408, 409})


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
def translated_sdk_errors(sdk: ModuleType, *, provider: str, task: str) -> Iterator[None]:
    """Re-raise the SDK's exceptions (and undecodable bodies) as :class:`LLMError` subclasses."""
    try:
        yield
    except sdk.APITimeoutError as err:
        raise LLMTimeout("no answer within the timeout", provider=provider, task=task) from err
    except sdk.APIConnectionError as err:
        raise LLMConnectionError(
            f"could not reach the service: {err}", provider=provider, task=task
        ) from err
    except sdk.APIStatusError as err:
        raise _status_error(err, provider=provider, task=task) from err
    except sdk.APIResponseValidationError as err:
        raise LLMMalformedResponse(
            f"the response did not match the API schema: {err}", provider=provider, task=task
        ) from err
    except json.JSONDecodeError as err:
        raise LLMMalformedResponse(
            f"the response body is not valid JSON: {err}", provider=provider, task=task
        ) from err


def _status_error(err: Any, *, provider: str, task: str) -> LLMError:
    status = int(err.status_code)
    headers = err.response.headers if getattr(err, "response", None) is not None else None
    details: dict[str, Any] = {
        "provider": provider,
        "task": task,
        "status": status,
        "request_id": getattr(err, "request_id", None),
    }
    text = getattr(err, "message", None) or str(err)
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
    response: LLMResponse, *, task: str, refusal: str | None, truncated: bool
) -> LLMResponse:
    """Return ``response`` if it is a usable answer, else raise what is wrong with it.

    :param refusal: why the model refused (a refusal text, or the stop/finish reason), or None
    :param truncated: the answer stopped at the token limit
    :raises LLMRefusal, LLMTruncated, LLMEmptyResponse: carrying the billed usage and the text
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
