"""The ``anthropic`` provider: the Messages API through the official ``anthropic`` SDK.

System messages become the ``system`` parameter as text blocks; every message marked
``cache=True`` (the long static prefix: the block-format definition, operator list, examples)
gets ``cache_control: {"type": "ephemeral"}`` so repeated calls read it from the prompt cache
at a tenth of the input price. The API allows four cache breakpoints; when more messages ask
for caching, the last four are marked (a breakpoint caches everything before it too).

Sampling temperature: API version 2026-10-21 (sent by ``anthropic`` SDK 2.x) rejects
``temperature``/``top_p``/``top_k`` with HTTP 400 even at default values, and the SDK no longer
accepts them. The temperature is therefore sent only through an SDK that still takes it (1.x and
earlier, API version 2023-06-01); otherwise a configured or requested temperature is dropped
with one warning, so a config written for OpenAI still runs against Claude.
"""

from __future__ import annotations

import inspect
import logging
import time
from typing import Any

from nader.llm.base import LLMMalformedResponse, LLMRequest, LLMResponse, Message, Usage
from nader.llm.config import LLMConfig, effective_parameters, provider_api_key
from nader.llm.deadline import deadline_http_client
from nader.llm.redaction import redactor_for
from nader.llm.sdk_errors import (
    check_answer,
    estimated_usage,
    import_sdk,
    sdk_timeout,
    token_count,
    translated_sdk_errors,
)

log = logging.getLogger("nader.llm")

DEFAULT_KEY_ENV = "ANTHROPIC_API_KEY"
MAX_CACHE_BREAKPOINTS = 4
_TRUNCATION_STOPS = frozenset({"max_tokens", "model_context_window_exceeded"})


class AnthropicProvider:
    """Sends requests to the Anthropic Messages API (or a server speaking it at ``base_url``)."""

    name = "anthropic"

    def __init__(self, config: LLMConfig) -> None:
        self._sdk = import_sdk("anthropic", self.name)
        self.config = config
        key = provider_api_key(config, DEFAULT_KEY_ENV, required=True)
        assert key is not None
        self._client = self._sdk.Anthropic(
            api_key=key.get_secret_value(),
            base_url=config.base_url,
            timeout=sdk_timeout(self._sdk, config),
            max_retries=0,  # LLMClient retries, counts and bounds every attempt
            http_client=deadline_http_client(self._sdk),  # the call's total deadline
        )
        self.redact = redactor_for(config)
        self.sends_temperature = (
            "temperature" in inspect.signature(self._client.messages.create).parameters
        )
        self._warned_temperature = False

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self.config.model!r}, base_url={self.config.base_url!r})"

    @property
    def endpoint(self) -> str:
        """Where requests go (for messages about an unreachable service)."""
        return str(self._client.base_url)

    def complete(self, request: LLMRequest) -> LLMResponse:
        arguments = anthropic_arguments(
            request, self.config, send_temperature=self.sends_temperature
        )
        if not self.sends_temperature:
            self._warn_temperature_dropped(request)
        started = time.perf_counter()
        with translated_sdk_errors(
            self._sdk, provider=self.name, task=request.task, redact=self.redact
        ):
            message = self._client.messages.create(**arguments)
        return self._parse(message, request, time.perf_counter() - started)

    def _warn_temperature_dropped(self, request: LLMRequest) -> None:
        wanted = effective_parameters(request, self.config)["temperature"]
        if wanted is not None and not self._warned_temperature:
            self._warned_temperature = True
            log.warning(
                "temperature %s is not sent to Anthropic: this anthropic SDK speaks an API "
                "version that rejects sampling parameters",
                wanted,
            )

    def _parse(self, message: Any, request: LLMRequest, latency_s: float) -> LLMResponse:
        content = getattr(message, "content", None)
        if not isinstance(content, list) or getattr(message, "usage", None) is None:
            raise LLMMalformedResponse(
                "the response is not a Messages API message (no content list or usage)",
                provider=self.name,
                task=request.task,
            )
        stop = message.stop_reason
        text = self.redact(
            "".join(
                block.text
                for block in content
                if getattr(block, "type", None) == "text" and isinstance(block.text, str)
            )
        )
        try:
            usage = anthropic_usage(message.usage, task=request.task)
        except LLMMalformedResponse as err:
            err.usage = estimated_usage(request, text)  # billed, but the server did not say
            raise
        response = LLMResponse(
            text=text,
            usage=usage,
            model=message.model or self.config.model,
            provider=self.name,
            latency_s=latency_s,
            request_id=getattr(message, "_request_id", None) or getattr(message, "id", None),
            finish_reason=stop,
        )
        return check_answer(
            response,
            task=request.task,
            refusal="stop_reason 'refusal'" if stop == "refusal" else None,
            truncated=stop in _TRUNCATION_STOPS,
            max_chars=self.config.max_answer_chars,
        )


def anthropic_arguments(
    request: LLMRequest, config: LLMConfig, *, send_temperature: bool
) -> dict[str, Any]:
    """The ``messages.create`` keyword arguments for ``request``."""
    parameters = effective_parameters(request, config)
    cached = [i for i, m in enumerate(request.messages) if m.cache][-MAX_CACHE_BREAKPOINTS:]
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(request.messages):
        block = _text_block(message, cache=index in cached)
        if message.role == "system":
            system.append(block)
        else:
            turns.append({"role": message.role, "content": [block]})
    arguments: dict[str, Any] = {
        "model": config.model,
        "max_tokens": parameters["max_tokens"],
        "messages": turns,
    }
    if system:
        arguments["system"] = system
    if send_temperature and parameters["temperature"] is not None:
        arguments["temperature"] = parameters["temperature"]
    return arguments


def _text_block(message: Message, *, cache: bool) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": message.content}
    if cache:
        block["cache_control"] = {"type": "ephemeral"}
    return block


def anthropic_usage(usage: Any, *, task: str = "") -> Usage:
    """Anthropic reports uncached, cache-read and cache-written input separately; add them up.

    :raises LLMMalformedResponse: a count is not a non-negative integer
    """

    def count(name: str) -> int:
        return token_count(getattr(usage, name, None), name, provider="anthropic", task=task)

    uncached = count("input_tokens")
    read = count("cache_read_input_tokens")
    written = count("cache_creation_input_tokens")
    return Usage(
        input_tokens=uncached + read + written,
        output_tokens=count("output_tokens"),
        cached_input_tokens=read,
        cache_creation_tokens=written,
    )
