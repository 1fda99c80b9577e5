"""The plugin-manager factory: :func:`build_runtime` loads plugins and fills a :class:`Runtime`.

There is no module-level manager. Each call makes a fresh ``pluggy.PluginManager``, registers
the built-in plugin modules, loads third-party plugins from the ``nader`` entry-point group
(filtered by ``NADER_LOAD_PLUGINS``), and then calls every hook of every plugin, one plugin at
a time, with a ``register`` callback that knows which plugin is calling. That is what lets an
error name the plugin at fault, and a duplicate name name both.

Failure policy, from the safest to the hardest:

* A plugin that cannot be imported (whatever its import raises, ``SystemExit`` and
  ``KeyboardInterrupt`` included), or whose hook functions do not match the hook specs, is
  not loaded; the error is recorded on it (``nader plugins`` shows it, the CLI warns).
* An invalid item (a malformed operator spec, a factory that is not callable) is refused with
  an error; the plugin's other items still count.
* A hook that raises is rolled back: nothing it registered in that call is kept (see
  :mod:`nader.plugins.staging`); its other hooks still run.
* A name registered twice is a hard error: :func:`build_runtime` raises one
  :class:`~nader.errors.PluginError` listing every clash, each naming both plugins. Silently
  keeping one would make a graph's meaning depend on install order.

Built-ins go first, then entry-point plugins sorted by distribution name, then ``extra_plugins``
in the order given, so listings and clash messages do not depend on pluggy's internals.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from nader import hookspecs
from nader.errors import PluginError
from nader.ir.registry import OperatorRegistry
from nader.plugins.registries import NamedRegistry, PluginInfo, Runtime
from nader.plugins.staging import Batch

ENTRY_POINT_GROUP = "nader"
ALLOWLIST_ENV = "NADER_LOAD_PLUGINS"
BUILTIN_PLUGIN_NAME = "nader"

#: Modules whose hook implementations make up the built-in plugin ``nader`` (always loaded).
BUILTIN_PLUGIN_MODULES: tuple[str, ...] = (
    "nader.backends.plugin",
    "nader.session.plugin",
    "nader.llm.plugin",
    "nader.data.plugin",
    "nader.agents.plugin",
    "nader.tracking.plugin",
    "nader.bench.plugin",
)


@dataclass(frozen=True)
class _Loaded:
    """A plugin object registered with pluggy under ``key``, and the plugin that owns it."""

    key: str
    info: PluginInfo


def builtin_runtime() -> Runtime:
    """A runtime of the built-in plugins only (no entry points): what library users and tests
    pass where a :class:`Runtime` is required and no installed plugin should take part."""
    return build_runtime(load_entry_points=False)


def build_runtime(
    *,
    load_entry_points: bool = True,
    extra_plugins: Iterable[tuple[str, Any]] = (),
) -> Runtime:
    """A fresh plugin manager, and the registries its plugins fill.

    :param load_entry_points: load third-party plugins from the ``nader`` entry-point group,
        limited by ``NADER_LOAD_PLUGINS`` (comma-separated distribution names; set and empty
        loads none). Built-ins always load.
    :param extra_plugins: ``(name, plugin)`` pairs registered as well, whatever the allow-list
        says (tests, notebooks); ``plugin`` is a module or object with ``@hookimpl`` functions.
    :raises PluginError: when two plugins (or one plugin twice) register the same name.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    runtime = Runtime(
        operators=OperatorRegistry(),
        lowerings={},
        llm_providers=NamedRegistry("LLM provider"),
        search_policies=NamedRegistry("search policy"),
        datasets=NamedRegistry("dataset"),
        embedders=NamedRegistry("embedder"),
        executors=NamedRegistry("executor"),
        plugins=[],
        plugin_manager=pm,
    )
    loaded: list[_Loaded] = []

    builtin = PluginInfo(BUILTIN_PLUGIN_NAME, _own_version(), builtin=True)
    runtime.plugins.append(builtin)
    for module_name in BUILTIN_PLUGIN_MODULES:
        try:
            module = importlib.import_module(module_name)
        except Exception as err:  # the other built-ins still work
            builtin.errors.append(f"cannot import built-in module {module_name}: {_describe(err)}")
            continue
        builtin.loaded_from.append(module_name)
        _add_plugin(pm, module, module_name, builtin, loaded)

    if load_entry_points:
        _load_entry_points(pm, runtime, loaded)

    for name, plugin in extra_plugins:
        info = PluginInfo(name, getattr(plugin, "__version__", None), builtin=False)
        info.loaded_from.append(getattr(plugin, "__name__", type(plugin).__name__))
        runtime.plugins.append(info)
        _add_plugin(pm, plugin, name, info, loaded)

    clashes: list[str] = []
    for hook_name in hookspecs.HOOK_NAMES:
        impls = {impl.plugin_name: impl for impl in getattr(pm.hook, hook_name).get_hookimpls()}
        for entry in loaded:
            impl = impls.get(entry.key)
            if impl is not None:
                clashes += _call_hook(runtime, hook_name, impl, entry.info)
    if clashes:
        raise PluginError(
            "plugins register the same name:\n  "
            + "\n  ".join(clashes)
            + f"\nUninstall one of them, or choose which plugins load with {ALLOWLIST_ENV}="
            "<comma-separated distribution names>."
        )
    return runtime


# ------------------------------------------------------------------------------------ loading


def _load_entry_points(pm: pluggy.PluginManager, runtime: Runtime, loaded: list[_Loaded]) -> None:
    allowed = _allowlist()
    by_dist: dict[str, PluginInfo] = {}
    entries = sorted(
        metadata.entry_points(group=ENTRY_POINT_GROUP),
        key=lambda ep: (normalize_dist_name(_dist_name(ep)), ep.name),
    )
    for entry in entries:
        dist_name = _dist_name(entry)
        if allowed is not None and normalize_dist_name(dist_name) not in allowed:
            if dist_name not in runtime.skipped:
                runtime.skipped.append(dist_name)
            continue
        info = by_dist.get(dist_name)
        if info is None:
            dist = getattr(entry, "dist", None)
            info = PluginInfo(dist_name, dist.version if dist is not None else None, builtin=False)
            by_dist[dist_name] = info
            runtime.plugins.append(info)
        info.loaded_from.append(f"{entry.name} = {entry.value}")
        try:
            plugin = entry.load()
        except (Exception, SystemExit, KeyboardInterrupt) as err:
            # a broken plugin must not stop the host: not even sys.exit() or a KeyboardInterrupt
            # raised by its module body (that made every nader command end silently)
            info.errors.append(f"cannot load entry point {entry.value!r}: {_describe(err)}")
            continue
        _add_plugin(pm, plugin, f"{dist_name}:{entry.name}", info, loaded)
    if allowed:
        installed = {normalize_dist_name(_dist_name(ep)) for ep in entries}
        for name in sorted(allowed - installed - {BUILTIN_PLUGIN_NAME}):
            runtime.problems.append(
                f"{ALLOWLIST_ENV}: no installed nader plugin is named {name!r} "
                f"(installed: {', '.join(sorted(installed)) or 'none'})"
            )


def _add_plugin(
    pm: pluggy.PluginManager, plugin: Any, key: str, info: PluginInfo, loaded: list[_Loaded]
) -> None:
    """Register ``plugin`` with pluggy and check its hook functions; record what is wrong."""
    try:
        pm.register(plugin, name=key)
    except pluggy.PluginValidationError as err:
        pm.unregister(name=key)  # pluggy may have added some of its hooks before failing
        info.errors.append(f"not loaded: {err}")
        return
    except ValueError as err:  # the same object or name registered twice
        info.errors.append(f"not loaded: {err}")
        return
    info.errors.extend(_implementation_problems(pm, plugin))
    loaded.append(_Loaded(key, info))


def _implementation_problems(pm: pluggy.PluginManager, plugin: Any) -> list[str]:
    """Mistakes pluggy accepts silently: typos in hook names, unmarked hooks, wrappers."""
    problems: list[str] = []
    implemented: set[str] = set()
    for caller in pm.get_hookcallers(plugin) or ():
        implemented.add(caller.name)
        if not caller.has_spec():
            hint = difflib.get_close_matches(caller.name, hookspecs.HOOK_NAMES, n=1)
            problems.append(
                f"implements unknown hook {caller.name!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; nader's hooks are {', '.join(hookspecs.HOOK_NAMES)}"
            )
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper):
                problems.append(f"{caller.name} is a hook wrapper, which nader does not support")
    for hook_name in hookspecs.HOOK_NAMES:
        if hook_name not in implemented and callable(getattr(plugin, hook_name, None)):
            problems.append(
                f"defines {hook_name} without the @nader.hookimpl marker, so it is never called"
            )
    return problems


# ---------------------------------------------------------------------------- calling hooks


def _call_hook(
    runtime: Runtime, hook_name: str, impl: pluggy.HookImpl, info: PluginInfo
) -> list[str]:
    """Call one plugin's hook with a staging ``register``; returns the name clashes it caused."""
    if impl.wrapper or impl.hookwrapper:
        return []  # reported when the plugin was added
    batch = Batch(runtime, hook_name, info)
    register = (
        batch.register_operator if hook_name == "register_operators" else batch.register_factory
    )
    arguments = {"register": register}
    try:
        result = impl.function(*(arguments[name] for name in impl.argnames))
    except Exception as err:
        info.errors.extend(batch.errors)
        dropped = f"; the {len(batch)} item(s) it had registered were dropped" if len(batch) else ""
        info.errors.append(f"{hook_name} raised {_describe(err)}{dropped}")
        return []
    info.errors.extend(batch.errors)
    if result is not None:
        info.errors.append(
            f"{hook_name} returned {type(result).__name__}; hooks return nothing and call "
            "register(...) once per item"
        )
    if batch.clashes:
        return batch.clashes
    batch.commit()
    return []


# ---------------------------------------------------------------------------------- helpers


def _allowlist() -> set[str] | None:
    """Normalised distribution names from ``NADER_LOAD_PLUGINS``; ``None`` when it is unset."""
    raw = os.environ.get(ALLOWLIST_ENV)
    if raw is None:
        return None
    return {normalize_dist_name(part) for part in raw.split(",") if part.strip()}


def normalize_dist_name(name: str) -> str:
    """PEP 503 normalisation, so ``Nader_Plugin.Example`` matches ``nader-plugin-example``."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _dist_name(entry: metadata.EntryPoint) -> str:
    dist = getattr(entry, "dist", None)
    return dist.name if dist is not None else entry.name


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _own_version() -> str | None:
    try:
        return metadata.version(BUILTIN_PLUGIN_NAME)
    except metadata.PackageNotFoundError:
        from nader import __version__

        return __version__
