"""Operators as data, and the host-owned registry that plugins fill.

An :class:`OperatorSpec` says everything the generic passes need: arity, a pydantic parameter
model (defaults, types), a pure shape rule, a cost rule, and whether inputs commute. Adding an
operator never touches the verifier, the hash or the cost model; the backend looks up a
lowering by the same name.

The registry that holds them is :mod:`nader.ir.registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Annotated, Any, NamedTuple, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from nader.errors import ExpressionError
from nader.ir.expr import BinOp, Const, Neg, Sym, check_size, evaluate, symbols_of
from nader.ir.graph import Node, Value
from nader.ir.shapes import ShapeProblem, TensorShape
from nader.ir.spelling import did_you_mean

#: ``OperatorSpec.source`` of the operators nader itself defines.
BUILTIN_SOURCE = "nader"
#: Symbols whose value depends on the input image size.
_IMAGE_SYMBOLS = frozenset({"H", "W"})
_EXPR_TYPES = (Const, Sym, BinOp, Neg)


def _as_expr(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a size (integer or expression), got a boolean")
    if isinstance(value, int):
        return Const(value)
    if isinstance(value, float):
        raise ValueError(f"expected an integer size, got {value!r}")
    if isinstance(value, _EXPR_TYPES):
        return value
    if isinstance(value, tuple):
        raise ValueError("expected a single size, got a tuple")
    raise ValueError(f"expected a size, got {value!r}")


def _as_exprs(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_as_expr(item) for item in value)
    return (_as_expr(value),)


def _as_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, Const) and value.value in (0, 1):
        return bool(value.value)
    raise ValueError("expected True or False")


def _as_float(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, float):
        return value
    if isinstance(value, Const):
        return float(value.value)
    raise ValueError("expected a number")


#: A size parameter: an integer or symbolic expression, evaluated at each probe.
Size = Annotated[Any, BeforeValidator(_as_expr)]
#: One size or a tuple of sizes (``kernel_size=(3,1)``, ``dim=(2,3)``).
Sizes = Annotated[tuple[Any, ...], BeforeValidator(_as_exprs)]
Flag = Annotated[bool, BeforeValidator(_as_bool)]
Number = Annotated[float, BeforeValidator(_as_float)]


class OpParams(BaseModel):
    """Base class of operator parameter models: frozen, unknown keys rejected."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, validate_default=True
    )


class NoParams(OpParams):
    pass


@dataclass(frozen=True, slots=True)
class Cost:
    """Per-sample costs of one node.

    ``params``: trainable parameters. ``flops``: multiply-adds of Conv2d and Linear with their
    biases, NAS-Bench-201's convention. ``macs``: multiply-adds of conv, linear and matmul
    without biases — what fvcore counts.
    """

    params: int = 0
    flops: int = 0
    macs: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.params + other.params, self.flops + other.flops, self.macs + other.macs)


ZERO_COST = Cost()

#: ``shape_rule(inputs, params)``: params are the model's fields with sizes evaluated to ints.
ShapeRule = Callable[[list[TensorShape], Mapping[str, Any]], TensorShape]
#: ``cost_rule(inputs, output, params)`` with batch-inclusive shapes; returns whole-batch cost.
CostRule = Callable[[list[TensorShape], TensorShape, Mapping[str, Any]], Cost]


def _no_cost(inputs: list[TensorShape], output: TensorShape, params: Mapping[str, Any]) -> Cost:
    return ZERO_COST


@dataclass(frozen=True)
class OperatorSpec:
    """Everything the IR passes need to know about one operator."""

    name: str
    shape_rule: ShapeRule
    params: type[OpParams] = NoParams
    cost_rule: CostRule = _no_cost
    min_inputs: int = 1
    max_inputs: int | None = 1
    commutative: bool = False
    varargs: str | None = None
    #: Layer operators may not use B, H or W in parameters (their weights would depend on the
    #: input size); shape operators such as reshape may.
    layer: bool = True
    #: Parameter names, in order, that positional arguments fill (e.g. ``Conv2d(16, 3)``).
    positional: tuple[str, ...] = ()
    #: For sizes that must be positive (channels, kernel sizes); names of such fields.
    positive: tuple[str, ...] = ()
    summary: str = ""
    example: str = ""
    aliases: tuple[str, ...] = ()
    source: str = BUILTIN_SOURCE

    def arity_text(self) -> str:
        if self.max_inputs == self.min_inputs:
            return f"exactly {self.min_inputs}"
        if self.max_inputs is None:
            return f"at least {self.min_inputs}"
        return f"{self.min_inputs} to {self.max_inputs}"


class ParamProblem(Exception):
    """A node's arguments do not fit its operator's parameter model."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


#: ``Probe.key()``: the probe's sizes as a hashable tuple, memo key of evaluated parameters.
EnvKey = tuple[int, ...]


@dataclass(frozen=True, eq=False)
class BoundParams:
    """A node's validated parameters: the pydantic model plus the sizes still symbolic.

    Everything that does not depend on the probe — which symbols each size mentions, which
    sizes depend on the image size — is computed once when the parameters are bound, and the
    evaluated values are memoized per probe (parameters are immutable and nodes repeat a lot
    across the architectures of a session, so the verifier mostly looks values up).
    """

    model: OpParams
    sizes: tuple[tuple[str, Any], ...]  # (field, Expr | tuple[Expr, ...]) for evaluation
    others: tuple[tuple[str, Any], ...]  # non-size fields (bools, floats)
    #: per size field, the symbols each of its items mentions
    field_symbols: tuple[tuple[str, tuple[frozenset[str], ...]], ...] = ()
    #: every symbol any size mentions
    symbols: frozenset[str] = frozenset()
    #: per size field, whether each item depends on H or W (passed to rules as ``_spatial``)
    spatial: Mapping[str, tuple[bool, ...]] = field(default_factory=dict)
    _memo: dict[EnvKey, Any] = field(default_factory=dict, repr=False)
    #: probe-independent facts other passes derive once (e.g. the canonical node label)
    derived: dict[str, Any] = field(default_factory=dict, repr=False)
    _applied: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)

    def apply(
        self, spec: OperatorSpec, env: Mapping[str, int], key: EnvKey, inputs: list[TensorShape]
    ) -> Applied:
        """Run ``spec``'s shape and cost rules on ``inputs`` with these parameters at ``env``.

        Rules are pure (the operator contract), so results — and the problems rules report —
        are memoized per probe and input shapes: a node written like one already checked with
        the same input shapes costs a dictionary lookup. Exceptions other than
        :class:`ShapeProblem` and :class:`ExpressionError` propagate and are not memoized.
        """
        memo_key = (key, *inputs)
        found = self._applied.get(memo_key)
        if found is None:
            try:
                evaluated = self.evaluate(spec, env, key)
                if spec.source == BUILTIN_SOURCE:  # tested here; the hot path pays no guard
                    out = spec.shape_rule(inputs, evaluated.values)
                    cost = spec.cost_rule(inputs, out, evaluated.values)
                else:
                    out, cost = _guarded_rules(spec, inputs, evaluated.values)
                found = Applied(out, cost, evaluated.largest)
            except ExpressionError as err:
                found = ("expression", "expression-error", str(err))
            except ShapeProblem as problem:
                found = ("shape", problem.code, problem.message)
            _remember(self._applied, memo_key, found)
        return _replay(found, Applied)

    def normalized_items(self) -> tuple[tuple[str, Any], ...]:
        return tuple(sorted(self.sizes + self.others))

    def evaluate(self, spec: OperatorSpec, env: Mapping[str, int], key: EnvKey) -> Evaluated:
        """Field values with every size evaluated in ``env`` and checked against
        ``spec.positive``; ``key`` identifies ``env``. Raises :class:`ExpressionError` or
        :class:`ShapeProblem` (memoized like the values)."""
        memo_key = key if self.symbols else ()
        found = self._memo.get(memo_key)
        if found is None:
            found = self._evaluate(spec, env)
            _remember(self._memo, memo_key, found)
        return _replay(found, Evaluated)

    def _evaluate(self, spec: OperatorSpec, env: Mapping[str, int]) -> Any:
        values: dict[str, Any] = dict(self.others)
        largest = 0
        try:
            for name, value in self.sizes:
                if isinstance(value, tuple):
                    items = tuple(evaluate(item, env) for item in value)
                    values[name] = items
                    largest = max(largest, *(abs(item) for item in items)) if items else largest
                else:
                    values[name] = result = evaluate(value, env)
                    largest = max(largest, abs(result))
            check_positive(spec, values)
        except ExpressionError as err:
            return ("expression", "expression-error", str(err))
        except ShapeProblem as problem:
            return ("shape", problem.code, problem.message)
        values["_spatial"] = self.spatial
        return Evaluated(MappingProxyType(values), largest)


#: The diagnostic code of a plugin's rule that crashed or returned the wrong type.
PLUGIN_RULE_ERROR = "plugin-error"


def _guarded_rules(
    spec: OperatorSpec, inputs: list[TensorShape], values: Mapping[str, Any]
) -> tuple[TensorShape, Cost]:
    """A plugin's shape and cost rules, called so that a crash or a wrong result becomes a
    ``plugin-error`` problem of the node (naming operator and plugin), never a traceback."""
    prefix = f"{spec.name} (from plugin {spec.source!r}): its"
    try:
        out = spec.shape_rule(inputs, values)
    except (ShapeProblem, ExpressionError):
        raise  # the rule's own verdict on its inputs, meant for the user
    except Exception as err:
        raise ShapeProblem(
            PLUGIN_RULE_ERROR, f"{prefix} shape rule raised {type(err).__name__}: {err}"
        ) from err
    if not (
        isinstance(out, TensorShape)
        and len(out.dims) == len(out.spatial)
        and all(isinstance(d, int) and not isinstance(d, bool) for d in out.dims)
    ):
        raise ShapeProblem(
            PLUGIN_RULE_ERROR,
            f"{prefix} shape rule returned {out!r}, not a TensorShape of integers",
        )
    try:
        cost = spec.cost_rule(inputs, out, values)
    except (ShapeProblem, ExpressionError):
        raise
    except Exception as err:
        raise ShapeProblem(
            PLUGIN_RULE_ERROR, f"{prefix} cost rule raised {type(err).__name__}: {err}"
        ) from err
    if not (
        isinstance(cost, Cost)
        and all(isinstance(v, int) and v >= 0 for v in (cost.params, cost.flops, cost.macs))
    ):
        raise ShapeProblem(
            PLUGIN_RULE_ERROR,
            f"{prefix} cost rule returned {cost!r}, not a Cost of non-negative integers",
        )
    return out, cost


class Applied(NamedTuple):
    """A node's result at one probe: output shape, cost, and the largest absolute size among
    its parameters (which the verifier bounds)."""

    output: TensorShape
    cost: Cost
    largest: int


class Evaluated(NamedTuple):
    """A node's parameters at one probe: read-only values (sizes as ints) and the largest
    absolute size, which the verifier bounds before a rule allocates anything."""

    values: Mapping[str, Any]
    largest: int


_MEMO_LIMIT = 64
ResultT = TypeVar("ResultT")


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    """Store ``value``; a memo that reached its bound starts over (probes are few)."""
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = value


def _replay(found: Any, result_type: type[ResultT]) -> ResultT:
    """A memoized result, or the memoized problem raised again as it was first raised."""
    if isinstance(found, result_type):
        return found
    kind, code, message = found
    if kind == "expression":
        raise ExpressionError(message)
    raise ShapeProblem(code, message)


def _describe_pydantic(err: ValidationError, spec: OperatorSpec) -> tuple[str, str]:
    first = err.errors()[0]
    location = ".".join(str(part) for part in first.get("loc", ()))
    kind = first.get("type", "")
    fields = ", ".join(spec.params.model_fields) or "no parameters"
    if kind == "missing":
        return (
            "missing-parameter",
            f"{spec.name} needs parameter {location!r} (parameters: {fields})",
        )
    if kind == "extra_forbidden":
        hint = did_you_mean(location, spec.params.model_fields)
        return (
            "unknown-parameter",
            f"{spec.name} has no parameter {location!r}{hint}; it takes {fields}",
        )
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if not location:  # a check across the whole parameter model
        return ("invalid-parameter", f"{spec.name}: {message}")
    return ("invalid-parameter", f"{spec.name} parameter {location!r}: {message}")


def bind_params_unchecked(spec: OperatorSpec, node: Node) -> BoundParams:
    """:func:`bind_params` without the size check (the caller made it)."""
    args, kwargs = node.args, node.kwargs
    values: dict[str, Any] = {}
    if spec.varargs is not None:
        if args:
            values[spec.varargs] = tuple(args)
    else:
        if len(args) > len(spec.positional):
            if not spec.params.model_fields:
                raise ParamProblem(
                    "unknown-parameter", f"{spec.name} takes no parameters; write {spec.name}"
                )
            raise ParamProblem(
                "invalid-parameter",
                f"{spec.name} takes at most {len(spec.positional)} positional arguments "
                f"({', '.join(spec.positional) or 'none'}); write key=value, e.g. "
                f"{spec.example or spec.name}",
            )
        values.update(zip(spec.positional, args, strict=False))
    for key, value in kwargs:
        if key in values:
            raise ParamProblem("invalid-parameter", f"{spec.name}: parameter {key!r} given twice")
        values[key] = value
    try:
        model = spec.params.model_validate(values)
    except ValidationError as err:
        raise ParamProblem(*_describe_pydantic(err, spec)) from None
    sizes: list[tuple[str, Any]] = []
    others: list[tuple[str, Any]] = []
    field_symbols: list[tuple[str, tuple[frozenset[str], ...]]] = []
    spatial: dict[str, tuple[bool, ...]] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, (tuple, *_EXPR_TYPES)):
            sizes.append((name, value))
            items = value if isinstance(value, tuple) else (value,)
            used = tuple(symbols_of(item) for item in items)
            field_symbols.append((name, used))
            spatial[name] = tuple(bool(symbols & _IMAGE_SYMBOLS) for symbols in used)
        else:
            others.append((name, value))
    every = frozenset().union(*(s for _, used in field_symbols for s in used))
    return BoundParams(model, tuple(sizes), tuple(others), tuple(field_symbols), every, spatial)


def bind_params(spec: OperatorSpec, node: Node) -> BoundParams:
    """Validate a node's arguments against its operator (:meth:`OperatorRegistry.bind`
    memoizes this per registry). Expressions are size-checked first (the parser already does
    this; it guards nodes built in code), so hashing and evaluating them never recurse deeply.
    """
    check_value_sizes(spec, node)
    return bind_params_unchecked(spec, node)


def check_value_sizes(spec: OperatorSpec, node: Node) -> None:
    """Every expression among ``node``'s arguments is within the size limits."""
    for value in (*node.args, *(value for _, value in node.kwargs)):
        _check_value_size(spec, value)


def _check_value_size(spec: OperatorSpec, value: Value) -> None:
    for item in value if isinstance(value, tuple) else (value,):
        if isinstance(item, (BinOp, Neg)):
            try:
                check_size(item)
            except ExpressionError as err:
                raise ParamProblem("expression-too-large", f"{spec.name}: {err}") from None


def check_positive(spec: OperatorSpec, values: Mapping[str, Any]) -> None:
    """Sizes named in ``spec.positive`` must be positive integers at the probe."""
    for name in spec.positive:
        value = values.get(name)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if item is not None and item <= 0:
                raise ShapeProblem(
                    "non-positive-size",
                    f"{spec.name} parameter {name!r} evaluates to {item}; sizes must be positive integers",
                )
