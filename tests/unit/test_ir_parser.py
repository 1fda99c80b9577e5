"""The block grammar: the corpus parses, errors are precise, hostile text is inert and cheap."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ir_helpers import cell, graphs, render_randomly

from nader.errors import BlockSyntaxError, NaderError
from nader.ir import (
    Const,
    Edge,
    Node,
    Role,
    Sym,
    check_text,
    default_registry,
    parse_block,
    parse_network,
)
from nader.ir.expr import BinOp
from nader.ir.parser import MAX_LINE_CHARS, MAX_TEXT_CHARS, _fast_parse, _grammar_parse

REGISTRY = default_registry()


def corpus_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.txt"))


def test_every_corpus_file_parses(corpus_blocks: Path) -> None:
    files = corpus_files(corpus_blocks)
    assert len(files) == 25
    sections = 0
    for path in files:
        network = parse_network(path.read_text(encoding="utf-8"), str(path))
        assert [b.index for b in network.blocks] == list(range(len(network.blocks)))
        assert all(block.nodes and block.edges for block in network.blocks)
        sections += len(network.blocks)
    assert sections == 75


def test_fast_path_and_grammar_agree_on_the_corpus(corpus_blocks: Path) -> None:
    for path in corpus_files(corpus_blocks):
        text = path.read_text(encoding="utf-8")
        fast = _fast_parse(text)
        assert fast is not None, f"{path} should take the fast path"
        assert fast == _grammar_parse(text, None)


def test_ir_of_a_small_block() -> None:
    text = "##Res##  # a residual\n0:input\n1:output\n\n2:Conv2d(out_channels=C/4, kernel_size=3, bias=False)\n  3:BN # norm\n0->2\n2->3\n3,0->4\n4:Add\n4->1\n"
    block = parse_block(text)
    assert block.name == "Res" and block.line == 1 and block.role() is Role.CELL
    conv = block.nodes[2]
    assert conv == Node(
        id=2,
        op="Conv2d",
        args=(),
        kwargs=(
            ("out_channels", BinOp("//", Sym("C"), Const(4))),
            ("kernel_size", Const(3)),
            ("bias", False),
        ),
        line=5,
        column=1,
        has_call=True,
    )
    assert block.nodes[3] == Node(3, "BN", line=6, column=3)
    assert block.edges[2] == Edge((3, 0), 4, line=9)
    assert block.inputs_of() == {2: [0], 3: [2], 4: [3, 0], 1: [4]}


def test_values_floats_booleans_tuples_lists_and_negatives() -> None:
    block = parse_block("##V##\n0:x(1.5, .5, 2e-3, True, false, (1,2), [3,-4], -C, +2)\n")
    args = block.nodes[0].args
    assert args[:5] == (1.5, 0.5, 0.002, True, False)
    assert args[5] == (Const(1), Const(2))
    assert args[6] == (Const(3), Const(-4))
    assert str(args[7]) == "-C" and args[8] == Const(2)


def test_roles_from_names_and_positions() -> None:
    text = "##A##\n0:input\n##B##\n0:input\n##C##\n0:input\n##D##\n0:input\n"
    roles = [b.role() for b in parse_network(text).blocks]
    assert roles == [Role.CELL, Role.STEM, Role.DOWNSAMPLE, Role.CELL]
    named = "##X_downsample##\n0:input\n##my Stem##\n0:input\n##Cell##\n0:input\n"
    # a name wins; otherwise the position decides, even after named blocks (DESIGN §2)
    assert [b.role() for b in parse_network(named).blocks] == [
        Role.DOWNSAMPLE,
        Role.STEM,
        Role.DOWNSAMPLE,
    ]


@pytest.mark.parametrize(
    "text",
    [
        "##A##\r\n0:input\r\n1:output\r\n0->1\r\n",
        "# leading comment\n##A##\n0:input\n1:output\n0->1",
        "##A## # trailing\n0:input ##not a header##\n# comment line\n1:output\n\n\t\n0 -> 1 # edge\n",
        "##A##\n0 : input\n1:output\n0,\t0 ->1\n",
        "\n\n##A##\n0:input\x0c\n1:output\n0->1\n",
    ],
)
def test_layout_variants_parse_and_both_paths_agree(text: str) -> None:
    network = parse_network(text)
    assert network.blocks[0].name == "A"
    assert _grammar_parse(text, None) == network.blocks
    fast = _fast_parse(text)
    assert fast is None or fast == network.blocks


# ---------------------------------------------------------------------------- syntax errors


def syntax_error(text: str) -> BlockSyntaxError:
    with pytest.raises(BlockSyntaxError) as info:
        parse_network(text, "cell.txt")
    return info.value


def test_unclosed_call_reports_line_column_excerpt_and_expectations() -> None:
    err = syntax_error("##A##\n0:input\n1:output\n2:Conv2d(out_channels=C, kernel_size=3\n0->2\n")
    assert (err.line, err.column) == (4, 39)
    assert err.message == "line ends too early"
    assert "')'" in err.expected and "','" in err.expected
    assert err.excerpt.splitlines() == [
        "   4 | 2:Conv2d(out_channels=C, kernel_size=3",
        "     |                                       ^",
    ]
    assert err.block == "A" and err.source == "cell.txt"
    assert str(err).startswith("cell.txt:4:39: line ends too early\nexpected one of: ")
    assert err.diagnostic.code == "syntax" and err.diagnostic.line == 4


def test_unexpected_character() -> None:
    err = syntax_error("##A##\n0:input\n2:Conv2d(out_channels=C.real)\n")
    assert (err.line, err.column, err.message) == (3, 24, "unexpected character '.'")
    assert "')'" in err.expected


def test_missing_header_is_explained() -> None:
    err = syntax_error("0:input\n1:output\n")
    assert err.line == 1 and "##Name## header" in err.message
    assert err.block is None


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "no block found"),
        ("   \n# only a comment\n", 1, "no block found"),
        ("##A##\n0->\n", 2, "line ends too early"),
        ("##A##\n0:input\n1:output(\n", 3, "line ends too early"),
        ("##A##\n2:ReLU\n0->2->1\n", 3, "unexpected '->'"),
        ("##A##\n0:input x\n", 2, "unexpected 'x'"),
        ("##A## x\n", 1, "unexpected 'x'"),
        ("## ##\n0:input\n", 1, "block name is empty"),
        ("##A##\n0:input\n1:output\n2:Conv2d(C,3,)\n", 4, "unexpected ')'"),
        ("##A##\n0:input\n\x0b1:output\n", 3, "unexpected character '\\x0b'"),
        ("##A##\n0:input\n1:out\u2028put\n", 3, "unexpected character '\\u2028'"),
        ("##A##\n0:input\r1:output\n", 2, "unexpected character '\\r'"),
        ("##A##\n1234567890123:input\n", 2, "too long"),
        ("##A##\n0:x(v=" + "(" * 40 + "C" + ")" * 40 + ")\n", 2, "nested deeper"),
        ("##A##\n0:x(v=" + "-" * 40 + "C)\n", 2, "levels deep"),
        ("##A##\n0:x(v=" + "C+" * 300 + "C)\n", 2, "levels deep"),
        ("##A##\n0:x(v=" + "C*" * 40 + "C)\n", 2, "levels deep"),
        ("##A##\n0:x(v=" + "x" * MAX_LINE_CHARS + ")\n", 2, "characters long"),
    ],
)
def test_syntax_errors_name_their_line(text: str, line: int, fragment: str) -> None:
    err = syntax_error(text)
    assert fragment in err.message
    assert err.line == line


def test_text_size_limit() -> None:
    err = syntax_error("##A##\n" + "0->1\n" * (MAX_TEXT_CHARS // 5 + 1))
    assert "limit" in err.message


def test_non_text_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_network(b"##A##\n")  # type: ignore[arg-type]


# -------------------------------------------------------------------- hostile text is inert

HOSTILE = [
    "__import__('os').system('touch {marker}')",
    '__import__("os").system("touch {marker}")',
    'exec(\'open("{marker}","w")\')',
    "eval('1')",
    "exit(0)",
    "len(C)",
    "C.__class__",
    "C.bit_length()",
    "open('{marker}','w')",
    "lambda: open('{marker}','w')",
    "f'{{C}}'",
    "[x for x in range(3)]",
    "C if True else 1",
    "C**2",
    "C<<2",
    "not C",
    "C;import os",
    "globals()['__builtins__']",
    "'{marker}'",
    "C @ C",
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_code_in_block_text_is_invalid_and_has_no_effect(payload: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    expression = payload.format(marker=marker)
    for line in (
        f"2:Conv2d(out_channels={expression},kernel_size=3)",
        f"2:Conv2d({expression})",
    ):
        text = cell(line, "0->2", "2->1")
        with pytest.raises(BlockSyntaxError):
            parse_network(text)
        report = check_text(text, REGISTRY)
        assert not report.valid and report.syntax_error is not None
    # as a whole node line, "exit(0)" is an operator call: well-formed, but no such operator
    report = check_text(cell(f"2:{expression}", "0->2", "2->1"), REGISTRY)
    assert not report.valid
    assert (
        report.syntax_error is not None or report.blocks[0].errors[0].code == "undefined-operator"
    )
    assert not marker.exists()


def test_names_that_look_like_code_are_just_unknown_operators(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for op in ("exit", "eval", "exec", "__import__", "open", "system", "print"):
        report = check_text(cell(f"2:{op}", "0->2", "2->1"), REGISTRY)
        assert [e.code for e in report.blocks[0].errors] == ["undefined-operator"]
    report = check_text(cell("2:Conv2d(out_channels=exit,kernel_size=3)", "0->2", "2->1"), REGISTRY)
    assert [e.code for e in report.blocks[0].errors] == ["unknown-symbol"]
    assert not marker.exists()


# ------------------------------------------------------------- the fast path is the grammar


@settings(max_examples=300, deadline=None, database=None)
@given(graphs(), st.integers(0, 2**32 - 1))
def test_fast_path_builds_what_the_grammar_builds(graph: object, seed: int) -> None:
    text = render_randomly(graph, random.Random(seed))  # type: ignore[arg-type]
    fast = _fast_parse(text)
    assert fast is not None
    assert fast == _grammar_parse(text, None)


_LINE_PIECES = st.sampled_from(
    [
        "##A##",
        "## B ##",
        "0:input",
        "1:output",
        "2:ReLU",
        "3:Conv2d(C,3)",
        "0->2",
        "2->1",
        "2,3->1",
        "0 -> 3",
        " # c",
        "#",
        "##",
        "###",
        "##x",
        "( ",
        ")",
        ",",
        "->",
        "-",
        ">",
        "/",
        "//",
        ":",
        "=",
        "C",
        "1.5",
        "\t",
        "\r",
        "\x0c",
        "\x0b",
        " ",
        "",
        "é",
        "4:concat(dim=1)",
        "5:x(a=(1,2),b=[3])",
        "6:y(C/ /2)",
        "7:z(C//2)",
        "8:w(1,)",
        "##A## #c",
        "0- >1",
    ]
)


@settings(max_examples=600, deadline=None, database=None)
@given(st.lists(st.lists(_LINE_PIECES, max_size=4).map("".join), max_size=8).map("\n".join))
def test_fast_path_never_accepts_what_the_grammar_rejects(text: str) -> None:
    try:
        expected: object = _grammar_parse(text, None)
    except NaderError as err:
        expected = type(err)
    fast = _fast_parse(text)
    if fast is not None:
        assert fast == expected
