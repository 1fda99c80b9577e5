"""The ``[llm]`` table of a run configuration, and the one place an API key is read.

The configuration names the *environment variable* holding the key, never the key itself, so
a config file, a run directory or a log can be shared without leaking it. The key is read from
the environment only when a live provider is built, and is held as a :class:`SecretStr` whose
``repr``/``str``/JSON dump show ``**********``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from nader.errors import ConfigError
from nader.llm.base import LLMRequest

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ModelPrice(BaseModel):
    """Dollars per million tokens for one model.

    ``cached_input`` (tokens read from the prompt cache) and ``cache_write`` (tokens written to
    it, Anthropic only) default to the ``input`` price when not given.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)


class LLMConfig(BaseModel):
    """Which model answers the agents, how it is called, and what a run may spend.

    Validation errors do not echo the offending values (``hide_input_in_errors``): a key pasted
    by mistake into ``api_key_env`` must not reach a terminal or a log through the error.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    #: a registered provider: "anthropic", "openai", "replay", or one from a plugin
    provider: str = Field(min_length=1)
    #: the model name sent to the API (and the price-table lookup key)
    model: str = Field(min_length=1)
    #: sampling temperature; None leaves it to the provider's default
    temperature: float | None = Field(default=None, ge=0, le=2)
    #: the answer's length limit (Anthropic requires one)
    max_tokens: int = Field(default=4096, gt=0)
    #: API root, e.g. "http://127.0.0.1:8000/v1" for a local OpenAI-compatible server
    base_url: str | None = None
    #: name of the environment variable holding the key (default: ANTHROPIC_API_KEY or
    #: OPENAI_API_KEY; for openai with ``base_url`` set, no key unless a variable is named here)
    api_key_env: str | None = None
    #: OpenAI only: "max_tokens" or "max_completion_tokens"; default: the latter for
    #: api.openai.com, the former when ``base_url`` points elsewhere (vLLM, Ollama, llama.cpp)
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] | None = None

    #: seconds one attempt may take in all (connect, send and every read: a server dripping
    #: bytes cannot stretch it; see nader.llm.deadline), and at most for the connection
    timeout_s: float = Field(default=120.0, gt=0)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    #: retries after the first attempt for retryable errors (timeouts, 429, 5xx, bad bodies)
    max_retries: int = Field(default=4, ge=0, le=20)
    #: exponential backoff: first delay, cap; each delay is jittered to 50-100 % of its value
    retry_initial_s: float = Field(default=1.0, ge=0)
    retry_max_s: float = Field(default=60.0, ge=0)
    #: a 429 asking for a longer wait than this is reported instead of waited for
    max_retry_after_s: float = Field(default=300.0, ge=0)
    #: seed of a deterministic provider (the offline designer, the NAS baselines); model APIs
    #: ignore it
    seed: int | None = Field(default=None, ge=0)
    #: options of a plugin provider (e.g. the ``nb201-rea`` baseline's ``population_size``)
    provider_options: dict[str, int | float | str | bool] = Field(default_factory=dict)

    #: the run stops (exit status 1, the reason on the console) after this many calls in a row
    #: that could not reach the provider or were refused by it: connection errors, timeouts,
    #: 5xx left after the retries, 401/403/404 (nader.llm.client.is_provider_down)
    max_connection_failures: int = Field(default=3, ge=1)
    #: a longer answer is refused for its turn (LLMAnswerTooLarge) and never sent back; block
    #: answers are a few thousand characters, 4096 tokens about 16,000
    max_answer_chars: int = Field(default=100_000, gt=0)

    #: stop the run before a call would reach this many tokens (input + output) / dollars
    budget_tokens: int | None = Field(default=None, ge=0)
    budget_usd: float | None = Field(default=None, ge=0)
    #: $/Mtok per model, merged over the built-in table (nader.llm.pricing.DEFAULT_PRICES)
    prices: dict[str, ModelPrice] = Field(default_factory=dict)

    #: provider = "replay": a run directory or a recordings.jsonl file to answer from
    replay_from: Path | None = None
    #: provider = "replay": which recorded provider to answer as, when the recording has several
    replay_provider: str | None = None

    @field_validator("api_key_env")
    @classmethod
    def _must_be_a_variable_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            # never echo the value: it may be a key pasted by mistake
            raise ValueError(
                "api_key_env must be the NAME of an environment variable (letters, digits, "
                "underscores), not the key itself; put the key in that variable"
            )
        return value


def read_api_key(env_name: str) -> SecretStr | None:
    """The key held by environment variable ``env_name``, or None when unset or empty."""
    value = os.environ.get(env_name, "").strip()
    return SecretStr(value) if value else None


def provider_api_key(
    config: LLMConfig, default_env: str, *, required: bool, hint: str = ""
) -> SecretStr | None:
    """The key for ``config.provider`` from ``config.api_key_env`` (or ``default_env``).

    :raises ConfigError: when ``required`` and the variable is unset; names the variable only.
    """
    env_name = config.api_key_env or default_env
    key = read_api_key(env_name)
    if key is None and required:
        raise ConfigError(
            f"llm.provider = {config.provider!r} needs an API key in the environment variable "
            f"{env_name}{hint}"
        )
    return key


def effective_parameters(request: LLMRequest, config: LLMConfig) -> dict[str, Any]:
    """The sampling parameters a call really uses: the request's, else the configuration's.

    They are part of the recording key, so a replay only matches calls made with the same ones.
    """
    temperature = request.temperature if request.temperature is not None else config.temperature
    max_tokens = request.max_tokens if request.max_tokens is not None else config.max_tokens
    return {"temperature": temperature, "max_tokens": max_tokens}
