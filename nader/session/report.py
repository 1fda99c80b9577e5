"""``nader report RUN_DIR``: one self-contained HTML file describing a run.

Sections: the modification tree (nodes coloured by validation accuracy, edges labelled with the
suggestion), a drawing of each architecture's blocks, a sortable table, and accuracy against
params and FLOPs with the Pareto front. Everything is inline (SVG, CSS, a little JavaScript): the
file opens offline and can be mailed around. All text from the run (suggestions, block text,
errors — written by an LLM) is HTML-escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nader.errors import NaderError
from nader.ir.graph import is_boundary

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
.meta{color:#566;font-size:13px}.card{background:#fff;border:1px solid #e1e5ec;border-radius:6px;padding:12px;overflow:auto}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #eef0f4;text-align:right}
th{cursor:pointer;background:#f3f5f8;position:sticky;top:0;user-select:none}th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.l,th.l{text-align:left}.status-trained{color:#176c2f}.status-failed,.status-timeout,.status-diverged,.status-no_progress,.status-invalid{color:#a3261b}
.status-duplicate{color:#777}svg text{font-family:system-ui,sans-serif}details{margin:6px 0}summary{cursor:pointer;font-size:14px}
.charts{display:flex;flex-wrap:wrap;gap:16px}.legend{font-size:12px;color:#566}
"""

_JS = """
(function(){
  var table=document.getElementById('arch-table'); if(!table) return;
  var heads=table.querySelectorAll('th');
  heads.forEach(function(th,i){th.addEventListener('click',function(){
    var body=table.tBodies[0]; var rows=Array.prototype.slice.call(body.rows);
    var asc=!th.classList.contains('sorted-asc');
    heads.forEach(function(h){h.classList.remove('sorted-asc','sorted-desc');});
    th.classList.add(asc?'sorted-asc':'sorted-desc');
    rows.sort(function(a,b){
      var x=a.cells[i].getAttribute('data-v'), y=b.cells[i].getAttribute('data-v');
      var nx=parseFloat(x), ny=parseFloat(y); var c;
      if(!isNaN(nx)&&!isNaN(ny)){c=nx-ny;} else if(x===''&&y!==''){c=1;} else if(y===''&&x!==''){c=-1;} else {c=String(x).localeCompare(String(y));}
      return asc?c:-c;});
    rows.forEach(function(r){body.appendChild(r);});
  });});
})();
"""


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _color(value: float | None, low: float, high: float) -> str:
    """Accuracy colour: red (low) → yellow → green (high); grey when unknown."""
    if value is None:
        return "#c8ccd2"
    t = 0.5 if high <= low else (value - low) / (high - low)
    t = max(0.0, min(1.0, t))
    if t < 0.5:
        r, g = 215, int(80 + 2 * t * 150)
    else:
        r, g = int(215 - (t - 0.5) * 2 * 170), 190
    return f"#{r:02x}{g:02x}50"


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# ----------------------------------------------------------------------------- the tree


def _tree_svg(archs: Sequence[dict[str, Any]]) -> str:
    by_id = {a["id"]: a for a in archs}
    children: dict[str | None, list[str]] = {}
    for arch in archs:
        parent = arch.get("parent") if arch.get("parent") in by_id else None
        children.setdefault(parent, []).append(arch["id"])
    positions: dict[str, tuple[float, int]] = {}
    next_x = [0.0]

    def place(node: str, depth: int) -> float:
        kids = children.get(node, [])
        if not kids:
            x = next_x[0]
            next_x[0] += 1
        else:
            xs = [place(kid, depth + 1) for kid in kids]
            x = (xs[0] + xs[-1]) / 2
        positions[node] = (x, depth)
        return x

    # iterative guard against very deep trees: Python recursion is fine up to ~900 levels
    for root in children.get(None, []):
        place(root, 0)
    if not positions:
        return "<p>No architectures yet.</p>"
    accs = [a["valid_acc"] for a in archs if a.get("valid_acc") is not None]
    low, high = (min(accs), max(accs)) if accs else (0.0, 1.0)
    dx, dy, pad = 160, 90, 40
    width = int(max(x for x, _ in positions.values()) * dx + 2 * pad + 60)
    height = int(max(d for _, d in positions.values()) * dy + 2 * pad + 20)
    parts = [
        f'<svg id="tree" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for node, (x, depth) in positions.items():
        parent = by_id[node].get("parent")
        if parent in positions:
            px, pd = positions[parent]
            x1, y1, x2, y2 = pad + px * dx, pad + pd * dy, pad + x * dx, pad + depth * dy
            label = by_id[node].get("suggestion") or ""
            short = label if len(label) <= 24 else label[:23] + "…"
            parts.append(
                f'<g class="edge"><title>{_esc(label)}</title><line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#9aa3af" stroke-width="1.5"/>'
                f'<text x="{x2}" y="{y2 - 22}" font-size="10" text-anchor="middle" fill="#4b5563">{_esc(short)}</text></g>'
            )
    for node, (x, depth) in positions.items():
        arch = by_id[node]
        cx, cy = pad + x * dx, pad + depth * dy
        fill = _color(arch.get("valid_acc"), low, high)
        tip = f"{node}: {arch.get('status')} valid={_fmt(arch.get('valid_acc'))} test={_fmt(arch.get('test_acc'))} params={_fmt(arch.get('params'))}"
        stroke = "#1d2330" if arch.get("status") == "trained" else "#a3261b"
        parts.append(
            f'<g class="node" data-id="{_esc(node)}"><title>{_esc(tip)}</title>'
            f'<circle cx="{cx}" cy="{cy}" r="16" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
            f'<text x="{cx}" y="{cy + 4}" font-size="11" text-anchor="middle">{_esc(node)}</text></g>'
        )
    parts.append("</svg>")
    legend = f'<div class="legend">colour: validation accuracy from {_fmt(low)} (red) to {_fmt(high)} (green); grey = not trained; red outline = not trained successfully</div>'
    return "".join(parts) + legend


# ----------------------------------------------------------------------------- block drawings


def _block_svgs(text: str) -> str:
    from nader.ir.builtin_ops import default_registry
    from nader.ir.canonical import node_label
    from nader.ir.parser import parse_network
    from nader.ir.structure import Limits, analyze_structure

    try:
        network = parse_network(text)
    except NaderError as err:
        return f"<pre>{_esc(err)}</pre>"
    registry = default_registry()
    out = []
    for block in network.blocks:
        structure = analyze_structure(block, registry, block.role(), Limits())
        if not structure.order:
            out.append(
                f"<p>{_esc(block.name)}: cannot draw ({len(structure.errors)} structural errors)</p>"
            )
            continue
        layer: dict[int, int] = {}
        for node_id in structure.order:
            sources = structure.inputs.get(node_id, ())
            layer[node_id] = 1 + max((layer[s] for s in sources if s in layer), default=-1)
        rows: dict[int, list[int]] = {}
        for node_id in structure.order:
            rows.setdefault(layer[node_id], []).append(node_id)
        box_w, box_h, gap_x, gap_y = 150, 26, 18, 22
        widest = max(len(r) for r in rows.values())
        width = widest * (box_w + gap_x) + 20
        height = len(rows) * (box_h + gap_y) + 20
        pos: dict[int, tuple[float, float]] = {}
        for depth, members in rows.items():
            offset = (width - len(members) * (box_w + gap_x)) / 2
            for i, node_id in enumerate(members):
                pos[node_id] = (
                    offset + i * (box_w + gap_x) + gap_x / 2,
                    10 + depth * (box_h + gap_y),
                )
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
        parts.append(
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#6b7280"/></marker></defs>'
        )
        for target in structure.order:
            for source in structure.inputs.get(target, ()):
                if source in pos and target in pos:
                    sx, sy = pos[source]
                    tx, ty = pos[target]
                    parts.append(
                        f'<line x1="{sx + box_w / 2}" y1="{sy + box_h}" x2="{tx + box_w / 2}" y2="{ty}" stroke="#6b7280" marker-end="url(#arrow)"/>'
                    )
        for node_id, (x, y) in pos.items():
            spec = structure.specs.get(node_id)
            name = spec.name if spec else "?"
            label = node_label(name, structure.params.get(node_id))
            short = label if len(label) <= 24 else label[:23] + "…"
            fill = "#e8f0fe" if is_boundary(name) else "#fff"
            parts.append(
                f'<g><title>{_esc(node_id)}: {_esc(label)}</title><rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="4" fill="{fill}" stroke="#94a3b8"/>'
                f'<text x="{x + box_w / 2}" y="{y + 17}" font-size="11" text-anchor="middle">{_esc(short)}</text></g>'
            )
        parts.append("</svg>")
        out.append(
            f"<div><strong>{_esc(block.name)}</strong> ({block.role().value})<br>{''.join(parts)}</div>"
        )
    return "".join(out)


# ----------------------------------------------------------------------------- charts


def pareto_front(points: Sequence[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Points not dominated by another with lower-or-equal cost and higher-or-equal accuracy."""
    front: list[tuple[float, float, str]] = []
    best = float("-inf")
    for cost, acc, ident in sorted(points, key=lambda p: (p[0], -p[1])):
        if acc > best:
            front.append((cost, acc, ident))
            best = acc
    return front


def _scatter_svg(archs: Sequence[dict[str, Any]], key: str, title: str) -> str:
    points = [
        (float(a[key]), float(a["valid_acc"]), str(a["id"]))
        for a in archs
        if a.get(key) is not None and a.get("valid_acc") is not None
    ]
    w, h, pad = 420, 300, 48
    if not points:
        return f'<div class="card"><strong>{_esc(title)}</strong><p>No trained architectures yet.</p></div>'
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1
    margin_x, margin_y = (x1 - x0) * 0.06, (y1 - y0) * 0.08
    x0, x1, y0, y1 = x0 - margin_x, x1 + margin_x, y0 - margin_y, y1 + margin_y

    def sx(v: float) -> float:
        return pad + (v - x0) / (x1 - x0) * (w - 2 * pad)

    def sy(v: float) -> float:
        return h - pad - (v - y0) / (y1 - y0) * (h - 2 * pad)

    parts = [f'<svg class="scatter" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">']
    parts.append(
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#333"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="#333"/>'
    )
    parts.append(
        f'<text x="{w / 2}" y="{h - 10}" font-size="12" text-anchor="middle">{_esc(key)} ({_fmt(x0)} – {_fmt(x1)})</text>'
    )
    parts.append(
        f'<text x="14" y="{h / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 {h / 2})">validation accuracy</text>'
    )
    front = pareto_front(points)
    if len(front) > 1:
        path = " ".join(f"{sx(c):.1f},{sy(a):.1f}" for c, a, _ in front)
        parts.append(
            f'<polyline class="pareto" points="{path}" fill="none" stroke="#2563eb" stroke-width="2"/>'
        )
    front_ids = {ident for _, _, ident in front}
    for cost, acc, ident in points:
        colour = "#2563eb" if ident in front_ids else "#9ca3af"
        parts.append(
            f'<circle cx="{sx(cost):.1f}" cy="{sy(acc):.1f}" r="5" fill="{colour}"><title>{_esc(ident)}: {key}={_fmt(cost)} valid={_fmt(acc)}</title></circle>'
        )
    parts.append("</svg>")
    return f'<div class="card"><strong>{_esc(title)}</strong><br>{"".join(parts)}<div class="legend">blue: Pareto front (higher accuracy at lower cost)</div></div>'


# ----------------------------------------------------------------------------- page


def _table(archs: Sequence[dict[str, Any]]) -> str:
    cols = [
        ("id", "l"),
        ("parent", "l"),
        ("status", "l"),
        ("suggestion", "l"),
        ("width", ""),
        ("params", ""),
        ("flops", ""),
        ("valid_acc", ""),
        ("test_acc", ""),
        ("tokens", ""),
        ("cost_usd", ""),
    ]
    head = "".join(f'<th class="{c}">{_esc(name)}</th>' for name, c in cols)
    rows = []
    for arch in archs:
        cells = []
        for name, cls in cols:
            value = arch.get(name)
            if name == "tokens":
                tokens = arch.get("tokens") or {}
                value = int(tokens.get("input", 0)) + int(tokens.get("output", 0))
            shown = _fmt(value, 4 if name == "cost_usd" else 2)
            if name == "suggestion" and value and len(str(value)) > 60:
                shown = str(value)[:59] + "…"
            extra = (
                f' class="{cls} status-{_esc(value)}"' if name == "status" else f' class="{cls}"'
            )
            data = "" if value is None else value
            cells.append(
                f'<td{extra} data-v="{_esc(data)}" title="{_esc(value)}">{_esc(shown)}</td>'
            )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table id="arch-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def render_report(run_dir: Path) -> str:
    """The report's HTML for ``run_dir`` (reads summary.json and arch/*/network.txt)."""
    run_dir = Path(run_dir)
    summary_path = run_dir / "summary.json"
    if not summary_path.exists():
        raise NaderError(f"{summary_path} does not exist: is {run_dir} a nader run directory?")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise NaderError(
            f"{summary_path} is not valid JSON ({err}); the run's state.db holds the run: "
            "a --resume of it writes summary.json again"
        ) from err
    archs = summary.get("architectures", []) if isinstance(summary, dict) else None
    if not isinstance(archs, list) or not all(isinstance(a, dict) and "id" in a for a in archs):
        raise NaderError(
            f'{summary_path} is not a run summary (expected {{"architectures": [{{"id": '
            "...}, ...]}); a --resume of the run writes it again from state.db"
        )
    usage = summary.get("usage", {})
    best = summary.get("best")
    counts: dict[str, int] = {}
    for arch in archs:
        counts[arch.get("status", "?")] = counts.get(arch.get("status", "?"), 0) + 1
    drawings = []
    for arch in archs:
        path = run_dir / "arch" / str(arch["id"]) / "network.txt"
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        drawings.append(
            f"<details><summary>{_esc(arch['id'])} — {_esc(arch.get('status'))}, valid {_fmt(arch.get('valid_acc'))}"
            f" — {_esc((arch.get('suggestion') or 'base network')[:100])}</summary>"
            f'<div class="card">{_block_svgs(text)}<pre>{_esc(text)}</pre></div></details>'
        )
    best_arch = next((a for a in archs if a["id"] == best), None)
    best_line = (
        f"best (by validation accuracy): {_esc(best)} — valid {_fmt(best_arch.get('valid_acc'))}, test {_fmt(best_arch.get('test_acc'))}"
        if best_arch
        else "no trained architecture yet"
    )
    status_line = ", ".join(f"{n} {_esc(s)}" for s, n in sorted(counts.items()))
    usage_line = (
        f"tokens: {_fmt(usage.get('input_tokens', 0))} in / {_fmt(usage.get('output_tokens', 0))} out, "
        f"cost ${float(usage.get('cost_usd', 0) or 0):.4f}"
    )
    title = summary.get("name") or run_dir.name
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>nader run {_esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>
<body>
<h1>nader run: {_esc(title)}</h1>
<div class="meta">{len(archs)} architectures ({status_line}) · {best_line} · {usage_line}</div>
<h2>Modification tree</h2><div class="card">{_tree_svg(archs)}</div>
<h2>Accuracy against cost</h2><div class="charts">{_scatter_svg(archs, "params", "Validation accuracy vs params")}{_scatter_svg(archs, "flops", "Validation accuracy vs FLOPs")}</div>
<h2>Architectures</h2><div class="card">{_table(archs)}</div>
<h2>Blocks</h2>{"".join(drawings) or "<p>No block files.</p>"}
<script>{_JS}</script>
</body></html>
"""


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    from nader.session.store import atomic_write_text

    target = Path(out) if out is not None else Path(run_dir) / "report.html"
    atomic_write_text(target, render_report(Path(run_dir)))
    return target
