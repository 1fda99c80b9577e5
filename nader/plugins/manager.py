"""The plugin-manager factory and the :class:`Runtime` it produces.

There is no module-level manager: :func:`build_runtime` makes a fresh ``pluggy.PluginManager``,
registers the built-in plugins, loads third-party plugins from the ``nader`` entry-point group
(filtered by ``NADER_LOAD_PLUGINS``), then calls each plugin's hooks one plugin at a time with a
``register`` callback that knows which plugin is calling. That is what lets a duplicate name be an
error naming *both* plugins, and a crash be an error naming the plugin that crashed.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from nader.errors import PluginError
from nader.ir.ops import OperatorRegistry, OperatorSpec
from nader.plugins import hookspecs

ENTRY_POINT_GROUP = "nader"
ALLOWLIST_ENV = "NADER_LOAD_PLUGINS"

#: Modules whose hook implementations make up the built-in plugins (always loaded).
BUILTIN_PLUGIN_MODULES: tuple[str, ...] = (
    "nader.plugins.builtin_operators",
    "nader.agents.plugin",
)


class NamedRegistry:
    """Name → object table for one kind of extension, remembering who registered what."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, Any] = {}
        self._owners: dict[str, str] = {}

    def add(self, name: str, item: Any, plugin: str) -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {plugin!r} registered a {self.kind} without a valid name: {name!r}")
        if name in self._items:
            raise PluginError(
                f"{self.kind} {name!r} from plugin {plugin!r} clashes with the one from plugin "
                f"{self._owners[name]!r}"
            )
        self._items[name] = item
        self._owners[name] = plugin

    def get(self, name: str) -> Any:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise PluginError(f"no {self.kind} named {name!r}; available: {known}") from None

    def owner(self, name: str) -> str:
        return self._owners[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def names(self) -> list[str]:
        return list(self._items)


@dataclass
class PluginInfo:
    """One loaded plugin: name, version, what it registered and what went wrong."""

    name: str
    version: str | None
    builtin: bool
    registered: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "builtin": self.builtin,
            "registered": self.registered,
            "errors": self.errors,
        }


@dataclass
class Runtime:
    """Everything plugins contributed, held by the CLI or passed in by library users."""

    operators: OperatorRegistry
    lowerings: dict[str, Callable[..., Any]]
    llm_providers: NamedRegistry
    search_policies: NamedRegistry
    datasets: NamedRegistry
    embedders: NamedRegistry
    executors: NamedRegistry
    plugins: list[PluginInfo]
    plugin_manager: pluggy.PluginManager = field(repr=False)

    @property
    def errors(self) -> list[str]:
        return [f"{p.name}: {e}" for p in self.plugins for e in p.errors]


def _allowlist() -> set[str] | None:
    raw = os.environ.get(ALLOWLIST_ENV)
    if raw is None:
        return None
    return {part.strip().lower() for part in raw.split(",") if part.strip()}


def _normalize_dist(name: str) -> str:
    return name.lower().replace("_", "-")


def _entry_point_plugins() -> Iterable[tuple[str, str | None, Any]]:
    allowed = _allowlist()
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(entry, "dist", None)
        dist_name = dist.name if dist is not None else entry.name
        if allowed is not None and _normalize_dist(dist_name) not in {_normalize_dist(a) for a in allowed}:
            continue
        version = dist.version if dist is not None else None
        yield dist_name, version, entry


def build_runtime(
    *,
    load_entry_points: bool = True,
    extra_plugins: Iterable[tuple[str, Any]] = (),
) -> Runtime:
    """A fresh plugin manager and the registries its plugins fill.

    :param load_entry_points: load third-party plugins from the ``nader`` entry-point group
        (filtered by ``NADER_LOAD_PLUGINS``; set and empty loads none).
    :param extra_plugins: ``(name, plugin_object)`` pairs registered directly (tests, notebooks).
    :raises PluginError: when two plugins register the same name.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    owners: dict[str, str] = {}  # pluggy plugin name -> PluginInfo key
    infos["nader"] = PluginInfo("nader", _own_version(), builtin=True)
    for module_name in BUILTIN_PLUGIN_MODULES:
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name)
        owners[module_name] = "nader"
    if load_entry_points:
        for dist_name, version, entry in _entry_point_plugins():
            info = infos.setdefault(dist_name, PluginInfo(dist_name, version, builtin=False))
            try:
                plugin = entry.load()
                pm.register(plugin, name=f"{dist_name}:{entry.name}")
                owners[f"{dist_name}:{entry.name}"] = dist_name
            except Exception as err:  # noqa: BLE001 - a broken plugin must not stop the host
                info.errors.append(f"could not load entry point {entry.value!r}: {type(err).__name__}: {err}")
    for name, plugin in extra_plugins:
        pm.register(plugin, name=name)
        owners[name] = name
        infos.setdefault(name, PluginInfo(name, None, builtin=False))

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

    def owner_of(plugin_name: str) -> PluginInfo:
        return infos[owners[plugin_name]]

    for hook_name in hookspecs.HOOK_NAMES:
        caller = getattr(pm.hook, hook_name)
        # get_hookimpls() lists last-registered first; call built-ins first for stable listings
        for impl in reversed(caller.get_hookimpls()):
            info = owner_of(impl.plugin_name)
            register = _make_register(runtime, hook_name, info)
            try:
                impl.function(register=register)
            except PluginError as err:
                if "clashes with" in str(err):
                    raise
                info.errors.append(str(err))
            except Exception as err:  # noqa: BLE001 - isolate one plugin's crash
                info.errors.append(f"{hook_name} raised {type(err).__name__}: {err}")
    runtime.plugins = list(infos.values())
    return runtime


def _make_register(runtime: Runtime, hook_name: str, info: PluginInfo) -> Callable[..., None]:
    listing = info.registered.setdefault(hook_name.removeprefix("register_"), [])

    if hook_name == "register_operators":

        def register_operator(spec: OperatorSpec, *, lowering: Callable[..., Any] | None = None) -> None:
            try:
                runtime.operators.register(spec, plugin=info.name)
            except PluginError as err:
                if "clashes with" in str(err):
                    raise
                info.errors.append(str(err))
                return
            if lowering is not None:
                if not callable(lowering):
                    info.errors.append(f"lowering for operator {spec.name!r} is not callable")
                else:
                    runtime.lowerings[spec.name] = lowering
            listing.append(spec.name)

        return register_operator

    table = {
        "register_llm_providers": runtime.llm_providers,
        "register_search_policies": runtime.search_policies,
        "register_datasets": runtime.datasets,
        "register_embedders": runtime.embedders,
        "register_executors": runtime.executors,
    }[hook_name]

    def register_named(name: str, factory: Any) -> None:
        if not callable(factory):
            info.errors.append(f"{table.kind} {name!r} is not callable")
            return
        table.add(name, factory, info.name)
        listing.append(name)

    return register_named


def _own_version() -> str | None:
    try:
        return metadata.version("nader")
    except metadata.PackageNotFoundError:
        return None
