"""Symbolic size expressions: ``C/4``, ``dim-C``, ``(C+dim)//2``, evaluated without ``eval``.

Expressions are tiny immutable trees built by the parser (never from Python source). Only the
symbols ``C``, ``dim``, ``B``, ``H``, ``W`` exist; only ``+ - * / //`` and unary minus. A single
``/`` is integer (floor) division, as in the authors' code. Limits keep hostile text cheap:
:func:`check_size` bounds the depth and node count of a tree (the parser applies it, so no pass
ever recurses deeply), and :func:`evaluate` bounds every intermediate value's magnitude.

:func:`normalize` gives the canonical form used by hashing and printing. Sums and products are
expanded into a polynomial over the symbols and floor-division terms, with integer
coefficients, so ``2*C``, ``C*2`` and ``C+C`` are one expression; ``/`` and ``//`` are one
operator, so ``C/4`` is ``C//4``; ``(2*C)//2`` is ``C`` (the division is exact) and ``C/4/4`` is
``C//16``. A product that would expand beyond :data:`MAX_TERMS` terms, or a coefficient beyond
:data:`MAX_MAGNITUDE`, is kept as an unexpanded (but normalized) factor, so normalizing is always
cheap. The normal form is a fixed point: ``normalize(normalize(e)) == normalize(e)``, and
parsing its printed text normalizes back to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nader.errors import ExpressionError

SYMBOLS: frozenset[str] = frozenset({"C", "dim", "B", "H", "W"})
SPATIAL_SYMBOLS: frozenset[str] = frozenset({"B", "H", "W"})
#: Largest absolute value a constant, an intermediate result or a coefficient may take.
MAX_MAGNITUDE = 2**40
#: Deepest expression tree (operators nested inside each other) and bracket nesting.
MAX_DEPTH = 32
#: Most operator/leaf nodes in one expression.
MAX_NODES = 256
#: Most terms a normalized polynomial may have before a product is left unexpanded.
MAX_TERMS = 64


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


Expr = Const | Sym | BinOp | Neg

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


def _children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, BinOp):
        return (expr.left, expr.right)
    if isinstance(expr, Neg):
        return (expr.operand,)
    return ()


def symbols_of(expr: Expr) -> frozenset[str]:
    """The symbol names an expression mentions."""
    found: set[str] = set()
    stack: list[Expr] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, Sym):
            found.add(item.name)
        else:
            stack.extend(_children(item))
    return frozenset(found)


def measure(expr: Expr) -> tuple[int, int]:
    """``(depth, nodes)`` of an expression tree, computed without recursion."""
    deepest = 0
    nodes = 0
    stack: list[tuple[Expr, int]] = [(expr, 1)]
    while stack:
        item, depth = stack.pop()
        nodes += 1
        deepest = max(deepest, depth)
        if nodes > MAX_NODES or deepest > MAX_DEPTH:
            break  # already over a limit: the exact size does not matter
        stack.extend((child, depth + 1) for child in _children(item))
    return deepest, nodes


def check_size(expr: Expr) -> None:
    """Raise :class:`ExpressionError` when ``expr`` is deeper or larger than the limits.

    The parser calls this for every parameter, so passes that recurse over expressions
    (evaluation, normalization, printing) never meet a tree deeper than :data:`MAX_DEPTH`.
    """
    depth, nodes = measure(expr)
    if depth > MAX_DEPTH:
        raise ExpressionError(
            f"expression nests operators more than {MAX_DEPTH} levels deep; simplify it"
        )
    if nodes > MAX_NODES:
        raise ExpressionError(f"expression has more than {MAX_NODES} terms; simplify it")


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


# ------------------------------------------------------------------------------- normalization
#
# A polynomial maps a monomial (a sorted tuple of atoms: symbols or floor-division terms) to its
# integer coefficient. Zero coefficients are dropped, so the empty polynomial is the number 0.

_Monomial = tuple[Expr, ...]
_Poly = dict[_Monomial, int]


class _TooLarge(Exception):
    """A polynomial would exceed MAX_TERMS terms or MAX_MAGNITUDE coefficients."""


def _atom_key(atom: Expr) -> tuple[int, str]:
    return (0, atom.name) if isinstance(atom, Sym) else (1, str(atom))


def _monomial_key(monomial: _Monomial) -> tuple[tuple[int, str], ...]:
    return tuple(_atom_key(atom) for atom in monomial)


def _coefficient(value: int) -> int:
    if -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
        return value
    raise _TooLarge


def _add(left: _Poly, right: _Poly, sign: int = 1) -> _Poly:
    result = dict(left)
    for monomial, coefficient in right.items():
        total = _coefficient(result.get(monomial, 0) + sign * coefficient)
        if total:
            result[monomial] = total
        else:
            result.pop(monomial, None)
    if len(result) > MAX_TERMS:
        raise _TooLarge
    return result


def _multiply(left: _Poly, right: _Poly) -> _Poly:
    if len(left) * len(right) > MAX_TERMS * MAX_TERMS:
        raise _TooLarge
    result: _Poly = {}
    for m1, c1 in left.items():
        for m2, c2 in right.items():
            monomial = tuple(sorted(m1 + m2, key=_atom_key))
            total = _coefficient(result.get(monomial, 0) + _coefficient(c1 * c2))
            if total:
                result[monomial] = total
            else:
                result.pop(monomial, None)
    if len(result) > MAX_TERMS:
        raise _TooLarge
    return result


def _constant(poly: _Poly) -> int | None:
    """The value of a constant polynomial, else ``None``."""
    if not poly:
        return 0
    if len(poly) == 1 and () in poly:
        return poly[()]
    return None


def _atom_poly(atom: Expr) -> _Poly:
    return {(atom,): 1}


def _floor_div(numerator: _Poly, denominator: _Poly) -> _Poly:
    den = _constant(denominator)
    num = _constant(numerator)
    if den is not None and den != 0:
        if num is not None:
            return {(): num // den} if num // den else {}
        if all(c % den == 0 for c in numerator.values()):
            # every coefficient is a multiple of den: the division is exact for all values
            return {m: c // den for m, c in numerator.items()}
        if den > 0 and len(numerator) == 1:
            ((monomial, coefficient),) = numerator.items()
            inner = monomial[0] if len(monomial) == 1 else None
            if (
                coefficient == 1
                and isinstance(inner, BinOp)
                and inner.op == "//"
                and isinstance(inner.right, Const)
                and inner.right.value > 0
                and inner.right.value * den <= MAX_MAGNITUDE
            ):
                # floor(floor(x/a)/b) == floor(x/(a*b)) for positive a, b: C/4/4 is C//16
                return _atom_poly(BinOp("//", inner.left, Const(inner.right.value * den)))
    return _atom_poly(BinOp("//", _rebuild(numerator), _rebuild(denominator)))


def _to_poly(expr: Expr) -> _Poly:
    if isinstance(expr, Const):
        if -MAX_MAGNITUDE <= expr.value <= MAX_MAGNITUDE:
            return {(): expr.value} if expr.value else {}
        return _atom_poly(expr)  # out of range: kept as is (evaluation rejects it)
    if isinstance(expr, Sym):
        return _atom_poly(expr)
    if isinstance(expr, Neg):
        return {m: -c for m, c in _to_poly(expr.operand).items()}
    left, right = _to_poly(expr.left), _to_poly(expr.right)
    if expr.op == "//":
        return _floor_div(left, right)
    try:
        if expr.op == "+":
            return _add(left, right)
        if expr.op == "-":
            return _add(left, right, -1)
        return _multiply(left, right)
    except _TooLarge:
        # too big to expand: keep this operation as one opaque, normalized factor
        return _atom_poly(BinOp(expr.op, _rebuild(left), _rebuild(right)))


def _term(monomial: _Monomial, coefficient: int, leading: bool) -> Expr:
    """One term of a sum. A ``leading`` term carries its own sign (``-2*C``, ``-C``); later
    terms are built from ``|coefficient|`` because the sum writes ``+`` or ``-`` before them."""
    magnitude = abs(coefficient)
    factors: list[Expr] = list(monomial)
    negative = leading and coefficient < 0
    if magnitude != 1 or not factors:
        factors.insert(0, Const(-magnitude if negative else magnitude))
        negative = False
    result = factors[0]
    for factor in factors[1:]:
        result = BinOp("*", result, factor)
    return Neg(result) if negative else result


def _rebuild(poly: _Poly) -> Expr:
    """Canonical expression of a polynomial: positive terms first (``dim-C``, ``C+1``), and
    within each sign the symbolic terms in a fixed order before the constant."""
    if not poly:
        return Const(0)
    ordered = sorted(
        poly.items(), key=lambda item: (item[1] < 0, item[0] == (), _monomial_key(item[0]))
    )
    (first_monomial, first_coefficient), *rest = ordered
    result = _term(first_monomial, first_coefficient, leading=True)
    for monomial, coefficient in rest:
        result = BinOp("+" if coefficient > 0 else "-", result, _term(monomial, coefficient, False))
    return result


def normalize(expr: Expr) -> Expr:
    """Canonical form: expanded polynomial with sorted terms, one floor-division operator."""
    if isinstance(expr, (Const, Sym)):
        return expr
    return _rebuild(_to_poly(expr))
