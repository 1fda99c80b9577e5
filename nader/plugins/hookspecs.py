"""The six ``register_*`` hooks (DESIGN §2 "Plugins").

Every hook receives a ``register`` callable owned by the host. A plugin calls it once per thing
it contributes; the host stores it under its name, and a name that is already taken is an error
naming both plugins. Built-ins are registered through these very hooks (``nader.plugins.builtin``).
See ``docs/plugins.md`` for one section per hook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT_NAME = "nader"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_operators(register: Callable[[Any], None]) -> None:
    """Register graph operators.

    :param register: call ``register(spec)`` with an :class:`nader.ir.OperatorSpec` (name, arity,
        pydantic parameter model, shape rule, cost rule, commutativity). To give the operator a
        torch lowering, call ``register(spec, lowering=fn)`` where ``fn(params) -> nn.Module``
        (see :mod:`nader.backends.lowering`).

    Example::

        @hookimpl
        def register_operators(register):
            register(OperatorSpec("HardSwish", shape_rule=lambda ins, p: ins[0]))
    """


@hookspec
def register_llm_providers(register: Callable[..., None]) -> None:
    """Register LLM providers.

    :param register: call ``register(name, factory)``; ``factory(config)`` returns an object
        with ``complete(request) -> response`` (see :mod:`nader.llm.base`).

    Example::

        @hookimpl
        def register_llm_providers(register):
            register("my-llm", MyProvider)
    """


@hookspec
def register_search_policies(register: Callable[..., None]) -> None:
    """Register candidate-selection policies for the Proposer.

    :param register: call ``register(name, factory)``; ``factory(**options)`` returns an object
        with ``select(tree, rng) -> node_id`` (see :mod:`nader.agents.policies`).

    Example::

        @hookimpl
        def register_search_policies(register):
            register("newest", NewestPolicy)
    """


@hookspec
def register_datasets(register: Callable[..., None]) -> None:
    """Register datasets.

    :param register: call ``register(name, factory)``; ``factory(config)`` returns the dataset's
        train/valid/test tensors (see :mod:`nader.data`).

    Example::

        @hookimpl
        def register_datasets(register):
            register("my-images", load_my_images)
    """


@hookspec
def register_embedders(register: Callable[..., None]) -> None:
    """Register text embedders for the knowledge and experience pools.

    :param register: call ``register(name, factory)``; ``factory(config)`` returns an object with
        ``dimension`` and ``embed(texts) -> list[list[float]]``.

    Example::

        @hookimpl
        def register_embedders(register):
            register("my-embedder", MyEmbedder)
    """


@hookspec
def register_executors(register: Callable[..., None]) -> None:
    """Register executors that train candidates (local processes, Ray, ...).

    :param register: call ``register(name, factory)``; ``factory(config)`` returns an object with
        ``submit(job)`` / ``poll()`` (see :mod:`nader.session.executors`).

    Example::

        @hookimpl
        def register_executors(register):
            register("slurm", SlurmExecutor)
    """


HOOK_NAMES: tuple[str, ...] = (
    "register_operators",
    "register_llm_providers",
    "register_search_policies",
    "register_datasets",
    "register_embedders",
    "register_executors",
)
