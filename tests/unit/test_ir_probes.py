"""Probes that respect the data: square stays square; non-square use is checked when asked for."""

from __future__ import annotations

from ir_helpers import cell

from nader.ir import Role, default_registry, parse_block
from nader.ir.check import check_text
from nader.ir.verify import Probe, alternate_probe, default_probe, verify_block

REGISTRY = default_registry()
#: x @ x: a (B,C,H,W) map times itself needs W == H
SELF_PRODUCT = cell("2:multiply", "0,0->2", "2->1")
#: a permute that swaps H and W, added to its input: needs H == W
SWAP_ADD = cell("2:permute(0,1,3,2)", "3:Add", "0->2", "2,0->3", "3->1")


def test_second_probe_keeps_the_first_probes_aspect_ratio() -> None:
    for role in Role:
        square = default_probe(role, False)
        alt = alternate_probe(square, role, False)
        assert alt.height == alt.width and alt.height > square.height
    wide = alternate_probe(Probe(2, 64, 32, 48, 64), Role.CELL, False)
    assert wide.width * 32 == wide.height * 48


def test_square_only_blocks_are_valid_for_square_data_with_a_note_naming_the_node() -> None:
    for text, node in ((SELF_PRODUCT, 2), (SWAP_ADD, 3)):
        report = verify_block(parse_block(text), REGISTRY)
        assert report.valid, [str(e) for e in report.errors]
        assert report.square_only == (node,)
        (note,) = report.notes
        assert "square inputs only" in note and f"node {node}" in note


def test_non_square_input_shape_checks_non_square_use() -> None:
    for text in (SELF_PRODUCT, SWAP_ADD):
        report = check_text(text, REGISTRY, input_shape=(2, 64, 32, 48))
        assert not report.valid
        assert report.blocks[0].errors[0].code == "shape-mismatch"
        assert report.blocks[0].square_only == ()


def test_blocks_for_every_size_get_no_note() -> None:
    text = cell("2:Conv2d(out_channels=C,kernel_size=3)", "3:BN", "0->2", "2->3", "3->1")
    report = verify_block(parse_block(text), REGISTRY)
    assert report.valid and report.notes == () and report.square_only == ()


def test_image_size_sets_the_probes_height_and_width_only() -> None:
    wide = check_text(SELF_PRODUCT, REGISTRY, image_size=(24, 40))
    assert not wide.valid and wide.blocks[0].probe.height == 24 and wide.blocks[0].probe.width == 40
    square = check_text(SELF_PRODUCT, REGISTRY, image_size=(16, 16))
    block = square.blocks[0]
    assert square.valid and (block.probe.height, block.probe.width) == (16, 16)
    assert block.probe.channels == default_probe(Role.CELL, False).channels
