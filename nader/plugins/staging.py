"""One hook call of one plugin is one transaction: registrations are staged, then committed.

A plugin's ``register`` calls go into a batch. Each item is checked when it arrives: an invalid
item is refused with an error naming the plugin and what was wrong, and the plugin's other items
still count (they were checked on their own). A name that is already taken is recorded as a
clash. When the hook returns, the batch is committed to the runtime; when the hook raises, the
whole batch is dropped, because a plugin that crashed midway may have registered an operator
without the helper it needed, and half a plugin is worse than none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nader.hookspecs import Lowering
from nader.ir.ops import OperatorSpec
from nader.ir.registry import spec_problems
from nader.plugins.registries import PluginInfo, Runtime


@dataclass
class Batch:
    """What one hook call of one plugin registered, not yet visible in the runtime."""

    runtime: Runtime
    hook_name: str
    plugin: PluginInfo
    errors: list[str] = field(default_factory=list)
    clashes: list[str] = field(default_factory=list)
    _operators: list[tuple[OperatorSpec, Lowering | None]] = field(default_factory=list, init=False)
    _operator_names: dict[str, str] = field(default_factory=dict, init=False)  # folded -> name
    _factories: dict[str, Any] = field(default_factory=dict, init=False)

    @property
    def kind(self) -> str:
        return self.hook_name.removeprefix("register_")

    def __len__(self) -> int:
        return len(self._operators) + len(self._factories)

    # -------------------------------------------------------------------- register callbacks

    def register_operator(self, spec: OperatorSpec, *, lowering: Lowering | None = None) -> None:
        """The ``register`` that ``register_operators`` receives."""
        if not isinstance(spec, OperatorSpec):
            self.errors.append(
                f"registered {spec!r} as an operator; register_operators takes an OperatorSpec"
            )
            return
        try:
            problems = spec_problems(spec)
        except (TypeError, AttributeError) as err:  # fields of the wrong type altogether
            problems = [f"a field has the wrong type ({type(err).__name__}: {err})"]
        if lowering is not None and not callable(lowering):
            problems.append(f"lowering {lowering!r} is not callable")
        if problems:
            self.errors.append(
                f"registered an invalid operator {spec.name!r}: {'; '.join(problems)}"
            )
            return
        for name in (spec.name, *spec.aliases):
            clash = self._operator_clash(name)
            if clash is not None:
                self.clashes.append(clash)
                return
        for name in (spec.name, *spec.aliases):
            self._operator_names[name.lower()] = spec.name
        self._operators.append((spec, lowering))

    def register_factory(self, name: str, factory: Any) -> None:
        """The ``register`` that every other hook receives."""
        table = self.runtime.registry_for(self.hook_name)
        if not isinstance(name, str) or not name or name != name.strip():
            self.errors.append(f"registered a {table.kind} with an invalid name {name!r}")
            return
        if not callable(factory):
            self.errors.append(f"registered {table.kind} {name!r} with {factory!r}, not a factory")
            return
        if name in self._factories:
            self.clashes.append(
                f"plugin {self.plugin.name!r} registers {table.kind} {name!r} twice"
            )
            return
        if name in table:
            self.clashes.append(
                f"{table.kind} {name!r} is registered by both plugin {table.owner(name)!r} "
                f"and plugin {self.plugin.name!r}"
            )
            return
        self._factories[name] = factory

    # ------------------------------------------------------------------------------- commit

    def commit(self) -> None:
        """Make every staged item visible in the runtime and in the plugin's listing."""
        if not len(self):
            return
        listing = self.plugin.registered.setdefault(self.kind, [])
        for spec, lowering in self._operators:
            self.runtime.operators.register(spec, plugin=self.plugin.name)
            if lowering is not None:
                self.runtime.lowerings[spec.name] = lowering
            listing.append(spec.name)
        if self._factories:
            table = self.runtime.registry_for(self.hook_name)
            for name, factory in self._factories.items():
                table.add(name, factory, self.plugin.name)
                listing.append(name)

    def _operator_clash(self, name: str) -> str | None:
        if name.lower() in self._operator_names:
            return f"plugin {self.plugin.name!r} registers operator {name!r} twice"
        other = self.runtime.operators.get(name)
        if other is None:
            return None
        as_other = "" if other.name == name else f" (as {other.name!r})"
        return (
            f"operator {name!r} is registered by both plugin {other.source!r}{as_other} "
            f"and plugin {self.plugin.name!r}"
        )
