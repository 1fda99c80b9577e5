"""Built-in plugin: selection policies, embedders and the ``offline`` designer provider.

Registered through the same hooks a third-party plugin uses. Order does not matter: a name
may be registered once, and a clash with a user's plugin is an error naming both. The live providers (anthropic, openai, replay) are registered by
:mod:`nader.llm.plugin`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nader.agents.embedders import hashing_factory, openai_factory, sentence_transformers_factory
from nader.agents.offline.designer import PROVIDER_NAME, OfflineDesigner
from nader.agents.policies import POLICIES
from nader.hookspecs import hookimpl


@hookimpl
def register_search_policies(register: Callable[..., Any]) -> None:
    for name, policy in POLICIES.items():
        register(name, policy)


@hookimpl
def register_embedders(register: Callable[..., Any]) -> None:
    register("hashing", hashing_factory)
    register("sentence-transformers", sentence_transformers_factory)
    register("openai", openai_factory)


@hookimpl
def register_llm_providers(register: Callable[..., Any]) -> None:
    register(PROVIDER_NAME, OfflineDesigner.from_config)
