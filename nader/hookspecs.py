"""The seven ``register_*`` hooks (DESIGN §2 "Plugins") and the types of what they register.

Every hook receives one argument, ``register``: a callable owned by the host. A plugin calls it
once per thing it contributes; the host validates the item and stores it under its name. A name
that is already taken is an error naming both plugins (never a silent override: a graph's meaning
must not depend on install order). Built-ins are registered through these very hooks, by the
modules listed in :data:`nader.plugins.manager.BUILTIN_PLUGIN_MODULES`.

Each hook's docstring follows one fixed template: a summary line, ``:param register:``, the
register signature, the interface of what is registered, and an example. ``docs/plugins.md`` has
one section per hook, and ``tests/plugins/test_docs.py`` fails when a hook lacks either.

What happens when a plugin misbehaves is the manager's business (:mod:`nader.plugins.manager`):
in short, one hook call of one plugin is one transaction.

This module is the bottom of the plugin layer: it imports pluggy and nothing from nader, so a
plugin (and ``nader.hookimpl``) can be imported without the IR, the manager or torch. The hook
protocols are therefore typed with ``Any`` where they take nader objects; the docstrings name them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import pluggy

PROJECT_NAME = "nader"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: The marker plugins put on their hook functions (also exported as ``nader.hookimpl``).
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

#: ``lowering(ctx) -> torch.nn.Module``. ``ctx`` is a :class:`nader.backends.lowering.LoweringContext`
#: (``op``, ``params`` with sizes evaluated, ``exprs``, ``input_shapes``, ``output_shape``); the
#: module's ``forward`` takes the node's inputs positionally. Typed loosely so that this module,
#: and a plugin's import, need no torch.
Lowering = Callable[[Any], Any]
#: ``factory(config, runtime)`` → an :class:`nader.llm.base.LLMProvider`.
LLMProviderFactory = Callable[..., Any]
#: ``factory(**options)`` → an object with ``select(tree, rng) -> node id``.
SearchPolicyFactory = Callable[..., Any]
#: ``factory(config)`` → the dataset (see :mod:`nader.data`).
DatasetFactory = Callable[..., Any]
#: ``factory(config)`` → an object with ``dimension`` and ``embed(texts) -> list[list[float]]``.
EmbedderFactory = Callable[..., Any]
#: ``factory(config, target, scratch)`` → an executor that trains candidates.
ExecutorFactory = Callable[..., Any]
#: ``factory(config, run_dir)`` → a tracker (see :mod:`nader.tracking`).
TrackerFactory = Callable[..., Any]

FactoryT_contra = TypeVar("FactoryT_contra", contravariant=True)


class RegisterOperator(Protocol):
    """The ``register`` callable that ``register_operators`` receives."""

    def __call__(self, spec: Any, *, lowering: Lowering | None = None) -> None: ...


class RegisterFactory(Protocol[FactoryT_contra]):
    """The ``register`` callable of every other hook: a unique name and a factory."""

    def __call__(self, name: str, factory: FactoryT_contra) -> None: ...


@hookspec
def register_operators(register: RegisterOperator) -> None:
    """Register graph operators that blocks may use.

    :param register: the host's callback; call it once per operator.

    Register signature: ``register(spec: OperatorSpec, *, lowering: Lowering | None = None)``.

    What is registered: an :class:`nader.ir.OperatorSpec` (name, arity, a pydantic parameter model
    deriving from :class:`nader.ir.OpParams`, a pure shape rule, a cost rule, commutativity,
    summary and example for the LLM's operator list). ``lowering(ctx) -> torch.nn.Module`` makes
    the operator compile; import torch inside it so the plugin imports without torch. The name
    is unique ignoring case, aliases included.

    Example::

        @hookimpl
        def register_operators(register):
            def lower(ctx):
                import torch

                return torch.nn.Hardswish()

            spec = OperatorSpec("HardSwish", lambda inputs, params: inputs[0], summary="activation")
            register(spec, lowering=lower)
    """


@hookspec
def register_llm_providers(register: RegisterFactory[LLMProviderFactory]) -> None:
    """Register LLM providers that agents can be configured to use (``[llm] provider = ...``).

    :param register: the host's callback; call it once per provider.

    Register signature: ``register(name: str, factory: Callable[..., LLMProvider])``.

    What is registered: a factory; ``factory(config, runtime)`` returns an object with a
    ``name`` and ``complete(request: LLMRequest) -> LLMResponse`` (see :mod:`nader.llm.base`).
    ``config`` is the run's ``[llm]`` table; ``runtime`` the host's
    :class:`~nader.plugins.registries.Runtime` (its operators, for a provider that writes blocks).

    Example::

        @hookimpl
        def register_llm_providers(register):
            register("my-llm", MyProvider)
    """


@hookspec
def register_search_policies(register: RegisterFactory[SearchPolicyFactory]) -> None:
    """Register the Proposer's policies for picking the next tree node to modify.

    :param register: the host's callback; call it once per policy.

    Register signature: ``register(name: str, factory: Callable[..., SearchPolicy])``.

    What is registered: a factory; ``factory(**options)`` returns an object with
    ``select(tree, rng) -> node_id`` (``rng`` is a ``random.Random``).

    Example::

        @hookimpl
        def register_search_policies(register):
            register("newest", NewestPolicy)
    """


@hookspec
def register_datasets(register: RegisterFactory[DatasetFactory]) -> None:
    """Register datasets that candidates can be trained and scored on.

    :param register: the host's callback; call it once per dataset.

    Register signature: ``register(name: str, factory: Callable[..., Dataset])``.

    What is registered: a factory; ``factory(request)`` gets a :class:`nader.data.DatasetRequest`
    (``data_dir``, ``split_file``, ``seed``) and returns a :class:`nader.data.DatasetSplits`.

    Example::

        @hookimpl
        def register_datasets(register):
            register("my-images", load_my_images)
    """


@hookspec
def register_embedders(register: RegisterFactory[EmbedderFactory]) -> None:
    """Register text embedders for the knowledge pool and the experience pool.

    :param register: the host's callback; call it once per embedder.

    Register signature: ``register(name: str, factory: Callable[..., Embedder])``.

    What is registered: a factory; ``factory(options)`` gets the ``[agents] embedder_options``
    dict and returns an object with ``dimension: int`` and
    ``embed(texts: list[str]) -> list[list[float]]``.

    Example::

        @hookimpl
        def register_embedders(register):
            register("my-embedder", MyEmbedder)
    """


@hookspec
def register_executors(register: RegisterFactory[ExecutorFactory]) -> None:
    """Register executors that train candidate architectures (local processes, Ray, a cluster).

    :param register: the host's callback; call it once per executor.

    Register signature: ``register(name: str, factory: Callable[..., Executor])``.

    What is registered: a factory; ``factory(config, target, scratch)`` gets the ``[executor]``
    config, the host's job function and a scratch folder, and returns an executor with
    ``submit(job: TrainingJob)``, ``poll(timeout) -> list[JobOutcome]``, ``running()``,
    ``capacity`` and ``shutdown()`` (see :mod:`nader.session.executors` and
    :mod:`nader.training.job`).

    Example::

        @hookimpl
        def register_executors(register):
            register("slurm", SlurmExecutor)
    """


@hookspec
def register_trackers(register: RegisterFactory[TrackerFactory]) -> None:
    """Register experiment trackers that mirror a run's metrics elsewhere (TensorBoard, MLflow).

    :param register: the host's callback; call it once per tracker.

    Register signature: ``register(name: str, factory: Callable[..., Tracker])``.

    What is registered: a factory; ``factory(config, run_dir)`` gets the ``[tracking]`` config
    (:class:`nader.tracking.TrackingConfig`) and the run directory, and returns a
    :class:`nader.tracking.Tracker`: ``on_epoch(arch_id, record)``,
    ``on_architecture(event)``, ``on_run_end(summary)`` and ``close()``. A session uses the
    trackers named in ``[tracking] trackers``; one that raises is reported and dropped, never
    stopping the run.

    Example::

        @hookimpl
        def register_trackers(register):
            register("wandb", WandbTracker)
    """


#: Every hook, in the order the manager calls them.
HOOK_NAMES: tuple[str, ...] = (
    "register_operators",
    "register_llm_providers",
    "register_search_policies",
    "register_datasets",
    "register_embedders",
    "register_executors",
    "register_trackers",
)
