"""Symbolic size expressions: ``C/4``, ``dim-C``, ``(C+dim)//2``, evaluated without ``eval``.

Expressions are tiny immutable trees built by the parser (never from Python source). Only the
symbols ``C``, ``dim``, ``B``, ``H``, ``W`` exist; only ``+ - * / //`` and unary minus. A single
``/`` is integer (floor) division, as in the authors' code. Evaluation enforces limits on depth
and magnitude so that hostile text cannot make us build huge numbers.

:func:`normalize` gives the canonical form used by hashing and printing: ``/`` becomes ``//``,
constants fold, and the operands of ``+`` and ``*`` are flattened and sorted, so ``C/4`` and
``C//4``, or ``2*C`` and ``C*2``, are the same expression.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Union

from nader.errors import ExpressionError

SYMBOLS: frozenset[str] = frozenset({"C", "dim", "B", "H", "W"})
SPATIAL_SYMBOLS: frozenset[str] = frozenset({"B", "H", "W"})
MAX_MAGNITUDE = 2**40
MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Const:
    value: int

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True, slots=True)
class Sym:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str  # one of "+", "-", "*", "//"
    left: Expr
    right: Expr

    def __str__(self) -> str:
        # A single "/" is integer division in the block format (as in the authors' files).
        symbol = "/" if self.op == "//" else self.op
        return f"{_wrap(self.left, self.op, False)}{symbol}{_wrap(self.right, self.op, True)}"


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"-{inner}" if isinstance(self.operand, (Const, Sym)) else f"-({inner})"


Expr = Union[Const, Sym, BinOp, Neg]

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "//": 2}


def _wrap(expr: Expr, parent: str, right: bool) -> str:
    text = str(expr)
    if isinstance(expr, BinOp):
        mine, theirs = _PRECEDENCE[expr.op], _PRECEDENCE[parent]
        if mine < theirs or (right and mine == theirs and parent in ("-", "//", "*")):
            return f"({text})"
    if isinstance(expr, Neg) and right:
        return f"({text})"
    return text


def symbols_of(expr: Expr) -> frozenset[str]:
    """The symbol names an expression mentions."""
    found: set[str] = set()
    stack: list[Expr] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, Sym):
            found.add(item.name)
        elif isinstance(item, BinOp):
            stack.append(item.left)
            stack.append(item.right)
        elif isinstance(item, Neg):
            stack.append(item.operand)
    return frozenset(found)


def depth_of(expr: Expr) -> int:
    if isinstance(expr, BinOp):
        return 1 + max(depth_of(expr.left), depth_of(expr.right))
    if isinstance(expr, Neg):
        return 1 + depth_of(expr.operand)
    return 1


def _check(value: int) -> int:
    if -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
        return value
    raise ExpressionError(f"value {value} exceeds the magnitude limit of {MAX_MAGNITUDE}")


def evaluate(expr: Expr, env: Mapping[str, int]) -> int:
    """Evaluate ``expr`` with integer symbols from ``env``.

    Raises :class:`ExpressionError` for an unknown symbol, division by zero, or a value outside
    ``±MAX_MAGNITUDE``. Division floors like Python's ``//``.
    """
    if isinstance(expr, Const):
        return _check(expr.value)
    if isinstance(expr, Sym):
        try:
            return env[expr.name]
        except KeyError:
            raise ExpressionError(f"unknown symbol {expr.name!r}") from None
    if isinstance(expr, Neg):
        return -evaluate(expr.operand, env)
    left = evaluate(expr.left, env)
    right = evaluate(expr.right, env)
    if expr.op == "+":
        return _check(left + right)
    if expr.op == "-":
        return _check(left - right)
    if expr.op == "*":
        return _check(left * right)
    if right == 0:
        raise ExpressionError(f"division by zero in {expr}")
    return _check(left // right)


def _flatten(expr: Expr, op: str, out: list[Expr]) -> None:
    if isinstance(expr, BinOp) and expr.op == op:
        _flatten(expr.left, op, out)
        _flatten(expr.right, op, out)
    else:
        out.append(expr)


def _sort_key(expr: Expr) -> tuple[int, str]:
    return (0, f"{expr.value:020d}") if isinstance(expr, Const) else (1, str(expr))


def normalize(expr: Expr) -> Expr:
    """Canonical form: fold constants, sort commutative operands, one division operator."""
    if isinstance(expr, (Const, Sym)):
        return expr
    if isinstance(expr, Neg):
        inner = normalize(expr.operand)
        if isinstance(inner, Const):
            return Const(-inner.value)
        if isinstance(inner, Neg):
            return inner.operand
        return Neg(inner)
    left, right = normalize(expr.left), normalize(expr.right)
    if isinstance(left, Const) and isinstance(right, Const):
        try:
            return Const(evaluate(BinOp(expr.op, left, right), {}))
        except ExpressionError:
            return BinOp(expr.op, left, right)
    if expr.op in ("+", "*"):
        terms: list[Expr] = []
        _flatten(BinOp(expr.op, left, right), expr.op, terms)
        identity = 0 if expr.op == "+" else 1
        constant = identity
        rest: list[Expr] = []
        for term in terms:
            if isinstance(term, Const):
                constant = constant + term.value if expr.op == "+" else constant * term.value
            else:
                rest.append(term)
        if expr.op == "*" and constant == 0:
            return Const(0)
        rest.sort(key=_sort_key)
        if constant != identity or not rest:
            rest.insert(0, Const(constant))
        result = rest[0]
        for term in rest[1:]:
            result = BinOp(expr.op, result, term)
        return result
    if expr.op == "-" and isinstance(right, Const) and right.value == 0:
        return left
    if expr.op == "//" and isinstance(right, Const) and right.value == 1:
        return left
    if (
        expr.op == "//"
        and isinstance(right, Const)
        and right.value > 0
        and isinstance(left, BinOp)
        and left.op == "//"
        and isinstance(left.right, Const)
        and left.right.value > 0
    ):
        # floor(floor(x/a)/b) == floor(x/(a*b)) for positive a, b: C/4/4 is C//16.
        return BinOp("//", left.left, Const(left.right.value * right.value))
    return BinOp(expr.op, left, right)
