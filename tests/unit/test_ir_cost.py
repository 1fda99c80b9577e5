"""The cost model: params and FLOPs per block in NAS-Bench-201's convention, by hand.

Params count every trainable parameter (BN's affine weight and bias included). FLOPs are the
multiply-adds of Conv2d and Linear, with one extra per output element for a bias; BN, ReLU,
pooling and Add cost nothing. Reports are per sample (the probe's batch is divided out).
"""

from __future__ import annotations

from typing import Any

import pytest
from ir_helpers import cell, chain

from nader.ir import BlockReport, Limits, Probe, Role, default_registry, parse_block, verify_block
from nader.ir.structure import analyze_structure
from nader.ir.verify import infer_shapes

REGISTRY = default_registry()


def costs(text: str, **options: Any) -> BlockReport:
    report = verify_block(parse_block(text), REGISTRY, **options)
    assert report.valid, report.feedback()
    return report


@pytest.mark.parametrize(
    ("op", "params", "flops"),
    [
        # 3x3 conv, 64 -> 64, bias: 64*64*9 weights + 64 biases; 32*32*64 outputs of 64*9 MACs (+1)
        ("Conv2d(out_channels=C,kernel_size=3)", 64 * 64 * 9 + 64, 32 * 32 * 64 * (64 * 9 + 1)),
        ("Conv2d(out_channels=C,kernel_size=3,bias=False)", 64 * 64 * 9, 32 * 32 * 64 * 64 * 9),
        # dilation changes the receptive field, not the cost
        (
            "Conv2d(out_channels=C,kernel_size=3,dilation=2,bias=False)",
            64 * 64 * 9,
            32 * 32 * 64 * 64 * 9,
        ),
        # depthwise: each output channel sees one input channel
        ("Conv2d(out_channels=C,kernel_size=3,groups=C,bias=False)", 64 * 9, 32 * 32 * 64 * 9),
        ("BN", 2 * 64, 0),
        ("ReLU", 0, 0),
        ("AvgPool2d(kernel_size=3,stride=1)", 0, 0),
        ("DropPath(0.2)", 0, 0),
    ],
)
def test_single_layer_costs(op: str, params: int, flops: int) -> None:
    report = costs(chain(op))
    assert (report.params, report.flops) == (params, flops)


def test_grouped_bottleneck() -> None:
    text = chain(
        "Conv2d(out_channels=C/4,kernel_size=1,groups=4)",
        "Conv2d(out_channels=C,kernel_size=1,bias=False)",
    )
    report = costs(text)
    # 64 -> 16 in 4 groups (16 inputs per group) with bias, then 16 -> 64 without
    assert report.params == (16 * 16 + 16) + 16 * 64
    assert report.flops == 32 * 32 * 16 * (16 + 1) + 32 * 32 * 64 * 16


def test_strided_conv_counts_output_positions() -> None:
    report = costs(
        chain("Conv2d(out_channels=dim,kernel_size=3,stride=2,bias=False)"), role=Role.DOWNSAMPLE
    )
    # 64 -> 128 channels on a 16x16 output
    assert report.params == 128 * 64 * 9
    assert report.flops == 16 * 16 * 128 * 64 * 9


def test_squeeze_excitation_linear_costs() -> None:
    text = chain(
        "AdaptiveAvgPool2d(1)",
        "reshape(B,C)",
        "Linear(out_channels=C/4)",
        "ReLU",
        "Linear(out_channels=C,bias=False)",
        "Sigmoid",
        "reshape(B,C,1,1)",
        "repeat(1,1,H,W)",
    )
    report = costs(text)
    assert report.params == (64 * 16 + 16) + 64 * 16
    assert report.flops == (64 * 16 + 16) + 16 * 64
    assert report.macs == 64 * 16 + 16 * 64


def test_channels_last_linear_and_layer_norm() -> None:
    text = chain(
        "permute(0,2,3,1)",
        "LN",
        "Linear(out_channels=C*4)",
        "GELU",
        "Linear(out_channels=C)",
        "permute(0,3,1,2)",
    )
    report = costs(text)
    positions = 32 * 32
    assert report.params == 2 * 64 + (64 * 256 + 256) + (256 * 64 + 64)
    assert report.flops == positions * ((64 * 256 + 256) + (256 * 64 + 64))


def test_matrix_product_counts_macs_but_not_nb201_flops() -> None:
    text = cell(
        "2:permute(0,1,3,2)", "3:multiply", "4:multiply", "0->2", "0,2->3", "3,0->4", "4->1"
    )
    report = costs(text)
    assert report.params == 0 and report.flops == 0
    # (B,C,32,32) @ (B,C,32,32) twice: 64*32*32 outputs of 32 MACs each, per sample
    assert report.macs == 2 * 64 * 32 * 32 * 32


def test_costs_are_per_sample_at_any_batch() -> None:
    text = chain("Conv2d(out_channels=C,kernel_size=1)")
    one = costs(text, probe=Probe(batch=1))
    four = costs(text, probe=Probe(batch=4))
    assert (
        (one.params, one.flops)
        == (four.params, four.flops)
        == (64 * 64 + 64, 32 * 32 * (64 * 64 + 64))
    )


# --------------------------------------------------- NAS-Bench-201's largest cell, end to end

NOR_CONV = ("ReLU", "Conv2d(out_channels=C,kernel_size=3,bias=False)", "BN")


def nb201_cell() -> str:
    """The all-``nor_conv_3x3`` NAS-Bench-201 cell: node j sums op(i->j) over i < j."""
    lines: list[str] = []
    next_id = 2
    node_ids = {0: 0}
    for j in (1, 2, 3):
        branch_ends = []
        for i in range(j):
            previous = node_ids[i]
            for op in NOR_CONV:
                lines += [f"{next_id}:{op}", f"{previous}->{next_id}"]
                previous, next_id = next_id, next_id + 1
            branch_ends.append(previous)
        if len(branch_ends) == 1:
            node_ids[j] = branch_ends[0]
        else:
            lines += [f"{next_id}:Add", f"{','.join(map(str, branch_ends))}->{next_id}"]
            node_ids[j], next_id = next_id, next_id + 1
    lines.append(f"{node_ids[3]}->1")
    return cell(*lines, name="NB201")


STEM = chain("Conv2d(out_channels=dim,kernel_size=3,bias=False)", "BN", name="NB201_stem")
RESNET_REDUCTION = cell(
    "2:ReLU",
    "3:Conv2d(out_channels=dim,kernel_size=3,stride=2,bias=False)",
    "4:BN",
    "5:ReLU",
    "6:Conv2d(out_channels=dim,kernel_size=3,bias=False)",
    "7:BN",
    "8:AvgPool2d(kernel_size=2,stride=2)",
    "9:Conv2d(out_channels=dim,kernel_size=1,bias=False)",
    "10:Add",
    "0->2",
    "2->3",
    "3->4",
    "4->5",
    "5->6",
    "6->7",
    "0->8",
    "8->9",
    "7,9->10",
    "10->1",
    name="NB201_downsample",
)
HEAD = chain(
    "BN", "ReLU", "AdaptiveAvgPool2d(1)", "reshape(B,C)", "Linear(out_channels=10)", name="head"
)


def test_nas_bench_201_reference_network() -> None:
    """1,531,546 params and 220.11969 MFLOPs on CIFAR-10 (C=16, N=5), as NAS-Bench-201 reports."""
    params = flops = 0
    stem = costs(STEM, probe=Probe(1, 3, 32, 32, 16))
    params, flops = params + stem.params, flops + stem.flops  # type: ignore[operator]
    for stage, (channels, size) in enumerate(((16, 32), (32, 16), (64, 8))):
        report = costs(nb201_cell(), probe=Probe(1, channels, size, size, channels))
        params += 5 * report.params  # type: ignore[operator]
        flops += 5 * report.flops  # type: ignore[operator]
        if stage < 2:
            reduction = costs(RESNET_REDUCTION, probe=Probe(1, channels, size, size, 2 * channels))
            params += reduction.params  # type: ignore[operator]
            flops += reduction.flops  # type: ignore[operator]
    # the head (last BN, pooling, classifier) has no block role: run the cost pass directly
    head = parse_block(HEAD)
    structure = analyze_structure(head, REGISTRY, Role.STEM, Limits())
    result = infer_shapes(structure, Probe(1, 64, 8, 8, 64), Limits())
    assert not result.errors and result.shapes[1].dims == (1, 10)
    params += result.cost.params
    flops += result.cost.flops
    assert params == 1_531_546
    assert flops == 220_119_690
