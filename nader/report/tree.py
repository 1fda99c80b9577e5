"""The modification tree: nodes coloured by validation accuracy, edges labelled with the
suggestion that was applied. A tidy-tree layout (leaves left to right, parents centred)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nader.report.html import accuracy_color, esc, fmt, number

LABEL_CHARS = 24


def tree_svg(archs: Sequence[Mapping[str, Any]]) -> str:
    by_id = {str(a["id"]): a for a in archs}
    children: dict[str | None, list[str]] = {}
    for arch in archs:
        parent = str(arch.get("parent")) if str(arch.get("parent")) in by_id else None
        children.setdefault(parent, []).append(str(arch["id"]))
    positions: dict[str, tuple[float, int]] = {}
    next_x = 0.0
    # iterative post-order (no recursion limit on deep trees): leaves get the next column,
    # a parent sits over the middle of its children
    for root in children.get(None, []):
        stack: list[tuple[str, int, bool]] = [(root, 0, False)]
        while stack:
            node, depth, expanded = stack.pop()
            if node in positions:
                continue  # reached twice only through a malformed summary
            kids = [k for k in children.get(node, []) if k != node]
            if not kids:
                positions[node] = (next_x, depth)
                next_x += 1
            elif expanded:
                xs = [positions[k][0] for k in kids if k in positions] or [next_x]
                positions[node] = ((xs[0] + xs[-1]) / 2, depth)
            else:
                stack.append((node, depth, True))
                stack.extend((kid, depth + 1, False) for kid in reversed(kids))
    if not positions:
        return "<p>No architectures yet.</p>"
    accs = [v for a in archs if (v := number(a.get("valid_acc"))) is not None]
    low, high = (min(accs), max(accs)) if accs else (0.0, 1.0)
    dx, dy, pad_x, pad_y = 160, 90, 90, 40  # pad_x: half an edge label, so none is clipped
    width = int(max(x for x, _ in positions.values()) * dx + 2 * pad_x)
    height = int(max(d for _, d in positions.values()) * dy + 2 * pad_y)
    parts = [
        f'<svg id="tree" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for node, (x, depth) in positions.items():
        parent = by_id[node].get("parent")
        if parent is not None and str(parent) in positions:
            px, pd = positions[str(parent)]
            x1, y1, x2, y2 = pad_x + px * dx, pad_y + pd * dy, pad_x + x * dx, pad_y + depth * dy
            label = str(by_id[node].get("suggestion") or "")
            short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
            parts.append(
                f'<g class="edge"><title>{esc(label)}</title><line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#9aa3af" stroke-width="1.5"/>'
                f'<text x="{x2}" y="{y2 - 22}" font-size="10" text-anchor="middle" fill="#4b5563">{esc(short)}</text></g>'
            )
    for node, (x, depth) in positions.items():
        arch = by_id[node]
        cx, cy = pad_x + x * dx, pad_y + depth * dy
        fill = accuracy_color(number(arch.get("valid_acc")), low, high)
        tip = (
            f"{node}: {arch.get('status')} valid={fmt(arch.get('valid_acc'), 4)} "
            f"test={fmt(arch.get('test_acc'), 4)} params={fmt(arch.get('params'))}"
        )
        ok = arch.get("status") in ("trained", "stopped_early")
        stroke = "#1d2330" if ok else "#a3261b"
        parts.append(
            f'<g class="node" data-id="{esc(node)}"><title>{esc(tip)}</title>'
            f'<circle cx="{cx}" cy="{cy}" r="16" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
            f'<text x="{cx}" y="{cy + 4}" font-size="11" text-anchor="middle">{esc(node)}</text></g>'
        )
    parts.append("</svg>")
    legend = (
        f'<div class="legend">colour: validation accuracy from {fmt(low)} (red) to {fmt(high)} '
        "(green); grey = not trained; red outline = not trained successfully</div>"
    )
    return "".join(parts) + legend
