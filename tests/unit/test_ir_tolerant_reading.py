"""Headers written with more ``#`` than ours, and a byte-order mark, read as the author meant."""

from __future__ import annotations

import pytest

from nader.ir import Role, default_registry, parse_network, print_network
from nader.ir.parser import _fast_parse, _grammar_parse

BODY = "0:input\n1:output\n2:ReLU\n0->2\n2->1\n"


@pytest.mark.parametrize(
    "header", ["###Cell###", "####Cell####", "##Cell###", "### Cell ###", "##Cell##"]
)
def test_two_or_more_hashes_on_each_side_make_a_header(header: str) -> None:
    text = f"{header}\n{BODY}"
    network = parse_network(text)
    assert [b.name for b in network.blocks] == ["Cell"]
    assert _grammar_parse(text, None) == network.blocks
    fast = _fast_parse(text)
    assert fast is None or fast == network.blocks


def test_roles_survive_three_hash_headers_and_the_printer_writes_two() -> None:
    text = f"###Net###\n{BODY}###Net_stem###\n{BODY}###Net_downsample###\n{BODY}"
    network = parse_network(text)
    assert [b.role() for b in network.blocks] == [Role.CELL, Role.STEM, Role.DOWNSAMPLE]
    assert [b.name for b in network.blocks] == ["Net", "Net_stem", "Net_downsample"]
    printed = print_network(network, default_registry())
    assert "##Net_stem##\n" in printed and "###" not in printed


def test_comment_lines_stay_comments() -> None:
    text = f"##A##\n# ###not a header###\n#x\n{BODY}"
    assert [b.name for b in parse_network(text).blocks] == ["A"]
    assert _grammar_parse(text, None) == parse_network(text).blocks


@pytest.mark.parametrize("text", [f"\ufeff##A##\n{BODY}", f"\ufeff###A###\r\n{BODY}"])
def test_a_byte_order_mark_at_the_start_is_skipped(text: str) -> None:
    network = parse_network(text)
    assert [b.name for b in network.blocks] == ["A"]
    assert network.blocks[0].nodes[2].op == "ReLU"
