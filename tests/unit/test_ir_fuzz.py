"""Fuzzing: generated and mutated block texts never raise anything but NaderError subclasses.

Every input goes through parse, verify (at random probes and roles), hash and print, and every
block that prints must parse back to the same canonical hash and print identically. Together
the two tests run 12,000 inputs, so they are marked slow.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from ir_helpers import blocks_dir

from nader.errors import NaderError
from nader.ir import (
    Role,
    canonical_hash,
    check_text,
    default_registry,
    parse_block,
    print_block,
    verify_block,
)

REGISTRY = default_registry()
FUZZ = settings(
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)

pytestmark = pytest.mark.slow

# ----------------------------------------------------------------------------- generated text
#
# Hypothesis chooses the shape of each text (how many lines, of which kind) and a seed per
# line; the line itself is grown from the seed. That keeps each example to a few dozen draws,
# so 12,000 examples fit in the slow tier.

_NAMES = sorted(
    {spec.name for spec in REGISTRY} | {"BatchNorm2d", "conv2d", "Nope", "exit", "__import__", "x"}
)
_KEYS = [
    "out_channels",
    "kernel_size",
    "stride",
    "dilation",
    "groups",
    "bias",
    "dim",
    "dims",
    "keepdim",
    "output_size",
    "drop_prob",
    "padding",
    "C",
    "__class__",
]
_ATOMS = [
    "C",
    "dim",
    "B",
    "H",
    "W",
    "X",
    "0",
    "1",
    "2",
    "3",
    "4",
    "-1",
    "64",
    "999999999999",
    "1234567890123",
    "True",
    "False",
    "1.5",
    "1e9",
    "1e999",
    ".5",
]
_JUNK = [
    "(",
    ")",
    "[",
    "]",
    ",",
    "=",
    "->",
    "//",
    "/",
    "*",
    "+",
    "-",
    ":",
    "#",
    "##",
    " ",
    "\t",
    "\r",
    "\x00",
    "é",
    "\u2028",
    "'",
    '"',
    ".",
    "@",
    "**",
    "lambda",
    "__import__('os')",
    "len(C)",
    "f'{C}'",
]
_IDS = [str(i) for i in range(13)] * 8 + ["99", "1234567890123", "-1", "x"]
_HEADERS = ["##Cell##", "##X_stem##", "##X_downsample##", "##A##"] * 4 + ["## ##", "##", "#c"]


def _expression(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 4 or roll < 0.35:
        return rng.choice(_ATOMS)
    if roll < 0.7:
        op = rng.choice(["+", "-", "*", "/", "//"])
        return _expression(rng, depth + 1) + op + _expression(rng, depth + 1)
    if roll < 0.8:
        return "(" + _expression(rng, depth + 1) + ")"
    if roll < 0.88:
        return "-" + _expression(rng, depth + 1)
    items = [_expression(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.9:
        return f"({','.join(items)},)" if len(items) == 1 else f"[{','.join(items)}]"
    return ("(" if rng.random() < 0.5 else "[") + ",".join(items) + rng.choice([")", "]"])


def _argument(rng: random.Random) -> str:
    value = _expression(rng)
    return f"{rng.choice(_KEYS)}={value}" if rng.random() < 0.6 else value


def _line(kind: str, seed: int) -> str:
    rng = random.Random(seed)
    if kind == "node":
        text = f"{rng.choice(_IDS)}:{rng.choice(_NAMES)}"
        if rng.random() < 0.7:
            text += "(" + ",".join(_argument(rng) for _ in range(rng.randint(0, 4))) + ")"
    elif kind == "edge":
        sources = [rng.choice(_IDS) for _ in range(rng.randint(1, 3))]
        text = ",".join(sources) + rng.choice(["->"] * 8 + [" -> ", "-", ">"]) + rng.choice(_IDS)
    elif kind == "io":
        text = rng.choice(["0:input", "1:output", "0:input1", "2:input2", "1:output"])
    elif kind == "header":
        text = rng.choice(
            ["##Cell##", "##X_stem##", "##X_downsample##", "##A##", "## ##", "##", "#c"]
        )
    else:
        text = rng.choice(_JUNK)
    if rng.random() < 0.02:
        position = rng.randint(0, len(text))
        text = text[:position] + rng.choice(_JUNK + [" # comment"]) + text[position:]
    return text


_LINE = st.builds(
    _line,
    st.sampled_from(["node"] * 4 + ["edge"] * 5 + ["io"] * 2 + ["header", "junk"]),
    st.integers(0, 2**32 - 1),
)
GENERATED = st.builds(
    lambda header, lines, end: header + "\n" + "\n".join(lines) + end,
    st.sampled_from(_HEADERS),
    st.lists(_LINE, max_size=14),
    st.sampled_from(["", "\n", "\r\n"]),
)

# ------------------------------------------------------------------------------ mutated text


def _seed_texts() -> list[str]:
    folder = blocks_dir()
    if folder.is_dir():
        return [path.read_text(encoding="utf-8") for path in sorted(folder.rglob("*.txt"))]
    return [  # a user's checkout without the corpus still fuzzes something real
        "##R##\n0:input\n1:output\n2:Conv2d(out_channels=C,kernel_size=3)\n3:BN\n4:Add\n0->2\n2->3\n3,0->4\n4->1\n"
        "##R_stem##\n0:input\n1:output\n2:Conv2d(out_channels=dim,kernel_size=3)\n0->2\n2->1\n"
    ]


SEEDS = _seed_texts()
_INSERTS = st.one_of(
    st.sampled_from(_JUNK + _ATOMS + ["\n", "\n0->1\n", "2:ReLU\n", ",3", "*C", "(", "##B##\n"]),
    st.text(alphabet="0123456789:,()->#=*/+ \n\tCdimHWB.\u00e9\x00\u2028", max_size=6),
)


_MUTATIONS = (
    ["token"] * 6
    + ["swap-lines", "duplicate-line", "delete-line"] * 2
    + [
        "insert",
        "delete",
        "replace",
        "truncate",
    ]
)
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|->|//|[-+*/,=]")
_REPLACEMENTS = (
    _NAMES + _KEYS + _ATOMS + ["->", "//", "/", "*", "+", "-", ",", "=", "dim", "C*2", "C/4", "H*W"]
)


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(_MUTATIONS))
        if kind == "token":
            tokens = list(_TOKEN.finditer(text))
            if tokens:
                token = tokens[draw(st.integers(0, len(tokens) - 1))]
                text = (
                    text[: token.start()]
                    + draw(st.sampled_from(_REPLACEMENTS))
                    + text[token.end() :]
                )
        elif kind == "insert":
            text = text[:position] + draw(_INSERTS) + text[position:]
        elif kind == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 12)) :]
        elif kind == "replace":
            text = text[:position] + draw(_INSERTS) + text[position + 1 :]
        elif kind == "truncate":
            text = text[:position]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if kind == "swap-lines":
                lines[i], lines[j] = lines[j], lines[i]
            elif kind == "delete-line":
                del lines[i]
            else:
                lines.insert(j, lines[i])
            text = "\n".join(lines)
    return text


# ------------------------------------------------------------------------------------- body

_SHAPES = st.none() | st.tuples(*(st.integers(1, 70) for _ in range(4)))
_DIMS = st.none() | st.integers(1, 300)
_SCALES = st.none() | st.integers(1, 8)


def exercise(
    text: str,
    input_shape: tuple[int, int, int, int] | None,
    dim: int | None,
    scale: int | None,
    role: Role,
) -> None:
    """Everything a user or an agent can do with text; only NaderError may escape, and
    whatever prints must round-trip."""
    report = check_text(text, REGISTRY, input_shape=input_shape, dim=dim, stem_scale=scale)
    event("syntax error" if report.syntax_error else "valid" if report.valid else "verify errors")
    assert report.valid == (report.syntax_error is None and all(b.valid for b in report.blocks))
    for block_report in report.blocks:
        assert block_report.valid == (not block_report.errors)
        for error in block_report.errors:
            assert error.block == block_report.name and error.line is not None and error.code
    if report.network is None:
        return
    for block in report.network.blocks:
        verify_block(block, REGISTRY, role=role)
        try:
            digest = canonical_hash(block, REGISTRY)
            printed = print_block(block, REGISTRY)
        except NaderError:
            continue
        reparsed = parse_block(printed)
        assert canonical_hash(reparsed, REGISTRY) == digest
        assert print_block(reparsed, REGISTRY) == printed


@settings(FUZZ, max_examples=6000)
@given(GENERATED, _SHAPES, _DIMS, _SCALES, st.sampled_from(list(Role)))
def test_fuzz_generated_text(
    text: str,
    shape: tuple[int, int, int, int] | None,
    dim: int | None,
    scale: int | None,
    role: Role,
) -> None:
    exercise(text, shape, dim, scale, role)


@settings(FUZZ, max_examples=6000)
@given(mutated_texts(), _SHAPES, _DIMS, _SCALES, st.sampled_from(list(Role)))
def test_fuzz_mutated_text(
    text: str,
    shape: tuple[int, int, int, int] | None,
    dim: int | None,
    scale: int | None,
    role: Role,
) -> None:
    exercise(text, shape, dim, scale, role)
