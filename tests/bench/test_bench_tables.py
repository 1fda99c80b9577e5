"""Aggregation: mean ± std, rates with unjudged tasks, best-after-k and the two tables."""

from __future__ import annotations

import math

import pytest

from nader.bench.nad import TaskResult
from nader.bench.tables import (
    format_nad_table,
    format_search_table,
    mean_std,
    nad_rows,
    rate,
    run_facts,
    search_rows,
)


def test_mean_std_is_the_sample_standard_deviation():
    result = mean_std([0.70, 0.72, 0.74])
    assert result.mean == pytest.approx(0.72)
    assert result.std == pytest.approx(0.02)  # sqrt(((-.02)^2 + 0 + .02^2) / 2)
    assert mean_std([2, 4, 4, 4, 5, 5, 7, 9]).std == pytest.approx(2.1380899)
    assert mean_std([0.5]).std == 0.0 and mean_std([0.5]).n == 1
    assert mean_std([None, 1.0, 3.0]).mean == 2.0  # None is left out, not a zero
    empty = mean_std([])
    assert empty.n == 0 and math.isnan(empty.mean) and empty.format() == "-"
    assert mean_std([0.9012, 0.9034]).format(2, 100) == "90.23 ± 0.16"
    with pytest.raises(ValueError):
        mean_std([1.0, float("nan")])


def test_rate_leaves_unknowns_out():
    assert rate([True, False, None, True]) == (pytest.approx(2 / 3), 3)
    assert rate([None, None]) == (None, 0)


def _result(ablation, level, e, q, tokens=100):
    return TaskResult(ablation, "t", "b", level, e, q, tokens, tokens // 10, 0.01, 2, "new")


def test_nad_rows_in_the_paper_shape():
    results = [
        _result("a", "micro", True, True),
        _result("a", "micro", True, False),
        _result("a", "micro", False, False, tokens=300),
        _result("a", "macro", True, None),
        _result("a", "macro", False, None),
    ]
    rows = nad_rows(results, {"a": "LIF, no LDE"})
    micro, macro = rows
    assert (micro["E"], micro["Q"], micro["SR"]) == (
        pytest.approx(2 / 3),
        pytest.approx(1 / 3),
        pytest.approx(1 / 3),
    )
    assert micro["input_tokens"] == pytest.approx(500 / 3)
    # macro: nothing judged; an inexecutable answer is a failure whatever the judge would say
    assert macro["Q"] is None and macro["judged"] == 0 and macro["SR"] == 0.0
    table = format_nad_table(rows)
    assert "not judged" in table and "0.67" in table and "2 (0 judged)" in table


def _summary(valids, tests, tokens=0):
    archs = [
        {
            "id": str(i),
            "status": "trained",
            "valid_acc": v,
            "test_acc": t,
            "params": 1000 + i,
            "flops": 10 * i,
        }
        for i, (v, t) in enumerate(zip(valids, tests, strict=True))
    ]
    archs.append({"id": "99", "status": "failed", "valid_acc": None, "test_acc": None})
    return {
        "architectures": archs,
        "usage": {"input_tokens": tokens, "output_tokens": 5, "cost_usd": 0.1},
    }


def test_search_rows_best_after_k_and_test_of_valid_best():
    a0 = run_facts(
        _summary([0.5, 0.7, 0.6], [0.4, 0.65, 0.99]),
        strategy="x",
        seed="0",
        run_dir="d",
        wall_s=10.0,
    )
    a1 = run_facts(
        _summary([0.6, 0.5, 0.9], [0.55, 0.3, 0.8]),
        strategy="x",
        seed="1",
        run_dir="d",
        wall_s=20.0,
    )
    assert a0.best_valid_after(1) == 0.5 and a0.best_valid_after(3) == 0.7
    assert a0.best_valid_after(4) is None
    # test accuracy of the validation-best, not the best test accuracy (0.99)
    assert a0.best_test == 0.65 and a0.best_params == 1001
    rows = search_rows([a0, a1], [1, 3])
    (row,) = rows
    assert row["best_valid_after"]["3"]["mean"] == pytest.approx(0.8)
    assert row["best_valid_after"]["3"]["std"] == pytest.approx(math.sqrt(0.02))
    assert row["test_of_valid_best"]["mean"] == pytest.approx(0.725)
    assert row["wall_s"]["mean"] == 15.0 and row["tokens"]["mean"] == 5.0
    table = format_search_table(rows, [1, 3])
    assert "valid@3 (%)" in table and "80.00 ± 14.14" in table


def test_a_candidate_stopped_early_counts_toward_k_but_is_never_the_best():
    """A stopped candidate used one unit of the architecture budget: valid@k counts it (the run
    trained k architectures, one of them part-way) and its partial accuracy is never the best."""
    summary = _summary([0.5, 0.7, 0.6], [0.4, 0.65, 0.6])
    summary["architectures"][1].update(status="stopped_early", valid_acc=0.75)
    facts = run_facts(summary, strategy="x", seed="0", run_dir="d", wall_s=1.0)
    assert facts.best_valid_after(2) == 0.5  # 1 was stopped at 0.75, a partial accuracy
    assert facts.best_valid_after(3) == 0.6
    assert facts.best_valid_after(4) is None
    assert facts.best_test == 0.6  # of architecture 2, the best fully trained one
