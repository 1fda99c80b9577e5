"""``nader compile`` run as a user runs it."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nader.cli.compile import parse_quantity
from nader.cli.main import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "resnet_basic.txt"


def _compile(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["compile", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_output_has_integer_counts_and_a_fitting_width(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _compile([str(EXAMPLE), "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    for key in ("width", "params", "flops", "fvcore_flops", "macs", "step"):
        assert isinstance(result[key], int), key
    assert result["dataset"] == "cifar100" and result["skeleton"] == "nader"
    assert result["budget"] == {"max_params": 1_500_000, "max_flops": 200_000_000}
    assert result["params"] <= 1_500_000 and result["flops"] <= 200_000_000
    assert result["fvcore_flops"] == result["macs"]


def test_explicit_width_and_depths(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _compile(
        [str(EXAMPLE), "--width", "8", "--depths", "1,1,1", "--dataset", "cifar10", "--json"],
        capsys,
    )
    assert code == 0
    result = json.loads(out)
    assert (result["width"], result["step"], result["depths"], result["num_classes"]) == (
        8,
        None,
        [1, 1, 1],
        10,
    )


def test_own_budget_replaces_the_preset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _compile([str(EXAMPLE), "--max-params", "0.3M", "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert result["budget"] == {"max_params": 300_000, "max_flops": None}
    assert result["params"] <= 300_000
    code, out, _ = _compile([str(EXAMPLE), "--max-flops", "50M", "--json"], capsys)
    assert code == 0 and json.loads(out)["flops"] <= 50_000_000


def test_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _compile([str(EXAMPLE), "--width", "8", "--depths", "1,1,1"], capsys)
    assert code == 0
    assert "width 8 (given)" in out and "params " in out and "matches the IR" in out


def test_out_writes_source_and_onnx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "model.py"
    code, _, _ = _compile(
        [str(EXAMPLE), "--width", "8", "--depths", "1,1,1", "--out", str(source)], capsys
    )
    assert code == 0 and "class Network(nn.Module):" in source.read_text()
    completed = subprocess.run(
        [sys.executable, str(source)], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "torch.Size([2, 100])"
    onnx_path = tmp_path / "model.onnx"
    code, _, _ = _compile(
        [str(EXAMPLE), "--width", "8", "--depths", "1,1,1", "--out", str(onnx_path)], capsys
    )
    assert code == 0 and onnx_path.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--width", "8", "--max-flops", "1G"], "exclude each other"),
        (["--out", "model.txt"], "--out must end in .py or .onnx"),
        (["--dataset", "mnist"], "unknown dataset 'mnist'"),
        (["--dataset", "imagenet"], "has no budget preset"),
        (["--depths", "5,5"], "has 3 stages"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _compile([str(EXAMPLE), *args], capsys)
    assert code == 2 and message in err


def test_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _compile([str(tmp_path / "missing.txt")], capsys)
    assert code == 2 and "cannot read" in err


def test_argparse_rejects_bad_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["compile", str(EXAMPLE), "--width", "0"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main(["compile", str(EXAMPLE), "--width", "8", "--max-params", "1M"])


def test_invalid_networks_and_unfittable_budgets_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.txt"
    broken.write_text(EXAMPLE.read_text().replace("7:Add", "7:Concat", 1))
    code, _, err = _compile([str(broken)], capsys)
    assert code == 1 and "is not a valid network" in err and "ResNetBasic" in err
    code, _, err = _compile([str(EXAMPLE), "--max-params", "1k"], capsys)
    assert code == 1 and "no width fits params <= 1,000" in err
    syntax = tmp_path / "syntax.txt"
    syntax.write_text("##x##\n0:input(\n")
    code, _, err = _compile([str(syntax)], capsys)
    assert code == 1


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.5M", 1_500_000),
        ("0.2G", 200_000_000),
        ("2e8", 200_000_000),
        ("1_500_000", 1_500_000),
        ("50k", 50_000),
    ],
)
def test_budget_quantities(text: str, value: int) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "M", "-1", "0", "1.5X", "nan", "inf"])
def test_bad_budget_quantities(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_quantity(text)


def test_check_reports_the_network_at_a_width(capsys: pytest.CaptureFixture[str]) -> None:
    from nader.backends.costs import network_cost
    from nader.backends.presets import dataset_preset
    from nader.backends.skeletons import skeleton_named
    from nader.ir import default_registry, parse_network

    assert main(["check", str(EXAMPLE), "--width", "16", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["network"]
    expected = network_cost(
        parse_network(EXAMPLE.read_text()),
        default_registry(),
        skeleton_named("nader"),
        dataset_preset("cifar100"),
        16,
    )
    assert (summary["params"], summary["flops"], summary["width"]) == (
        expected.params,
        expected.flops,
        16,
    )
    assert (
        main(
            ["check", str(EXAMPLE), "--width", "16", "--skeleton", "nb201", "--dataset", "cifar10"]
        )
        == 0
    )
    assert "network on skeleton nb201, dataset cifar10, width 16: params" in capsys.readouterr().out
    assert main(["check", str(EXAMPLE), "--width", "16", "--skeleton", "imagenet"]) == 1
    assert (
        "the stem (skeleton 'imagenet' reduces H and W by 4) must output" in capsys.readouterr().out
    )
