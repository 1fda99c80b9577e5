"""The ``openai`` provider: Chat Completions through the official ``openai`` SDK.

``base_url`` points it at any OpenAI-compatible server (vLLM, Ollama, llama.cpp's server,
LM Studio). Such servers usually need no key, and ``OPENAI_API_KEY`` must not be handed to a
host other than OpenAI's: with ``base_url`` set, a key is read only from a variable named
explicitly by ``api_key_env`` (a hosted compatible service), otherwise a placeholder is sent. OpenAI caches long prompt prefixes by itself, so ``cache=True``
needs no marking here; the agents already put the static prefix first.
"""

from __future__ import annotations

import time
from typing import Any

from nader.llm.base import LLMMalformedResponse, LLMRequest, LLMResponse, Usage
from nader.llm.config import LLMConfig, effective_parameters, provider_api_key
from nader.llm.deadline import deadline_http_client
from nader.llm.redaction import redactor_for
from nader.llm.sdk_errors import (
    MAX_ERROR_CHARS,
    check_answer,
    estimated_usage,
    import_sdk,
    sdk_timeout,
    token_count,
    translated_sdk_errors,
)

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
#: Sent to local servers that ignore the key (the SDK refuses to run without one).
LOCAL_SERVER_PLACEHOLDER_KEY = "no-key-needed"


class OpenAIProvider:
    """Sends requests to OpenAI's Chat Completions API or an OpenAI-compatible server."""

    name = "openai"

    def __init__(self, config: LLMConfig) -> None:
        self._sdk = import_sdk("openai", self.name)
        self.config = config
        if config.base_url is not None and config.api_key_env is None:
            key = None  # never hand OPENAI_API_KEY to another host unasked
        else:
            key = provider_api_key(
                config,
                DEFAULT_KEY_ENV,
                required=True,
                hint=" (or set llm.base_url to a local OpenAI-compatible server)",
            )
        self._client = self._sdk.OpenAI(
            api_key=key.get_secret_value() if key is not None else LOCAL_SERVER_PLACEHOLDER_KEY,
            base_url=config.base_url,
            timeout=sdk_timeout(self._sdk, config),
            max_retries=0,  # LLMClient retries, counts and bounds every attempt
            http_client=deadline_http_client(self._sdk),  # the call's total deadline
        )
        self.redact = redactor_for(config)

    def __repr__(self) -> str:
        return f"OpenAIProvider(model={self.config.model!r}, base_url={self.config.base_url!r})"

    @property
    def endpoint(self) -> str:
        """Where requests go (for messages about an unreachable service)."""
        return str(self._client.base_url)

    def complete(self, request: LLMRequest) -> LLMResponse:
        arguments = openai_arguments(request, self.config)
        started = time.perf_counter()
        with translated_sdk_errors(
            self._sdk, provider=self.name, task=request.task, redact=self.redact
        ):
            completion = self._client.chat.completions.create(**arguments)
        return self._parse(completion, request, time.perf_counter() - started)

    def _parse(self, completion: Any, request: LLMRequest, latency_s: float) -> LLMResponse:
        choices = getattr(completion, "choices", None)
        if (
            not isinstance(choices, list)
            or not choices
            or getattr(choices[0], "message", None) is None
        ):
            raise LLMMalformedResponse(
                "the response is not a chat completion (no choices with a message)",
                provider=self.name,
                task=request.task,
            )
        choice = choices[0]
        finish = choice.finish_reason
        content = choice.message.content
        text = self.redact(content if isinstance(content, str) else "")
        raw_usage = getattr(completion, "usage", None)
        try:
            # a server that does not say what it billed is billed at what was sent
            usage = (
                openai_usage(raw_usage, task=request.task)
                if raw_usage is not None
                else estimated_usage(request, text)
            )
        except LLMMalformedResponse as err:
            err.usage = estimated_usage(request, text)
            raise
        response = LLMResponse(
            text=text,
            usage=usage,
            model=completion.model or self.config.model,
            provider=self.name,
            latency_s=latency_s,
            request_id=getattr(completion, "_request_id", None) or getattr(completion, "id", None),
            finish_reason=finish,
        )
        refusal = getattr(choice.message, "refusal", None)
        refusal = self.redact(str(refusal)[:MAX_ERROR_CHARS]) if refusal else None
        if not refusal and finish == "content_filter":
            refusal = "finish_reason 'content_filter'"
        return check_answer(
            response,
            task=request.task,
            refusal=refusal or None,
            truncated=finish == "length",
            max_chars=self.config.max_answer_chars,
        )


def openai_arguments(request: LLMRequest, config: LLMConfig) -> dict[str, Any]:
    """The ``chat.completions.create`` keyword arguments for ``request``."""
    parameters = effective_parameters(request, config)
    limit_name = config.max_tokens_param or (
        "max_completion_tokens" if config.base_url is None else "max_tokens"
    )
    arguments: dict[str, Any] = {
        "model": config.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        limit_name: parameters["max_tokens"],
    }
    if parameters["temperature"] is not None:
        arguments["temperature"] = parameters["temperature"]
    return arguments


def openai_usage(usage: Any, *, task: str = "") -> Usage:
    """``prompt_tokens`` already includes the cached part (``prompt_tokens_details``).

    :raises LLMMalformedResponse: a count is not a non-negative integer
    """
    if usage is None:
        return Usage()

    def count(source: Any, name: str) -> int:
        return token_count(getattr(source, name, None), name, provider="openai", task=task)

    details = getattr(usage, "prompt_tokens_details", None)
    return Usage(
        input_tokens=count(usage, "prompt_tokens"),
        output_tokens=count(usage, "completion_tokens"),
        cached_input_tokens=count(details, "cached_tokens") if details else 0,
    )
