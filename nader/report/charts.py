"""Charts as inline SVG: accuracy against cost (axes, ticks, point labels, the Pareto front as a
step line, linear or log x) and per-architecture training curves.

Hand-drawn SVG rather than a charting library: the report must stay one offline file, and the
few chart kinds it needs are small (tick choice is the classic 1-2-5 rule).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nader.report.html import esc, number, si

W, H = 460, 320
LEFT, RIGHT, TOP, BOTTOM = 58, 18, 16, 46


def pareto_front(points: Sequence[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Points not dominated by another with lower-or-equal cost and higher-or-equal accuracy."""
    front: list[tuple[float, float, str]] = []
    best = float("-inf")
    for cost, acc, ident in sorted(points, key=lambda p: (p[0], -p[1])):
        if acc > best:
            front.append((cost, acc, ident))
            best = acc
    return front


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 × 10^k) covering ``[low, high]``."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def log_ticks(low: float, high: float) -> list[float]:
    """1, 2, 5 × 10^k between ``low`` and ``high`` (positive), or just the decades when many."""
    ticks = []
    for k in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for m in (1, 2, 5):
            value = m * 10.0**k
            if low <= value <= high:
                ticks.append(value)
    if len(ticks) > 8:
        ticks = [t for t in ticks if math.log10(t).is_integer()]
    return ticks or [low, high]


class Axes:
    """A plot area with x (linear or log) and y scales, drawing its own frame and ticks."""

    def __init__(self, xs: Sequence[float], ys: Sequence[float], *, log_x: bool, y_unit: bool):
        self.log_x = log_x
        x0, x1 = min(xs), max(xs)
        if log_x:
            x0, x1 = x0 / 1.25, x1 * 1.25
            self.xticks = log_ticks(x0, x1)
        else:
            span = (x1 - x0) or max(abs(x1), 1.0)
            x0, x1 = max(0.0, x0 - 0.08 * span), x1 + 0.08 * span
            self.xticks = [t for t in nice_ticks(x0, x1) if x0 <= t <= x1]
        y0, y1 = min(ys), max(ys)
        pad = max((y1 - y0) * 0.1, 0.02 if y_unit else abs(y1) * 0.05 or 1.0)
        y0, y1 = y0 - pad, y1 + pad
        if y_unit:
            y0, y1 = max(0.0, y0), min(1.0, y1) if y1 <= 1.0 else y1
        self.yticks = [t for t in nice_ticks(y0, y1) if y0 <= t <= y1]
        self.x0, self.x1, self.y0, self.y1 = x0, x1, y0, y1

    def sx(self, value: float) -> float:
        if self.log_x:
            t = (math.log10(value) - math.log10(self.x0)) / (
                math.log10(self.x1) - math.log10(self.x0)
            )
        else:
            t = (value - self.x0) / (self.x1 - self.x0)
        return LEFT + t * (W - LEFT - RIGHT)

    def sy(self, value: float) -> float:
        return H - BOTTOM - (value - self.y0) / (self.y1 - self.y0) * (H - TOP - BOTTOM)

    def frame(
        self,
        x_label: str,
        y_label: str,
        x_text: Callable[[float], str],
        y_text: Callable[[float], str],
    ) -> str:
        parts = [
            f'<line class="axis x" x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="#333"/>',
            f'<line class="axis y" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#333"/>',
        ]
        for tick in self.xticks:
            x = self.sx(tick)
            parts.append(
                f'<g class="tick x"><line x1="{x:.1f}" y1="{H - BOTTOM}" x2="{x:.1f}" y2="{H - BOTTOM + 5}" stroke="#333"/>'
                f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}" stroke="#eef0f4"/>'
                f'<text x="{x:.1f}" y="{H - BOTTOM + 17}" font-size="11" text-anchor="middle">{esc(x_text(tick))}</text></g>'
            )
        for tick in self.yticks:
            y = self.sy(tick)
            parts.append(
                f'<g class="tick y"><line x1="{LEFT - 5}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}" stroke="#333"/>'
                f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#eef0f4"/>'
                f'<text x="{LEFT - 8}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{esc(y_text(tick))}</text></g>'
            )
        parts.append(
            f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 8}" font-size="12" text-anchor="middle">{esc(x_label)}</text>'
            f'<text x="14" y="{(TOP + H - BOTTOM) / 2}" font-size="12" text-anchor="middle" '
            f'transform="rotate(-90 14 {(TOP + H - BOTTOM) / 2})">{esc(y_label)}</text>'
        )
        return "".join(parts)


def _percent(value: float) -> str:
    return (
        f"{100 * value:.0f}%"
        if abs(100 * value - round(100 * value)) < 1e-6
        else f"{100 * value:.1f}%"
    )


def _scatter_one(
    points: list[tuple[float, float, str]], stopped: set[str], key: str, log_x: bool, cls: str
) -> str:
    axes = Axes([p[0] for p in points], [p[1] for p in points], log_x=log_x, y_unit=True)
    parts = [
        f'<svg class="scatter {cls}" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}">'
    ]
    parts.append(
        axes.frame(f"{key}{' (log scale)' if log_x else ''}", "validation accuracy", si, _percent)
    )
    front = pareto_front(points)
    if len(front) > 1:
        d = [f"M{axes.sx(front[0][0]):.1f},{axes.sy(front[0][1]):.1f}"]
        # a staircase: accuracy holds until the next, costlier point of the front
        for cost, acc, _ in front[1:]:
            d.append(f"H{axes.sx(cost):.1f} V{axes.sy(acc):.1f}")
        parts.append(
            f'<path class="pareto" d="{" ".join(d)}" fill="none" stroke="#2563eb" stroke-width="2"/>'
        )
    front_ids = {ident for _, _, ident in front}
    # points closer than a label's height share one label ("3, 5, 6"), drawn by the first
    labelled: list[tuple[float, float, list[str]]] = []
    for cost, acc, ident in points:
        x, y = axes.sx(cost), axes.sy(acc)
        near = next((g for g in labelled if abs(g[0] - x) < 8 and abs(g[1] - y) < 8), None)
        if near is None:
            labelled.append((x, y, [ident]))
        else:
            near[2].append(ident)
    label_of = {ids[0]: ", ".join(ids) for _, _, ids in labelled}
    for cost, acc, ident in points:
        x, y = axes.sx(cost), axes.sy(acc)
        colour = "#2563eb" if ident in front_ids else "#9ca3af"
        tip = f"{ident}: {key} {cost:,.0f}, valid {100 * acc:.2f}%"
        if ident in stopped:
            mark = f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="#fff" stroke="#9a5b00" stroke-width="2"/>'
            tip += " (stopped early)"
        else:
            mark = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>'
        parts.append(
            f'<g class="point" data-id="{esc(ident)}"><title>{esc(tip)}</title>{mark}'
            + (
                f'<text class="point-label" x="{x + 7:.1f}" y="{y - 6:.1f}" font-size="11" fill="#334">{esc(label_of[ident])}</text>'
                if ident in label_of
                else ""
            )
            + "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def scatter(archs: Sequence[Mapping[str, Any]], key: str, title: str, chart_id: str) -> str:
    """Validation accuracy against ``key`` (params or flops), linear with a log-x toggle."""
    points = []
    for arch in archs:
        cost, acc = number(arch.get(key)), number(arch.get("valid_acc"))
        if cost is not None and acc is not None and cost > 0:
            points.append((cost, acc, str(arch["id"])))
    if not points:
        return f'<div class="card"><strong>{esc(title)}</strong><p>No trained architectures yet.</p></div>'
    stopped = {str(a["id"]) for a in archs if a.get("status") == "stopped_early"}
    return (
        f'<div class="card scale-lin" id="{esc(chart_id)}"><strong>{esc(title)}</strong> '
        f'<label class="legend"><input type="checkbox" class="log-toggle" data-chart="{esc(chart_id)}"> log scale</label><br>'
        f'<span class="lin">{_scatter_one(points, stopped, key, False, "linear")}</span>'
        f'<span class="log">{_scatter_one(points, stopped, key, True, "logarithmic")}</span>'
        '<div class="legend">blue step line: Pareto front (no other architecture is both cheaper and more accurate); '
        "hollow square: stopped early</div></div>"
    )


def history_of(arch: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The per-epoch records in ``extra["history"]`` (the training contract), epoch-sorted."""
    extra = arch.get("extra") or {}
    items = extra.get("history") if isinstance(extra, Mapping) else None
    rows = [r for r in items or [] if isinstance(r, Mapping) and number(r.get("epoch")) is not None]
    return sorted(rows, key=lambda r: float(r["epoch"]))


_SERIES = (("train_acc", "#9ca3af", "train acc"), ("valid_acc", "#2563eb", "valid acc"))


def curves(arch: Mapping[str, Any]) -> str:
    """Training curves of one architecture: train/valid accuracy and train loss per epoch."""
    rows = history_of(arch)
    if not rows:
        return ""
    epochs = [float(r["epoch"]) for r in rows]
    accs = [v for r in rows for name, _, _ in _SERIES if (v := number(r.get(name))) is not None]
    losses = [
        (float(r["epoch"]), v) for r in rows if (v := number(r.get("train_loss"))) is not None
    ]
    out = []
    if accs:
        axes = Axes(epochs, accs, log_x=False, y_unit=True)
        parts = [
            f'<svg class="curve acc" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}">'
        ]
        parts.append(axes.frame("epoch", "accuracy", lambda t: f"{t:g}", _percent))
        for name, colour, label in _SERIES:
            pts = [(float(r["epoch"]), v) for r in rows if (v := number(r.get(name))) is not None]
            if pts:
                path = " ".join(
                    f"{'M' if i == 0 else 'L'}{axes.sx(x):.1f},{axes.sy(y):.1f}"
                    for i, (x, y) in enumerate(pts)
                )
                parts.append(
                    f'<path class="series {name}" d="{path}" fill="none" stroke="{colour}" stroke-width="2"><title>{label}</title></path>'
                )
                x, y = pts[-1]
                parts.append(
                    f'<text x="{axes.sx(x) - 4:.1f}" y="{axes.sy(y) - 6:.1f}" font-size="11" text-anchor="end" fill="{colour}">{label} {100 * y:.1f}%</text>'
                )
        if arch.get("status") == "stopped_early":
            x = axes.sx(epochs[-1])
            parts.append(
                f'<g class="early-stop"><line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}" stroke="#9a5b00" stroke-dasharray="4 3"/>'
                f'<text x="{x - 4:.1f}" y="{TOP + 12}" font-size="11" text-anchor="end" fill="#9a5b00">stopped early</text></g>'
            )
        parts.append("</svg>")
        out.append("".join(parts))
    if losses:
        axes = Axes([e for e, _ in losses], [v for _, v in losses], log_x=False, y_unit=False)
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{axes.sx(x):.1f},{axes.sy(y):.1f}"
            for i, (x, y) in enumerate(losses)
        )
        out.append(
            f'<svg class="curve loss" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}">'
            + axes.frame("epoch", "train loss", lambda t: f"{t:g}", lambda t: f"{t:.3g}")
            + f'<path class="series train_loss" d="{path}" fill="none" stroke="#dc2626" stroke-width="2"/></svg>'
        )
    return f'<div class="charts">{"".join(out)}</div>'


def all_curves(archs: Sequence[Mapping[str, Any]]) -> str:
    """Validation accuracy per epoch of every architecture with a history, labelled by id."""
    series = []
    for arch in archs:
        pts = [
            (float(r["epoch"]), v)
            for r in history_of(arch)
            if (v := number(r.get("valid_acc"))) is not None
        ]
        if pts:
            series.append((str(arch["id"]), arch.get("status"), pts))
    if not series:
        return ""
    axes = Axes(
        [x for _, _, p in series for x, _ in p],
        [y for _, _, p in series for _, y in p],
        log_x=False,
        y_unit=True,
    )
    parts = [f'<svg class="curve all" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}">']
    parts.append(axes.frame("epoch", "validation accuracy", lambda t: f"{t:g}", _percent))
    palette = ("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#4b5563")
    for index, (ident, status, pts) in enumerate(series):
        colour = palette[index % len(palette)]
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{axes.sx(x):.1f},{axes.sy(y):.1f}"
            for i, (x, y) in enumerate(pts)
        )
        dash = ' stroke-dasharray="4 3"' if status == "stopped_early" else ""
        x, y = pts[-1]
        parts.append(
            f'<g class="series" data-id="{esc(ident)}"><title>{esc(ident)}</title><path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6"{dash}/>'
            f'<text x="{axes.sx(x) + 4:.1f}" y="{axes.sy(y) + 4:.1f}" font-size="11" fill="{colour}">{esc(ident)}</text></g>'
        )
    parts.append("</svg>")
    return (
        '<div class="card"><strong>Validation accuracy per epoch</strong><br>'
        + "".join(parts)
        + '<div class="legend">one line per architecture, labelled by id; dashed: stopped early</div></div>'
    )
