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
from nader.llm.sdk_errors import check_answer, import_sdk, sdk_timeout, translated_sdk_errors

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
        )

    def __repr__(self) -> str:
        return f"OpenAIProvider(model={self.config.model!r}, base_url={self.config.base_url!r})"

    def complete(self, request: LLMRequest) -> LLMResponse:
        arguments = openai_arguments(request, self.config)
        started = time.perf_counter()
        with translated_sdk_errors(self._sdk, provider=self.name, task=request.task):
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
        response = LLMResponse(
            text=choice.message.content or "",
            usage=openai_usage(getattr(completion, "usage", None)),
            model=completion.model or self.config.model,
            provider=self.name,
            latency_s=latency_s,
            request_id=getattr(completion, "_request_id", None) or getattr(completion, "id", None),
            finish_reason=finish,
        )
        refusal = getattr(choice.message, "refusal", None)
        if not refusal and finish == "content_filter":
            refusal = "finish_reason 'content_filter'"
        return check_answer(
            response, task=request.task, refusal=refusal or None, truncated=finish == "length"
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


def openai_usage(usage: Any) -> Usage:
    """``prompt_tokens`` already includes the cached part (``prompt_tokens_details``)."""
    if usage is None:
        return Usage()
    details = getattr(usage, "prompt_tokens_details", None)
    return Usage(
        input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        output_tokens=getattr(usage, "completion_tokens", 0) or 0,
        cached_input_tokens=(getattr(details, "cached_tokens", 0) or 0) if details else 0,
    )
