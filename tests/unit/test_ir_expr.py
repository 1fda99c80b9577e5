"""Symbolic sizes: our own evaluator (floor division, limits) and the normal form."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nader.errors import ExpressionError
from nader.ir import parse_block
from nader.ir.expr import (
    MAX_DEPTH,
    MAX_MAGNITUDE,
    MAX_NODES,
    BinOp,
    Const,
    Expr,
    Neg,
    Sym,
    check_size,
    evaluate,
    measure,
    normalize,
    symbols_of,
)

ENV = {"C": 64, "dim": 128, "B": 2, "H": 32, "W": 24}


def parse_expr(text: str) -> Expr:
    """The expression as the block parser reads it (the only way expressions are made)."""
    node = parse_block(f"##E##\n0:x(v={text})\n").nodes[0]
    value = node.kwargs[0][1]
    assert isinstance(value, (Const, Sym, BinOp, Neg))
    return value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("C", 64),
        ("C/4", 16),
        ("C//4", 16),
        ("C/3", 21),  # a single "/" is floor division, as in the authors' files
        ("-C/3", -22),  # floor, not truncation
        ("(C+dim)/2", 96),
        ("C*2-dim", 0),
        ("dim-C", 64),
        ("H*W", 768),
        ("B*(C+1)", 130),
        ("2*3+4", 10),
        ("2*(3+4)", 14),
        ("10-3-2", 5),  # left-associative
        ("64/4/2", 8),
        ("--C", 64),
        ("-(C-dim)", 64),
    ],
)
def test_evaluate(text: str, value: int) -> None:
    assert evaluate(parse_expr(text), ENV) == value


def test_division_by_zero_and_unknown_symbols_are_expression_errors() -> None:
    with pytest.raises(ExpressionError, match="division by zero"):
        evaluate(parse_expr("C/(dim-2*C)"), ENV)
    with pytest.raises(ExpressionError, match="unknown symbol 'X'"):
        evaluate(parse_expr("X+1"), ENV)
    with pytest.raises(ExpressionError, match="unknown symbol 'dim'"):
        evaluate(parse_expr("dim"), {"C": 1})


def test_magnitude_limit_applies_to_every_intermediate_value() -> None:
    with pytest.raises(ExpressionError, match="magnitude"):
        evaluate(parse_expr("C*999999999999"), ENV)
    with pytest.raises(ExpressionError, match="magnitude"):
        # the final value is small, but the product on the way is not
        evaluate(parse_expr("C*999999999999-C*999999999999"), ENV)
    assert evaluate(Const(MAX_MAGNITUDE), {}) == MAX_MAGNITUDE
    with pytest.raises(ExpressionError):
        evaluate(Const(MAX_MAGNITUDE + 1), {})


def test_size_limits() -> None:
    deep: Expr = Sym("C")
    for _ in range(MAX_DEPTH):
        deep = Neg(deep)
    assert measure(deep) == (MAX_DEPTH + 1, MAX_DEPTH + 1)
    with pytest.raises(ExpressionError, match="levels deep"):
        check_size(deep)
    check_size(deep.operand)  # type: ignore[union-attr]
    # a very deep tree is measured without recursion
    very_deep: Expr = Sym("C")
    for _ in range(100_000):
        very_deep = BinOp("+", very_deep, Const(1))
    with pytest.raises(ExpressionError):
        check_size(very_deep)
    balanced: Expr = Sym("C")
    for _ in range(8):  # depth 9, 511 nodes
        balanced = BinOp("+", balanced, balanced)
    assert measure(balanced)[1] > MAX_NODES
    with pytest.raises(ExpressionError, match="terms"):
        check_size(balanced)


def test_symbols_of() -> None:
    assert symbols_of(parse_expr("(C+dim)*H/W-3")) == {"C", "dim", "H", "W"}
    assert symbols_of(Const(3)) == frozenset()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("C/4", "C//4"),
        ("2*C", "C*2"),
        ("C+C", "2*C"),
        ("C*(C+1)", "C*C+C"),
        ("(C+dim)*(C-dim)", "C*C-dim*dim"),
        ("(2*C)/2", "C"),
        ("(2*C+4)//2", "C+2"),
        ("C/4/4", "C//16"),
        ("C/1", "C"),
        ("C//-1", "-C"),
        ("dim-C+C", "dim"),
        ("0-C", "-C"),
        ("--C", "C"),
        ("(C-dim)*-1", "dim-C"),
        ("2*3*C", "C*6"),
        ("(C+1)/2", "(1+C)//2"),
    ],
)
def test_normalize_identifies_equal_polynomials(first: str, second: str) -> None:
    assert normalize(parse_expr(first)) == normalize(parse_expr(second))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("C/4", "C/2"),
        ("(C+1)/2", "C/2+1"),
        ("C/2*2", "C"),
        ("dim-C", "C-dim"),
        ("C/3/2", "C/2/3*1+0*C+C//6-C//6+1"),
    ],
)
def test_normalize_keeps_different_expressions_apart(first: str, second: str) -> None:
    assert normalize(parse_expr(first)) != normalize(parse_expr(second))


def test_normal_form_reads_naturally() -> None:
    assert str(normalize(parse_expr("C*2"))) == "2*C"
    assert str(normalize(parse_expr("-C+dim"))) == "dim-C"
    assert str(normalize(parse_expr("1+C"))) == "C+1"
    assert str(normalize(parse_expr("3-C"))) == "3-C"
    assert str(normalize(parse_expr("C//4"))) == "C/4"


def test_huge_products_stay_unexpanded_but_normal() -> None:
    text = "(C+dim+H+W+B+1)*(C+dim+H+W+B+2)*(C+dim+H+W+B+3)*(C+dim+H+W+B+4)"
    normal = normalize(parse_expr(text))
    assert normalize(normal) == normal
    assert evaluate(normal, ENV) == evaluate(parse_expr(text), ENV)
    big = normalize(parse_expr("C*999999999999*999999999999"))
    assert normalize(parse_expr(str(big))) == big


# -------------------------------------------------------------------------- property tests

_LEAVES = st.one_of(st.integers(-12, 12).map(Const), st.sampled_from(sorted(ENV)).map(Sym))


def _grow(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    binary = st.builds(BinOp, st.sampled_from(["+", "-", "*", "//"]), children, children)
    return st.one_of(binary, children.map(Neg))


EXPRESSIONS = st.recursive(_LEAVES, _grow, max_leaves=14)


@settings(max_examples=400, deadline=None, database=None)
@given(EXPRESSIONS, st.fixed_dictionaries({name: st.integers(1, 300) for name in ENV}))
def test_normalize_preserves_value_and_is_a_fixed_point(expr: Expr, env: dict[str, int]) -> None:
    normal = normalize(expr)
    assert normalize(normal) == normal
    try:
        value = evaluate(expr, env)
    except ExpressionError:
        return  # division by zero or overflow on the way: nothing to preserve
    assert evaluate(normal, env) == value


@settings(max_examples=400, deadline=None, database=None)
@given(EXPRESSIONS)
def test_printed_normal_form_parses_back_to_itself(expr: Expr) -> None:
    normal = normalize(expr)
    assert normalize(parse_expr(str(normal))) == normal


@settings(max_examples=300, deadline=None, database=None)
@given(EXPRESSIONS, st.fixed_dictionaries({name: st.integers(-50, 300) for name in ENV}))
def test_printing_keeps_meaning(expr: Expr, env: dict[str, int]) -> None:
    try:
        value = evaluate(expr, env)
    except ExpressionError:
        return
    assert evaluate(parse_expr(str(expr)), env) == value
