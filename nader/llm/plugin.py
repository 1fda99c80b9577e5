"""The built-in LLM providers, registered through the same hook a third-party plugin uses.

``trylast=True`` so a user's plugin is asked first; names still may not clash. The offline
designer is registered by the agents' plugin module, next to the code it drives.
"""

from __future__ import annotations

from collections.abc import Callable

from nader.llm.anthropic_api import AnthropicProvider
from nader.llm.openai_api import OpenAIProvider
from nader.llm.replay import ReplayProvider
from nader.plugins.hookspecs import hookimpl


@hookimpl(trylast=True)
def register_llm_providers(register: Callable[..., None]) -> None:
    register("anthropic", AnthropicProvider)
    register("openai", OpenAIProvider)
    register("replay", ReplayProvider)
