"""Built-in plugin: the NAS baselines of ``nader bench search`` (providers and a policy).

Registered through the same hooks a third-party strategy would use, so ``nader plugins`` lists
them and a plugin can add another baseline the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nader.bench.strategies import (
    RANDOM_PROVIDER,
    REA_PROVIDER,
    NB201BaselineProvider,
    RegularizedEvolutionPolicy,
)
from nader.hookspecs import hookimpl


@hookimpl
def register_llm_providers(register: Callable[..., Any]) -> None:
    register(RANDOM_PROVIDER, NB201BaselineProvider.factory(RANDOM_PROVIDER))
    register(REA_PROVIDER, NB201BaselineProvider.factory(REA_PROVIDER))


@hookimpl
def register_search_policies(register: Callable[..., Any]) -> None:
    register(RegularizedEvolutionPolicy.name, RegularizedEvolutionPolicy)
