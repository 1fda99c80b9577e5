"""NAS-Bench-201 arch strings: conversion both ways, and NAS-Bench-201's recorded counts."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from backend_reference import TinyNetwork

from nader.backends.costs import network_cost
from nader.backends.fx_build import count_parameters
from nader.backends.nb201 import (
    ArchStringError,
    all_arch_strings,
    arch_to_cell_text,
    arch_to_network_text,
    cell_to_arch,
    network_to_arch,
    parse_arch,
)
from nader.backends.presets import dataset_preset
from nader.backends.profile import fvcore_macs
from nader.backends.skeletons import skeleton_named
from nader.cli.main import main
from nader.ir import OperatorRegistry, default_registry, parse_block, parse_network, print_block
from nader.ir.check import check_text

LARGEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"
EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.fixture(scope="module")
def registry() -> OperatorRegistry:
    return default_registry()


def test_every_arch_string_round_trips_through_block_text(registry: OperatorRegistry) -> None:
    archs = list(all_arch_strings())
    assert len(archs) == len(set(archs)) == 5**6
    for arch in archs:
        assert cell_to_arch(parse_block(arch_to_cell_text(arch)), registry) == arch


def test_converted_networks_verify_and_round_trip(registry: OperatorRegistry) -> None:
    for arch in random.Random(201).sample(list(all_arch_strings()), 40) + [ALL_NONE, EXAMPLE]:
        text = arch_to_network_text(arch)
        report = check_text(text, registry)
        assert report.valid, [str(e) for b in report.blocks for e in b.errors]
        assert network_to_arch(parse_network(text), registry) == arch


def test_reading_back_ignores_node_numbering_and_input_order(registry: OperatorRegistry) -> None:
    """The canonical printer renumbers nodes and sorts Add inputs; the cell still reads back."""
    for arch in random.Random(7).sample(list(all_arch_strings()), 60) + [EXAMPLE, ALL_NONE]:
        printed = print_block(parse_block(arch_to_cell_text(arch)), registry)
        assert printed != arch_to_cell_text(arch)
        assert cell_to_arch(parse_block(printed), registry) == arch


def test_example_cell_is_written_edge_by_edge() -> None:
    text = arch_to_cell_text(EXAMPLE)
    ops = [line.split(":", 1)[1] for line in text.splitlines()[1:] if ":" in line]
    assert ops.count("Zero") == 1 and ops.count("Identity") == 1
    assert ops.count("AvgPool2d(kernel_size=3,stride=1)") == 1
    assert ops.count("ReLU") == ops.count("BN") == 3
    assert ops.count("Add") == 2


def test_all_none_cell_outputs_zero(registry: OperatorRegistry, runtime) -> None:
    torch = pytest.importorskip("torch")
    from nader.backends.fx_build import build_network
    from nader.backends.plan import NetworkPlanner

    network = parse_network(arch_to_network_text(ALL_NONE))
    planner = NetworkPlanner(
        network, registry, skeleton_named("nb201").with_depths((1, 1, 1)), dataset_preset("cifar10")
    )
    module = build_network(planner.plan(8), runtime.lowerings)
    cell = module.get_submodule("stage1_cell1")
    assert torch.count_nonzero(cell(torch.randn(2, 8, 32, 32))) == 0


@pytest.mark.parametrize(
    "text",
    [
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|",
        "|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|+|none~0|none~1|none~2|",
        "none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none0|+|none~0|none~1|+|none~0|none~1|none~2|",
    ],
)
def test_malformed_arch_strings_are_rejected(text: str) -> None:
    with pytest.raises(ArchStringError):
        parse_arch(text)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("kernel_size=3,stride=1,bias=False", "kernel_size=5,stride=1,bias=False"),
        ("kernel_size=3,stride=1,bias=False", "kernel_size=3,stride=1,bias=True"),
        ("out_channels=C,kernel_size=1", "out_channels=C*2,kernel_size=1"),
        ("AvgPool2d(kernel_size=3,stride=1)", "MaxPool2d(kernel_size=3,stride=1)"),
        ("Identity", "ReLU"),
        ("Zero", "Identity\n99:Zero"),
    ],
)
def test_cells_outside_the_space_are_named_as_such(
    old: str, new: str, registry: OperatorRegistry
) -> None:
    text = arch_to_cell_text(EXAMPLE)
    assert old in text
    with pytest.raises(ArchStringError):
        cell_to_arch(parse_block(text.replace(old, new, 1)), registry)


def test_a_resnet_cell_is_not_an_nb201_cell(registry: OperatorRegistry) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "resnet_basic.txt"
    with pytest.raises(ArchStringError):
        network_to_arch(parse_network(example.read_text()), registry)


# ------------------------------------------------------------------ NAS-Bench-201's own numbers


@pytest.mark.parametrize(
    ("dataset", "params", "flops"),
    [
        ("cifar10", 1_531_546, 220_119_690),  # NAS-Bench-201: 1.531546 MB, 220.11969 MFLOPs
        ("ImageNet16-120", 1_538_696, 55_037_560),  # 1.538696 MB, 55.03756 MFLOPs
    ],
)
def test_largest_cell_reproduces_recorded_counts(
    dataset: str, params: int, flops: int, registry: OperatorRegistry
) -> None:
    network = parse_network(arch_to_network_text(LARGEST))
    cost = network_cost(network, registry, skeleton_named("nb201"), dataset_preset(dataset), 16)
    assert (cost.params, cost.flops) == (params, flops)


def test_compile_cli_reproduces_recorded_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "largest.txt"
    path.write_text(arch_to_network_text(LARGEST))
    args = [
        "compile",
        str(path),
        "--skeleton",
        "nb201",
        "--width",
        "16",
        "--dataset",
        "cifar10",
        "--json",
    ]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["params"], result["flops"]) == (1_531_546, 220_119_690)
    # fvcore: the same multiply-adds without the classifier's 10 bias additions
    assert result["fvcore_flops"] == 220_119_690 - 10


@pytest.mark.parametrize(
    "arch",
    [
        LARGEST,
        RESNET,
        EXAMPLE,
        ALL_NONE,
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    ],
)
def test_counts_equal_a_hand_written_tiny_network(arch: str, registry: OperatorRegistry) -> None:
    """Params and FLOPs of nader's conversion vs NAS-Bench-201's network written by hand."""
    reference = TinyNetwork(arch, channels=16, cells=5, classes=100)
    cost = network_cost(
        parse_network(arch_to_network_text(arch)),
        registry,
        skeleton_named("nb201"),
        dataset_preset("cifar100"),
        16,
    )
    assert cost.params == count_parameters(reference)
    # NAS-Bench-201 FLOPs = conv/linear multiply-adds (fvcore) + the classifier's bias additions
    assert cost.flops == fvcore_macs(reference, (1, 3, 32, 32)) + 100


@pytest.mark.parametrize(
    "arch",
    [
        EXAMPLE,
        "|avg_pool_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|",
    ],
)
def test_converted_network_computes_what_nas_bench_201_computes(
    arch: str, registry: OperatorRegistry, runtime
) -> None:
    """Same weights (both list them in edge order), same outputs: the conversion is faithful."""
    torch = pytest.importorskip("torch")
    from nader.backends.fx_build import build_network
    from nader.backends.plan import NetworkPlanner

    planner = NetworkPlanner(
        parse_network(arch_to_network_text(arch)),
        registry,
        skeleton_named("nb201").with_depths((2, 2, 2)),
        dataset_preset("cifar10"),
    )
    compiled = build_network(planner.plan(8), runtime.lowerings).eval()
    reference = TinyNetwork(arch, channels=8, cells=2, classes=10).eval()
    ours, theirs = compiled.state_dict(), reference.state_dict()
    assert [v.shape for v in ours.values()] == [v.shape for v in theirs.values()]
    generator = torch.Generator().manual_seed(0)
    randomized = {
        k: torch.randn(v.shape, generator=generator).abs() + 0.1 if v.is_floating_point() else v
        for k, v in ours.items()
    }
    compiled.load_state_dict(randomized)
    reference.load_state_dict(dict(zip(theirs, randomized.values(), strict=True)))
    images = torch.randn(3, 3, 32, 32, generator=generator)
    with torch.no_grad():
        torch.testing.assert_close(compiled(images), reference(images), rtol=1e-5, atol=1e-5)


def test_command_line_converts_both_ways(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nader.backends.nb201 import main as nb201_main

    assert nb201_main([EXAMPLE]) == 0
    path = tmp_path / "cell.txt"
    path.write_text(capsys.readouterr().out)
    assert nb201_main(["--to-arch", str(path)]) == 0
    assert capsys.readouterr().out.strip() == EXAMPLE
    assert nb201_main(["|bad|"]) == 1
    assert "error:" in capsys.readouterr().err


def test_example_file_is_the_converters_output(registry: OperatorRegistry) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "nb201_resnet.txt"
    text = example.read_text()
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("# "))
    assert body == arch_to_network_text(RESNET)
    assert network_to_arch(parse_network(text), registry) == RESNET
