"""The printer writes canonical text: parse(print(x)) is isomorphic to x, and printing is idempotent."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ir_helpers import Graph, cell, graphs, render_randomly

from nader.errors import VerifyError
from nader.ir import (
    canonical_hash,
    default_registry,
    parse_block,
    parse_network,
    print_block,
    print_network,
)

REGISTRY = default_registry()

GOLDEN_SOURCE = """##SE residual##
7:input          # any ids, any order
3:output
12:BN
4:Conv2d(kernel_size=3, out_channels=C, stride=1, bias=True)
5:AdaptiveAvgPool2d(output_size=1)
6:reshape(B, C)
9:Linear(C/4)
10:Sigmoid
11:reshape(B,C,1,1)
8:Mul
2:Add
7->4
4->12
12->5
5->6
6->9
9->10
10->11
11,12->8
8,7->2
2->3
"""

GOLDEN_PRINTED = """##SE residual##
0:input
1:output
2:Conv2d(out_channels=C,kernel_size=3)
3:BN
4:AdaptiveAvgPool2d(output_size=(1,1))
5:reshape(B,C)
6:Linear(out_channels=C/4)
7:Sigmoid
8:reshape(B,C,1,1)
9:Mul
10:Add
0->2
2->3
3->4
4->5
5->6
6->7
7->8
3->9
8->9
0->10
9->10
10->1
"""


def test_golden_output() -> None:
    printed = print_block(parse_block(GOLDEN_SOURCE), REGISTRY)
    assert printed == GOLDEN_PRINTED


def test_round_trip_keeps_the_graph() -> None:
    block = parse_block(GOLDEN_SOURCE)
    again = parse_block(GOLDEN_PRINTED)
    assert canonical_hash(block, REGISTRY) == canonical_hash(again, REGISTRY)


def test_non_commuting_input_order_survives() -> None:
    text = cell("2:ReLU", "3:BN", "4:concat(dim=1)", "0->2", "0->3", "3->4", "2->4", "4->1")
    printed = print_block(parse_block(text), REGISTRY)
    reparsed = parse_block(printed)
    ops = {node.id: node.op for node in reparsed.nodes}
    concat = next(node.id for node in reparsed.nodes if node.op == "concat")
    assert [ops[i] for i in reparsed.inputs_of()[concat]] == ["BN", "ReLU"]
    assert canonical_hash(parse_block(printed), REGISTRY) == canonical_hash(
        parse_block(text), REGISTRY
    )


def test_two_input_blocks_print_both_inputs_first() -> None:
    text = "##T##\n5:output\n9:input2\n4:input1\n6:Add\n4,9->6\n6->5\n"
    printed = print_block(parse_block(text), REGISTRY)
    assert printed.splitlines()[:4] == ["##T##", "0:input1", "1:input2", "2:output"]


def test_structurally_broken_blocks_are_not_printed() -> None:
    with pytest.raises(VerifyError):
        print_block(parse_block(cell("2:Nope", "0->2", "2->1")), REGISTRY)


def test_corpus_networks_round_trip(corpus_blocks: Path) -> None:
    for path in sorted(corpus_blocks.rglob("*.txt")):
        network = parse_network(path.read_text(encoding="utf-8"))
        printed = print_network(network, REGISTRY)
        again = parse_network(printed)
        assert [b.name for b in again.blocks] == [b.name for b in network.blocks]
        for before, after in zip(network.blocks, again.blocks, strict=True):
            assert before.role() is after.role()
            assert canonical_hash(before, REGISTRY) == canonical_hash(after, REGISTRY), path
        assert print_network(again, REGISTRY) == printed


@settings(max_examples=300, deadline=None, database=None)
@given(graphs(max_nodes=10), st.integers(0, 2**32 - 1))
def test_print_parse_is_isomorphic_and_print_is_idempotent(graph: Graph, seed: int) -> None:
    block = parse_block(render_randomly(graph, random.Random(seed)))
    printed = print_block(block, REGISTRY)
    reparsed = parse_block(printed)
    assert canonical_hash(reparsed, REGISTRY) == canonical_hash(block, REGISTRY)
    assert print_block(reparsed, REGISTRY) == printed
    # and two different renderings of one graph print the same canonical text
    other = parse_block(render_randomly(graph, random.Random(seed + 1)))
    assert print_block(other, REGISTRY) == printed
