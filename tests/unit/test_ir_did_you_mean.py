"""Every unknown name in a block gets its closest known spelling in the diagnostic."""

from __future__ import annotations

import pytest
from ir_helpers import cell, chain

from nader.ir import default_registry, parse_block, verify_block
from nader.ir.spelling import closest

REGISTRY = default_registry()


def only_error(text: str):
    report = verify_block(parse_block(text), REGISTRY)
    assert len(report.errors) == 1, [str(e) for e in report.errors]
    return report.errors[0]


@pytest.mark.parametrize(
    ("param", "meant"),
    [("group=C", "groups"), ("kernelsize=3", "kernel_size"), ("Stride=1", "stride")],
)
def test_unknown_parameter_names_its_closest_spelling(param: str, meant: str) -> None:
    error = only_error(chain(f"Conv2d(out_channels=C,kernel_size=3,{param})"))
    assert error.code == "unknown-parameter"
    assert f"did you mean {meant!r}?" in error.message
    assert error.node == 2 and error.line is not None


def test_unknown_operator_names_its_closest_spelling() -> None:
    error = only_error(chain("Sigmiod"))
    assert error.code == "undefined-operator" and "did you mean Sigmoid" in error.message
    # case alone never needs a hint (the registry reads names case-insensitively), but a
    # closest match is still found across case
    assert closest("DROPPATH2", REGISTRY.names()) == ["DropPath"]


@pytest.mark.parametrize(("written", "meant"), [("c", "C"), ("CC", "C")])
def test_unknown_symbol_names_its_closest_spelling(written: str, meant: str) -> None:
    error = only_error(chain(f"Conv2d(out_channels={written},kernel_size=3)"))
    assert error.code == "unknown-symbol" and f"did you mean {meant!r}?" in error.message


def test_nothing_close_means_no_guess() -> None:
    error = only_error(chain("Conv2d(out_channels=C,kernel_size=3,zebra=1)"))
    assert error.code == "unknown-parameter" and "did you mean" not in error.message
    assert closest("zebra", ["groups", "stride"]) == []


def test_the_hint_reaches_the_feedback_sent_to_the_model() -> None:
    text = cell("2:Conv2d(out_channels=C,kernel_size=3,group=C)", "0->2", "2->1")
    report = verify_block(parse_block(text), REGISTRY)
    assert "did you mean 'groups'?" in report.feedback()
