"""Pull block text out of a free-form model answer.

Models wrap blocks in prose and ``` fences (sometimes one stray fence line after a block), put
several blocks in one answer, forget the header, write it ``###Name###``, number lines as a
list or use a typographic arrow. We keep only lines that look like block
statements (headers, ``N:Op(...)`` nodes, ``A,B->C`` edges), split them into blocks at headers
(or where a second ``N:input`` appears), and give a header-less block a default name. Whether
the result is *valid* is the verifier's business, not ours: this step only finds the text.
Lines inside a block that we could not read are kept as ``skipped`` so a checker can show them.

This is the one front door for model answers: the agents and ``nader check --extract`` use it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_FENCE_LINE = re.compile(r"^[ \t]*(```|~~~)")
#: two or more ``#`` on each side, like the grammar's header
_HEADER = re.compile(r"##+([^#\r\n]+)##+")
_NODE = re.compile(r"^(\d+)\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\(.*\))?\s*(#.*)?$")
_EDGE = re.compile(r"^\d+(\s*,\s*\d+)*\s*->\s*\d+\s*(#.*)?$")
_DECORATION = re.compile(r"^(?:[-*•>]\s+|\d+[.)]\s+(?=\d+\s*[:,-]))")
_ARROWS = {"→": "->", "⟶": "->", "=>": "->", "—>": "->", "–>": "->"}


@dataclass(frozen=True)
class ExtractedBlock:
    """One block found in an answer: its name, statement lines, and whether we named it."""

    name: str
    lines: tuple[str, ...]
    header_added: bool = False
    #: lines between the header and the last statement that are not statements (nor comments)
    skipped: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return f"##{self.name}##\n" + "\n".join(self.lines) + "\n"

    def renamed(self, name: str) -> ExtractedBlock:
        return ExtractedBlock(name, self.lines, self.header_added, self.skipped)


def _clean(line: str) -> str:
    line = line.replace("`", "").strip()
    for fancy, plain in _ARROWS.items():
        line = line.replace(fancy, plain)
    line = _DECORATION.sub("", line)
    if line.startswith("**") and line.endswith("**"):
        line = line[2:-2].strip()
    return line


def _regions(text: str) -> list[list[str]]:
    """Line groups to read blocks from: the fenced regions that hold block statements when the
    fences pair up and nothing outside them is a statement; otherwise (no fence, a stray
    fence, a trailing fence after an unfenced block) every stretch between fence lines."""
    segments: list[list[str]] = [[]]
    for line in text.splitlines():
        if _FENCE_LINE.match(line):
            segments.append([])
        else:
            segments[-1].append(line)

    def useful(segment: list[str]) -> bool:
        return any(_classify(_clean(line)) for line in segment)

    paired = len(segments) % 2 == 1 and not any(useful(s) for s in segments[0::2])
    fenced = segments[1::2] if paired else []
    return [s for s in fenced if useful(s)] or [s for s in segments if useful(s)]


def _classify(line: str) -> str | None:
    if _HEADER.match(line):
        return "header"
    if _NODE.match(line):
        return "node"
    if _EDGE.match(line):
        return "edge"
    return None


class _Collector:
    """Lines of the block being read, closed into :class:`ExtractedBlock` s."""

    def __init__(self, default_names: Sequence[str]) -> None:
        self.default_names = list(default_names) or ["Block"]
        self.unnamed = 0
        self.blocks: list[ExtractedBlock] = []
        self.name: str | None = None
        self.header_added = False
        self.lines: list[str] = []
        self.seen_ids: set[int] = set()
        self.skipped: list[str] = []
        self.pending: list[str] = []  # unreadable lines, skipped if a statement follows

    def close(self) -> None:
        if self.name is not None and any(_NODE.match(line) for line in self.lines):
            self.blocks.append(
                ExtractedBlock(self.name, tuple(self.lines), self.header_added, tuple(self.skipped))
            )
        self.name, self.header_added, self.lines, self.seen_ids = None, False, [], set()
        self.skipped, self.pending = [], []

    def unreadable(self, line: str) -> None:
        if self.name is not None and line and not line.startswith("#"):
            self.pending.append(line)

    def start(self, name: str | None) -> None:
        self.close()
        if name is None:
            name = self.default_names[min(self.unnamed, len(self.default_names) - 1)]
            self.unnamed += 1
            self.header_added = True
        self.name = name

    def statement(self, line: str, kind: str) -> None:
        node = _NODE.match(line) if kind == "node" else None
        if node is not None:
            node_id = int(node.group(1))
            if node_id in self.seen_ids and node.group(2) in ("input", "input1"):
                self.close()  # a second input node: a new, header-less block begins
            self.seen_ids.add(node_id)
        if self.name is None:
            self.start(None)
            if node is not None:
                self.seen_ids.add(int(node.group(1)))
        self.skipped += self.pending
        self.pending = []
        self.lines.append(line)


def extract_blocks(text: str, default_names: Sequence[str] = ("Block",)) -> list[ExtractedBlock]:
    """Every block in ``text``, in order; header-less ones take ``default_names`` in turn."""
    collector = _Collector(default_names)
    for region in _regions(text):
        for raw in region:
            line = _clean(raw)
            kind = _classify(line)
            if kind == "header":
                match = _HEADER.match(line)
                assert match is not None
                collector.start(match.group(1).strip())
            elif kind is not None:
                collector.statement(line, kind)
            else:
                collector.unreadable(line)
        collector.close()  # a block never continues into the next fence
    return collector.blocks
