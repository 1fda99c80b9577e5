"""What a runtime holds: the host-owned registries, and a record of each loaded plugin.

Kept apart from the manager so that code which only reads a runtime (the CLI, the agents) does
not need to know how plugins are loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pluggy

from nader.errors import PluginError
from nader.hookspecs import Lowering
from nader.ir.registry import OperatorRegistry


class NamedRegistry:
    """Name → factory table for one kind of extension, remembering which plugin owns each name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, Any] = {}
        self._owners: dict[str, str] = {}

    def add(self, name: str, item: Any, plugin: str) -> None:
        """Store ``item``; the manager checked the name, so a clash here is a bug."""
        if name in self._items:
            raise PluginError(
                f"{self.kind} {name!r} from plugin {plugin!r} clashes with the one from plugin "
                f"{self._owners[name]!r}"
            )
        self._items[name] = item
        self._owners[name] = plugin

    def get(self, name: str) -> Any:
        """The factory registered as ``name``; an unknown name lists the known ones."""
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise PluginError(f"no {self.kind} named {name!r}; available: {known}") from None

    def owner(self, name: str) -> str:
        """The plugin that registered ``name``."""
        return self._owners[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return list(self._items)


@dataclass
class PluginInfo:
    """One plugin as ``nader plugins`` shows it: where it came from, what it registered, errors.

    ``registered`` maps a kind (the hook name without ``register_``: ``operators``,
    ``llm_providers``...) to the names this plugin registered, in order. All built-in modules
    together are the one plugin ``nader``.
    """

    name: str
    version: str | None
    builtin: bool
    loaded_from: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "builtin": self.builtin,
            "loaded_from": list(self.loaded_from),
            "registered": {kind: list(names) for kind, names in self.registered.items() if names},
            "errors": list(self.errors),
        }


@dataclass
class Runtime:
    """Everything the plugins contributed; built by :func:`nader.plugins.manager.build_runtime`.

    The CLI makes one per invocation; library users make their own and pass it in. ``lowerings``
    maps an operator's canonical name (``spec.name``) to its lowering.
    """

    operators: OperatorRegistry
    lowerings: dict[str, Lowering]
    llm_providers: NamedRegistry
    search_policies: NamedRegistry
    datasets: NamedRegistry
    embedders: NamedRegistry
    executors: NamedRegistry
    plugins: list[PluginInfo]
    plugin_manager: pluggy.PluginManager = field(repr=False)
    #: Installed plugin distributions that ``NADER_LOAD_PLUGINS`` left out.
    skipped: list[str] = field(default_factory=list)
    #: Problems that belong to no single plugin (e.g. an allow-list naming nothing installed).
    problems: list[str] = field(default_factory=list)
    #: Experiment trackers (``register_trackers``); last only because it has a default.
    trackers: NamedRegistry = field(default_factory=lambda: NamedRegistry("tracker"))

    @property
    def errors(self) -> list[str]:
        """Every problem as one line that starts with the plugin's name (the CLI prints these)."""
        return self.problems + [f"{p.name}: {e}" for p in self.plugins for e in p.errors]

    def plugin(self, name: str) -> PluginInfo:
        """The loaded plugin called ``name`` (a distribution name, or ``nader`` for built-ins)."""
        for info in self.plugins:
            if info.name == name:
                return info
        known = ", ".join(p.name for p in self.plugins)
        raise PluginError(f"no plugin named {name!r} is loaded; loaded: {known}")

    def registry_for(self, hook_name: str) -> NamedRegistry:
        """The table a ``register_*`` hook (other than ``register_operators``) fills."""
        tables = {
            "register_llm_providers": self.llm_providers,
            "register_search_policies": self.search_policies,
            "register_datasets": self.datasets,
            "register_embedders": self.embedders,
            "register_executors": self.executors,
            "register_trackers": self.trackers,
        }
        return tables[hook_name]
