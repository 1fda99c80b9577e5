"""``nader compile`` accepts every registered dataset and says what each count counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nader.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "resnet_basic.txt"


def test_compile_takes_a_registered_dataset_without_a_preset(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["compile", str(EXAMPLE), "--dataset", "digits", "--width", "4", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["dataset"] == "digits" and result["width"] == 4
    # digits: 10 classes of 3×16×16 images, as the session trains them
    assert result["params"] == 35_662 and result["flops"] == 1_248_426


def test_compile_without_a_budget_for_a_preset_less_dataset_asks_for_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compile", str(EXAMPLE), "--dataset", "digits"]) == 2
    assert "has no budget preset; give --width" in capsys.readouterr().err


def test_an_unknown_dataset_lists_presets_and_registered_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compile", str(EXAMPLE), "--dataset", "nope", "--width", "4"]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'nope'" in err and "digits" in err and "cifar100" in err


def test_human_output_says_what_each_count_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(EXAMPLE), "--width", "8", "--depths", "1,1,1"]) == 0
    out = capsys.readouterr().out
    assert (
        "NAS-Bench-201 convention (multiply-adds of Conv2d and Linear layers, biases included)"
        in out
    )
    assert "fvcore_flops" in out and "biases not counted" in out
