"""The built-in LLM providers, registered through the same hook a third-party plugin uses.

Names may not clash with a user's plugin (an error naming both, whatever the order). The offline
designer is registered by the agents' plugin module, next to the code it drives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nader.hookspecs import hookimpl
from nader.llm.anthropic_api import AnthropicProvider
from nader.llm.base import LLMProvider
from nader.llm.config import LLMConfig
from nader.llm.openai_api import OpenAIProvider
from nader.llm.replay import ReplayProvider


def _from_config(provider: Callable[[LLMConfig], LLMProvider]) -> Callable[..., LLMProvider]:
    """A provider built from the ``[llm]`` config alone (it needs nothing of the runtime)."""

    def factory(config: LLMConfig, runtime: Any = None) -> LLMProvider:
        return provider(config)

    factory.__name__ = factory.__qualname__ = f"{getattr(provider, '__name__', 'provider')}_factory"
    return factory


@hookimpl
def register_llm_providers(register: Callable[..., None]) -> None:
    register("anthropic", _from_config(AnthropicProvider))
    register("openai", _from_config(OpenAIProvider))
    register("replay", _from_config(ReplayProvider))
