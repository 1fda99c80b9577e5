"""Pulling blocks out of free-form answers shaped like real model output."""

from __future__ import annotations

from nader.agents.extraction import extract_blocks
from nader.ir import check_text

PROSE_AND_FENCE = """Certainly! To add channel attention, I insert a squeeze-and-excitation branch after the
second batch normalization. The gate rescales each channel before the residual addition.

```plaintext
##ResNetSE##
0:input
1:output
2:Conv2d(out_channels=C,kernel_size=3,stride=1)
3:BN
4:ReLU
5:Conv2d(out_channels=C,kernel_size=3,stride=1)
6:BN
7:AdaptiveAvgPool2d(output_size=1)
8:Conv2d(out_channels=C/4,kernel_size=1)
9:ReLU
10:Conv2d(out_channels=C,kernel_size=1)
11:Sigmoid
12:Mul
13:Add
14:ReLU
0->2
2->3
3->4
4->5
5->6
6->7
7->8
8->9
9->10
10->11
6,11->12
12->13
0->13
13->14
14->1
```

This keeps the output shape (B, C, H, W) while adding only a few parameters.
"""


def test_block_in_a_fence_with_prose_around(registry):
    blocks = extract_blocks(PROSE_AND_FENCE, ["Fallback"])
    assert [b.name for b in blocks] == ["ResNetSE"]
    assert not blocks[0].header_added
    report = check_text(blocks[0].text, registry)
    assert report.valid, report.blocks[0].feedback()


def test_missing_header_gets_the_default_name(registry):
    body = PROSE_AND_FENCE.split("##ResNetSE##\n", 1)[1]
    blocks = extract_blocks("Here it is:\n```\n" + body, ["Cell_v3"])
    assert [b.name for b in blocks] == ["Cell_v3"]
    assert blocks[0].header_added
    assert check_text(blocks[0].text, registry).valid


def test_several_blocks_in_one_answer_and_in_several_fences():
    answer = """Here are the stem and the downsample block:

```
##ResNetSE_stem##
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3)
0->2
2->1
##ResNetSE_downsample##
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3,stride=2)
0->2
2->1
```
"""
    blocks = extract_blocks(answer, ["x"])
    assert [b.name for b in blocks] == ["ResNetSE_stem", "ResNetSE_downsample"]
    split = answer.replace(
        "2->1\n##ResNetSE_downsample##",
        "2->1\n```\nAnd the downsample:\n```\n##ResNetSE_downsample##",
    )
    assert [b.name for b in extract_blocks(split, ["x"])] == [
        "ResNetSE_stem",
        "ResNetSE_downsample",
    ]


def test_headerless_blocks_split_at_a_second_input_node():
    answer = (
        "```\n0:input\n1:output\n2:ReLU\n0->2\n2->1\n0:input\n1:output\n2:GELU\n0->2\n2->1\n```"
    )
    blocks = extract_blocks(answer, ["A_stem", "A_downsample"])
    assert [b.name for b in blocks] == ["A_stem", "A_downsample"]
    assert "GELU" in blocks[1].text and "GELU" not in blocks[0].text


def test_unfenced_answer_with_list_markup_and_arrows(registry):
    answer = (
        "The modified block is:\n"
        "##Cell##\n"
        "- 0:input\n- 1:output\n- 2:`Conv2d(out_channels=C,kernel_size=3)`\n"
        "0 → 2\n2 -> 1\n"
        "1: We keep the output shape.\n"
    )
    blocks = extract_blocks(answer, ["x"])
    assert blocks[0].lines == (
        "0:input",
        "1:output",
        "2:Conv2d(out_channels=C,kernel_size=3)",
        "0 -> 2",
        "2 -> 1",
    )
    assert check_text(blocks[0].text, registry).valid


def test_no_block_at_all():
    assert extract_blocks("I am sorry, I cannot do that.", ["x"]) == []
    assert extract_blocks("```python\nimport torch\n```", ["x"]) == []


GPT4O_STYLE = """Here is the modified block with a squeeze gate:

###ResNetGate###
0:input
1:output
2:Conv2d(out_channels=C,kernel_size=3)
3:Sigmoid
4:Mul
0->2
2->3
2,3->4
4->1
```

###ResNetGate_stem###
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3)
0->2
2->1

#### ResNetGate_downsample ####
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3,stride=2)
0->2
2->1
"""


def test_three_or_more_hash_headers_keep_names_and_roles(registry):
    blocks = extract_blocks(GPT4O_STYLE, ["Default"])
    assert [b.name for b in blocks] == [
        "ResNetGate",
        "ResNetGate_stem",
        "ResNetGate_downsample",
    ]
    assert not any(b.header_added for b in blocks)
    report = check_text("".join(b.text for b in blocks), registry)
    assert [b.role.value for b in report.blocks] == ["cell", "stem", "downsample"]
    assert report.valid, [b.feedback() for b in report.blocks]


def test_a_trailing_fence_line_is_not_part_of_the_block():
    blocks = extract_blocks(GPT4O_STYLE, ["Default"])
    assert all("```" not in line for b in blocks for line in b.lines)
    assert blocks[0].skipped == ()


def test_stray_lines_inside_a_block_are_kept_as_skipped_not_lost():
    answer = "```\n##A##\n0:input\n1:output\n2:ReLU  // gate\n0->2\n2->1\n```"
    (block,) = extract_blocks(answer, ["x"])
    assert block.skipped == ("2:ReLU  // gate",)
    # prose after the last statement is not a skipped line of the block
    (after,) = extract_blocks("##A##\n0:input\n1:output\n0->1\nThat is all.\n", ["x"])
    assert after.skipped == ()


def test_a_trailing_fence_after_an_unfenced_block_does_not_pair_with_a_later_one():
    # fences: one after the cell (a stray closer) and one at the end; the cell is outside both
    answer = GPT4O_STYLE + "```\n"
    assert [b.name for b in extract_blocks(answer, ["x"])] == [
        "ResNetGate",
        "ResNetGate_stem",
        "ResNetGate_downsample",
    ]
