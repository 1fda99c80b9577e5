"""The block drawings' geometry, checked in Python over every block of the authors' corpus: each
edge, sampled along the curves it is drawn with, stays out of every node box but its own two
ends. (The browser test checks the same in Chromium's rendering of the report.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nader.report.blocks import BOX_H, block_graphs, edge_path, layout

pytestmark = pytest.mark.corpus

_NUMBER = r"(-?\d+(?:\.\d+)?)"


def sample_path(d: str, steps: int = 24) -> list[tuple[float, float]]:
    """Points along an SVG path of ``M``, ``C`` (cubic) and ``L`` commands."""
    tokens = [m.group(0) for m in re.finditer(r"[MCL]|" + _NUMBER, d)]
    points: list[tuple[float, float]] = []
    numbers: list[float] = []
    command = ""
    current = (0.0, 0.0)

    def flush() -> None:
        nonlocal current
        if command == "M":
            current = (numbers[0], numbers[1])
            points.append(current)
        elif command == "L":
            end = (numbers[0], numbers[1])
            for i in range(1, steps + 1):
                t = i / steps
                points.append(
                    (current[0] + t * (end[0] - current[0]), current[1] + t * (end[1] - current[1]))
                )
            current = end
        elif command == "C":
            (x1, y1, x2, y2, x3, y3) = numbers
            x0, y0 = current
            for i in range(1, steps + 1):
                t = i / steps
                u = 1 - t
                points.append(
                    (
                        u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3,
                        u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3,
                    )
                )
            current = (x3, y3)

    for token in tokens:
        if token[0] in "MCL":
            if command:
                flush()
            command, numbers = token[0], []
        else:
            numbers.append(float(token))
    flush()
    return points


def corpus_files(corpus_blocks: Path) -> list[Path]:
    return sorted(corpus_blocks.rglob("*.txt"))


def test_no_edge_crosses_a_node_box_in_any_corpus_block(corpus_blocks: Path) -> None:
    checked = 0
    problems = []
    for path in corpus_files(corpus_blocks):
        graphs = block_graphs(path.read_text(encoding="utf-8", errors="replace"))
        if isinstance(graphs, str):
            continue
        for graph in graphs:
            if not graph.nodes:
                continue
            boxes, paths = layout(graph)
            for (source, target), points in paths.items():
                checked += 1
                for x, y in sample_path(edge_path(points)):
                    for node, (cx, cy, w) in boxes.items():
                        if node in (source, target):
                            continue
                        if abs(x - cx) < w / 2 - 1 and abs(y - cy) < BOX_H / 2 - 1:
                            problems.append(
                                f"{path.name} {graph.name}: {source}->{target} under {node}"
                            )
                            break
    assert checked > 300
    assert sorted(set(problems)) == []
