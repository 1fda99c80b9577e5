"""Pull block text out of a free-form model answer.

Models wrap blocks in prose and ``` fences, put several blocks in one answer, forget the header,
number lines as a list or use a typographic arrow. We keep only lines that look like block
statements (headers, ``N:Op(...)`` nodes, ``A,B->C`` edges), split them into blocks at headers
(or where a second ``N:input`` appears), and give a header-less block a default name. Whether
the result is *valid* is the verifier's business, not ours: this step only finds the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.S)
_HEADER = re.compile(r"##([^#\r\n]+)##")
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

    @property
    def text(self) -> str:
        return f"##{self.name}##\n" + "\n".join(self.lines) + "\n"

    def renamed(self, name: str) -> ExtractedBlock:
        return ExtractedBlock(name, self.lines, self.header_added)


def _clean(line: str) -> str:
    line = line.replace("`", "").strip()
    for fancy, plain in _ARROWS.items():
        line = line.replace(fancy, plain)
    line = _DECORATION.sub("", line)
    if line.startswith("**") and line.endswith("**"):
        line = line[2:-2].strip()
    return line


def _regions(text: str) -> list[str]:
    """Fenced regions that contain block statements, or else the whole answer."""
    fenced = [m.group(1) for m in _FENCE.finditer(text)]
    useful = [
        region for region in fenced if any(_classify(_clean(line)) for line in region.splitlines())
    ]
    return useful or [text]


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

    def close(self) -> None:
        if self.name is not None and any(_NODE.match(line) for line in self.lines):
            self.blocks.append(ExtractedBlock(self.name, tuple(self.lines), self.header_added))
        self.name, self.header_added, self.lines, self.seen_ids = None, False, [], set()

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
        self.lines.append(line)


def extract_blocks(text: str, default_names: Sequence[str] = ("Block",)) -> list[ExtractedBlock]:
    """Every block in ``text``, in order; header-less ones take ``default_names`` in turn."""
    collector = _Collector(default_names)
    for region in _regions(text):
        for raw in region.splitlines():
            line = _clean(raw)
            kind = _classify(line)
            if kind == "header":
                match = _HEADER.match(line)
                assert match is not None
                collector.start(match.group(1).strip())
            elif kind is not None:
                collector.statement(line, kind)
        collector.close()  # a block never continues into the next fence
    return collector.blocks
