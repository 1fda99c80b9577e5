"""The host-owned registry of operators that built-ins and plugins fill, and the one
validation of an operator spec.

There is no global registry: :func:`nader.ir.builtin_ops.default_registry` builds a fresh one,
and the plugin manager builds one from every plugin's ``register_operators`` hook.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from nader.errors import PluginError
from nader.ir.graph import Node, NodeKind, node_kind
from nader.ir.ops import (
    BUILTIN_SOURCE,
    BoundParams,
    OperatorSpec,
    OpParams,
    ParamProblem,
    bind_params_unchecked,
    check_value_sizes,
)
from nader.ir.spelling import closest

#: bindings an :class:`OperatorRegistry` keeps (then it starts over)
BINDINGS_LIMIT = 8192


@dataclass
class OperatorRegistry:
    """Host-owned table of operators; filled through ``register`` (built-ins and plugins alike)."""

    _specs: dict[str, OperatorSpec] = field(default_factory=dict)
    _folded: dict[str, str] = field(default_factory=dict)
    #: bindings already validated, by (operator, arguments): nodes written alike — within a
    #: block and across a session's designs — are validated once. Owned by the registry (no
    #: module state), bounded by :data:`BINDINGS_LIMIT`.
    _bindings: dict[tuple[Any, ...], BoundParams | ParamProblem] = field(
        default_factory=dict, repr=False, compare=False
    )

    def register(self, spec: OperatorSpec, *, plugin: str = BUILTIN_SOURCE) -> None:
        """Add ``spec``; a name already taken (ignoring case) is an error naming both plugins."""
        if not isinstance(spec, OperatorSpec):
            raise PluginError(
                f"plugin {plugin!r} registered {spec!r}, which is not an OperatorSpec"
            )
        try:
            problems = spec_problems(spec)
        except (TypeError, AttributeError) as err:  # fields of the wrong type altogether
            problems = [f"a field has the wrong type ({type(err).__name__}: {err})"]
        if problems:
            raise PluginError(
                f"plugin {plugin!r} registered an invalid operator "
                f"{getattr(spec, 'name', '?')!r}: " + "; ".join(problems)
            )
        spec = _with_source(spec, plugin)
        for name in (spec.name, *spec.aliases):
            folded = name.lower()
            if folded in self._folded:
                other = self._specs[self._folded[folded]]
                raise PluginError(
                    f"operator {name!r} from plugin {plugin!r} clashes with {other.name!r} "
                    f"from plugin {other.source!r}"
                )
        self._specs[spec.name] = spec
        for name in (spec.name, *spec.aliases):
            self._folded[name.lower()] = spec.name

    def bind(self, spec: OperatorSpec, node: Node) -> BoundParams:
        """:func:`bind_params`, memoized in this registry (problems too, raised again)."""
        check_value_sizes(spec, node)
        key = (spec.name, spec.source, node.args, node.kwargs)
        try:
            found = self._bindings.get(key)
        except TypeError:  # an unhashable value (never from the parser): bind it uncached
            return bind_params_unchecked(spec, node)
        if found is None:
            try:
                found = bind_params_unchecked(spec, node)
            except ParamProblem as problem:
                found = problem
            if len(self._bindings) >= BINDINGS_LIMIT:
                self._bindings.clear()
            self._bindings[key] = found
        if isinstance(found, ParamProblem):
            raise ParamProblem(found.code, found.message)
        return found

    def get(self, name: str) -> OperatorSpec | None:
        """Exact name first, then case-insensitive (the corpus writes both ``concat`` and ``Concat``)."""
        spec = self._specs.get(name)
        if spec is not None:
            return spec
        canonical = self._folded.get(name.lower())
        return self._specs[canonical] if canonical is not None else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[OperatorSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return list(self._specs)

    def closest(self, name: str) -> list[str]:
        """Names that look like ``name``, for "did you mean" hints."""
        return closest(name, self._specs, n=3)


def _with_source(spec: OperatorSpec, plugin: str) -> OperatorSpec:
    return spec if spec.source == plugin else replace(spec, source=plugin)


def spec_problems(spec: OperatorSpec) -> list[str]:
    """Everything wrong with ``spec``, each field and the fields read together (empty when
    nothing is). The one validation of an operator spec: the registry refuses a spec with
    problems, and the plugin manager reports them all, naming the plugin."""
    problems: list[str] = []
    if not isinstance(spec.name, str) or not spec.name.isidentifier():
        problems.append(f"name {spec.name!r} is not an identifier")
    if not callable(spec.shape_rule):
        problems.append("shape_rule is not callable")
    if not callable(spec.cost_rule):
        problems.append("cost_rule is not callable")
    if not isinstance(spec.min_inputs, int) or spec.min_inputs < 0:
        problems.append("min_inputs must be a non-negative integer")
    if spec.max_inputs is not None and (
        not isinstance(spec.max_inputs, int) or spec.max_inputs < spec.min_inputs
    ):
        problems.append("max_inputs must be None or an integer >= min_inputs")
    params = spec.params
    if not (isinstance(params, type) and issubclass(params, OpParams)):
        problems.append(
            "params must be a subclass of nader.ir.OpParams (frozen, unknown keys rejected)"
        )
        fields: set[str] = set()
    else:
        fields = set(params.model_fields)
    for label, names in (("positional", spec.positional), ("positive", spec.positive)):
        unknown = [name for name in names if name not in fields]
        if unknown:
            problems.append(f"{label} names {unknown} that are not parameters ({sorted(fields)})")
    if spec.varargs is not None and spec.varargs not in fields:
        problems.append(f"varargs {spec.varargs!r} is not a parameter ({sorted(fields)})")
    if spec.max_inputs == 0 and node_kind(str(spec.name)) is not NodeKind.INPUT:
        problems.append("an operator takes at least one input (max_inputs=0 is for block inputs)")
    bad_aliases = [alias for alias in spec.aliases if not str(alias).isidentifier()]
    if bad_aliases:
        problems.append(f"aliases {bad_aliases} are not identifiers")
    if not isinstance(spec.summary, str) or not isinstance(spec.example, str):
        problems.append("summary and example must be strings")
    return problems
