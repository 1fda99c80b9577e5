"""Micro-task predicates on known good and bad answers, and the shipped suite's sanity."""

from __future__ import annotations

import pytest

from nader.bench.predicates import CountPredicate, EdgePredicate, check_predicates
from nader.bench.suite import load_suite
from nader.ir.graph import Role
from nader.ir.parser import parse_network

CONVNEXT = """##C##
0:input
1:output
2:Conv2d(out_channels=C,kernel_size=7,stride=1,groups=C)
3:permute(0,2,3,1)
4:LN
5:Linear(out_channels=C*4)
6:{act}
7:Linear(out_channels={second})
8:permute(0,3,1,2)
9:Add
0->2
2->3
3->4
4->5
5->6
6->7
7->8
8->9
0->9
9->1
"""

BASIC = """##B##
0:input
1:output
2:Conv2d(out_channels=C,kernel_size=3,stride=1,bias=False{extra})
3:BN
4:ReLU
5:Add
0->2
2->3
3->4
{shortcut}4->5
5->1
"""


def _cell(text: str):
    return parse_network(text, "test").by_role(Role.CELL)


@pytest.fixture
def suite(registry):
    return load_suite(registry)


def _task(suite, task_id):
    return next(t for t in suite.tasks if t.id == task_id)


def test_gelu_to_relu_good_and_bad(registry, suite):
    task = _task(suite, "convnext_micro2")
    base = suite.base_cell(task)
    good = _cell(CONVNEXT.format(act="ReLU", second="C"))
    bad_kept = _cell(CONVNEXT.format(act="GELU", second="C"))
    bad_other = _cell(CONVNEXT.format(act="Sigmoid", second="C"))
    assert check_predicates(task.expect, base, good, registry)[0] is True
    assert check_predicates(task.expect, base, bad_kept, registry)[0] is False
    assert check_predicates(task.expect, base, bad_other, registry)[0] is False


def test_linear_bottleneck_reads_expressions_at_the_probe(registry, suite):
    task = _task(suite, "convnext_micro6")  # Linear(C*4) -> Linear(C/2)
    base = suite.base_cell(task)
    good = _cell(CONVNEXT.format(act="GELU", second="C").replace("C*4", "C/2"))
    written_otherwise = _cell(CONVNEXT.format(act="GELU", second="C").replace("C*4", "C//2"))
    bad = _cell(CONVNEXT.format(act="GELU", second="C"))
    assert check_predicates(task.expect, base, good, registry)[0]
    assert check_predicates(task.expect, base, written_otherwise, registry)[0]
    assert not check_predicates(task.expect, base, bad, registry)[0]


def test_parameter_defaults_count_and_edges(registry):
    base = _cell(BASIC.format(extra="", shortcut="0->5\n"))
    dilated = _cell(BASIC.format(extra=",dilation=2", shortcut="0->5\n"))
    plain = _cell(BASIC.format(extra="", shortcut=""))
    default_dilation = CountPredicate(op="Conv2d", where={"dilation": 1}, relation="some")
    assert check_predicates([default_dilation], base, base, registry)[0]  # default is 1
    assert not check_predicates([default_dilation], base, dilated, registry)[0]
    wants_dilation = CountPredicate(
        op="Conv2d", where={"dilation": 2, "kernel_size": 3}, at_least=1
    )
    assert check_predicates([wants_dilation], base, dilated, registry)[0]
    no_bias = CountPredicate(op="Conv2d", where={"bias": False}, relation="same")
    assert check_predicates([no_bias], base, dilated, registry)[0]
    shortcut = EdgePredicate(source="input", target="Add")
    assert check_predicates([shortcut], base, base, registry)[0]
    ok, results = check_predicates([shortcut], base, plain, registry)
    assert not ok and results[0].detail == "not found"
    removed = EdgePredicate(source="input", target="Add", present=False)
    assert check_predicates([removed], base, plain, registry)[0]
    assert check_predicates([], base, base, registry)[0] is False  # nothing stated: no pass


def test_op_lists_and_relations(registry):
    base = _cell(BASIC.format(extra="", shortcut="0->5\n"))
    gated = _cell(
        BASIC.format(extra="", shortcut="0->5\n")
        .replace("5:Add", "5:Add\n6:Sigmoid\n7:multiply")
        .replace("4->5\n5->1", "4->6\n4,6->7\n7->5\n5->1")
    )
    mul = CountPredicate(op=["Mul", "multiply"], relation="more")
    assert check_predicates([mul], base, gated, registry)[0]
    assert not check_predicates([mul], gated, gated, registry)[0]
    assert check_predicates([CountPredicate(op="ReLU", relation="same")], base, gated, registry)[0]
    fewer = CountPredicate(op="Sigmoid", relation="fewer")
    assert check_predicates([fewer], gated, base, registry)[0]


def test_no_micro_task_is_satisfied_by_its_unmodified_base(registry, suite):
    """A predicate the base already meets would score a do-nothing answer as implemented."""
    micro = [t for t in suite.tasks if t.level == "micro"]
    assert len(micro) >= 25 and {t.block for t in micro} == set(suite.bases)
    for task in micro:
        base = suite.base_cell(task)
        assert not check_predicates(task.expect, base, base, registry)[0], task.id
