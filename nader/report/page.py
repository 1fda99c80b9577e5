"""``render_report``: the whole page, from ``summary.json`` and ``arch/<id>/network.txt``.

Sections: a headline and the best-architecture card (why it is the best, its lineage of
suggestions from the root), the modification tree, accuracy against cost, validation curves,
the sortable table with CSV/JSON downloads, and one panel per architecture (its blocks drawn,
what changed from its parent highlighted with the text diff beside it, the suggestion and tips
that produced it, its training curves, proxies and early stop).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nader.errors import NaderError
from nader.report.blocks import BlockGraph, block_graphs, block_svg, changed_nodes
from nader.report.charts import all_curves, curves, scatter
from nader.report.html import CSS, JS, esc, fmt, json_for_script, number, pct
from nader.report.tree import tree_svg

#: the table's columns (and the CSV's): name, CSS class
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "l"),
    ("parent", "l"),
    ("status", "l"),
    ("suggestion", "l"),
    ("width", ""),
    ("params", ""),
    ("flops", ""),
    ("valid_acc", ""),
    ("test_acc", ""),
    ("epochs", ""),
    ("naswot", ""),
    ("synflow", ""),
    ("tokens", ""),
    ("cost_usd", ""),
)


def _proxies(arch: Mapping[str, Any]) -> Mapping[str, Any]:
    extra = arch.get("extra") or {}
    proxies = extra.get("proxies") if isinstance(extra, Mapping) else None
    return proxies if isinstance(proxies, Mapping) else {}


def table_rows(archs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per architecture: what the table shows and the downloads hold."""
    rows = []
    for arch in archs:
        tokens = arch.get("tokens") or {}
        proxies = _proxies(arch)
        row = {name: arch.get(name) for name, _ in COLUMNS}
        row["tokens"] = int(tokens.get("input", 0) or 0) + int(tokens.get("output", 0) or 0)
        row["naswot"] = number(proxies.get("naswot"))
        row["synflow"] = number(proxies.get("synflow"))
        rows.append(row)
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    shown = [
        (name, cls)
        for name, cls in COLUMNS
        if name not in ("naswot", "synflow") or any(r[name] is not None for r in rows)
    ]
    head = "".join(f'<th class="{cls}">{esc(name)}</th>' for name, cls in shown)
    body = []
    for row in rows:
        cells = []
        for name, cls in shown:
            value = row[name]
            text = fmt(value, 4 if name in ("cost_usd", "valid_acc", "test_acc") else 2)
            if name == "suggestion" and value and len(str(value)) > 60:
                text = str(value)[:59] + "…"
            klass = f"{cls} status-{esc(value)}" if name == "status" else cls
            data = "" if value is None else value
            cells.append(
                f'<td class="{klass}" data-v="{esc(data)}" title="{esc(value)}">{esc(text)}</td>'
            )
        body.append(f"<tr>{''.join(cells)}</tr>")
    columns = [name for name, _ in COLUMNS]
    return (
        '<div class="toolbar">download the table: <a id="download-csv" download="architectures.csv" href="#">CSV</a>'
        '<a id="download-json" download="architectures.json" href="#">JSON</a></div>'
        f'<table id="arch-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        f'<script type="application/json" id="arch-data">{json_for_script(rows)}</script>'
        f'<script type="application/json" id="arch-columns">{json_for_script(columns)}</script>'
    )


def lineage(archs: Sequence[Mapping[str, Any]], arch_id: str) -> list[Mapping[str, Any]]:
    """The architectures from the root down to ``arch_id`` (a cycle or a missing parent ends it)."""
    by_id = {str(a["id"]): a for a in archs}
    chain: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    current: str | None = arch_id
    while current is not None and current in by_id and current not in seen:
        seen.add(current)
        chain.append(by_id[current])
        parent = by_id[current].get("parent")
        current = None if parent is None else str(parent)
    return chain[::-1]


def _best_card(archs: Sequence[Mapping[str, Any]], best: str | None) -> str:
    arch = next((a for a in archs if str(a["id"]) == str(best)), None) if best else None
    if arch is None:
        return '<div class="card best" id="best-card"><strong>No trained architecture yet.</strong></div>'
    trained = [a for a in archs if a.get("status") == "trained" and a.get("valid_acc") is not None]
    runner_up = sorted(
        (a for a in trained if str(a["id"]) != str(best)),
        key=lambda a: -float(a["valid_acc"]),
    )
    why = (
        f"Chosen by validation accuracy: the highest of {len(trained)} trained architecture(s)"
        + (
            f", {pct(number(arch.get('valid_acc')))} against {pct(number(runner_up[0]['valid_acc']))} "
            f"for the next ({esc(runner_up[0]['id'])})"
            if runner_up
            else ""
        )
        + ". Test accuracy is measured once per architecture for this report and never read by the search."
    )
    steps = []
    for step in lineage(archs, str(arch["id"])):
        what = step.get("suggestion") or "base network"
        steps.append(
            f"<li><strong>{esc(step['id'])}</strong> (valid {pct(number(step.get('valid_acc')))}): {esc(what)}</li>"
        )
    return (
        f'<div class="card best" id="best-card"><strong>Best architecture: {esc(arch["id"])}</strong>'
        "<dl>"
        f"<dt>validation accuracy</dt><dd>{pct(number(arch.get('valid_acc')))}</dd>"
        f"<dt>test accuracy</dt><dd>{pct(number(arch.get('test_acc')))}</dd>"
        f"<dt>parameters</dt><dd>{fmt(arch.get('params'))}</dd>"
        f"<dt>FLOPs</dt><dd>{fmt(arch.get('flops'))}</dd>"
        f"<dt>width</dt><dd>{fmt(arch.get('width'))}</dd>"
        "</dl>"
        f'<div class="why">{why}</div>'
        f'<div class="legend">lineage of suggestions from the root:</div><ol class="lineage">{"".join(steps)}</ol>'
        f'<div class="legend">export it: <code>nader export RUN_DIR --arch {esc(arch["id"])} --out model.onnx</code></div></div>'
    )


def _text_diff(parent: str, child: str) -> str:
    lines = []
    for line in difflib.unified_diff(
        parent.splitlines(), child.splitlines(), "parent", "this architecture", lineterm="", n=2
    ):
        if line.startswith(("+++", "---")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        lines.append(f'<span class="{kind}">{esc(line)}</span>')  # block spans: one per line
    if not lines:
        return "<p>No textual change from the parent.</p>"
    return '<pre class="diff">' + "".join(lines) + "</pre>"


def _match(graph: BlockGraph, parents: list[BlockGraph]) -> BlockGraph | None:
    same = [p for p in parents if p.name == graph.name] or [
        p for p in parents if p.role == graph.role
    ]
    return same[0] if same else None


def _arch_panel(
    arch: Mapping[str, Any],
    text: str,
    parent_text: str | None,
    index: int,
    parsed: dict[str, list[BlockGraph] | str],
) -> str:
    """One architecture's panel; ``parsed`` memoizes block graphs by network text (a parent is
    drawn for itself and read again for each child; stems and downsample blocks repeat)."""
    if text not in parsed:
        parsed[text] = block_graphs(text)
    graphs = parsed[text]
    parents: list[BlockGraph] | str = []
    if parent_text is not None:
        if parent_text not in parsed:
            parsed[parent_text] = block_graphs(parent_text)
        parents = parsed[parent_text]
    drawings = []
    if isinstance(graphs, str):
        drawings.append(f"<pre>{esc(graphs)}</pre>")
    else:
        for number_in_panel, graph in enumerate(graphs):
            parent = _match(graph, parents) if isinstance(parents, list) else None
            changed = changed_nodes(graph, parent) if parent_text is not None else set()
            note = f" — {len(changed)} node(s) changed from the parent" if changed else ""
            drawings.append(
                f"<div><h3>{esc(graph.name)} ({esc(graph.role)}){esc(note)}</h3>{block_svg(graph, changed, f'arrow-{index}-{number_in_panel}')}</div>"
            )
    extra = arch.get("extra") or {}
    badges = []
    if arch.get("status") == "stopped_early":
        badges.append('<span class="badge stop">stopped early</span>')
    for name, value in _proxies(arch).items():
        if number(value) is not None:
            badges.append(f'<span class="badge proxy">{esc(name)} {float(value):.4g}</span>')
    why = []
    if arch.get("suggestion"):
        why.append(
            f'<div class="tips"><strong>suggestion:</strong> {esc(arch["suggestion"])}</div>'
        )
    tips = extra.get("tips_used") if isinstance(extra, Mapping) else None
    if tips:
        items = "".join(f"<li>{esc(t)}</li>" for t in tips)
        why.append(
            f'<div class="tips"><strong>tips shown to the Modifier:</strong><ul>{items}</ul></div>'
        )
    notes = extra.get("notes") if isinstance(extra, Mapping) else None
    if notes:
        why.append(
            f'<div class="tips"><strong>notes:</strong> {esc("; ".join(map(str, notes)))}</div>'
        )
    if arch.get("error"):
        why.append(f'<div class="tips"><strong>error:</strong> {esc(arch["error"])}</div>')
    diff = (
        f"<div><h3>Text diff against parent {esc(arch.get('parent'))}</h3>{_text_diff(parent_text, text)}</div>"
        if parent_text is not None
        else f"<div><h3>Network text</h3><pre>{esc(text)}</pre></div>"
    )
    return (
        f'<details class="arch" data-id="{esc(arch["id"])}"><summary>{esc(arch["id"])} — {esc(arch.get("status"))}, '
        f"valid {pct(number(arch.get('valid_acc')))} — {esc(str(arch.get('suggestion') or 'base network')[:100])}</summary>"
        f'<div class="card">{"".join(badges)}{"".join(why)}{curves(arch)}'
        f'<div class="diffwrap"><div>{"".join(drawings)}</div>{diff}</div></div></details>'
    )


def load_summary(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "summary.json"
    if not path.exists():
        raise NaderError(f"{path} does not exist: is {run_dir} a nader run directory?")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise NaderError(
            f"{path} is not valid JSON ({err}); the run's state.db holds the run: "
            "a --resume of it writes summary.json again"
        ) from err
    archs = summary.get("architectures", []) if isinstance(summary, dict) else None
    if not isinstance(archs, list) or not all(isinstance(a, dict) and "id" in a for a in archs):
        raise NaderError(
            f'{path} is not a run summary (expected {{"architectures": [{{"id": '
            "...}, ...]}); a --resume of the run writes it again from state.db"
        )
    return summary


def render_report(run_dir: Path) -> str:
    """The report's HTML for ``run_dir`` (reads summary.json and arch/*/network.txt)."""
    run_dir = Path(run_dir)
    summary = load_summary(run_dir)
    archs = [a for a in summary.get("architectures", []) if isinstance(a, dict) and "id" in a]
    usage = summary.get("usage") or {}
    best = summary.get("best")
    counts: dict[str, int] = {}
    for arch in archs:
        counts[str(arch.get("status", "?"))] = counts.get(str(arch.get("status", "?")), 0) + 1
    texts: dict[str, str] = {}
    for arch in archs:
        path = run_dir / "arch" / str(arch["id"]) / "network.txt"
        if path.exists():
            texts[str(arch["id"])] = path.read_text(encoding="utf-8", errors="replace")
    parsed: dict[str, list[BlockGraph] | str] = {}
    panels = [
        _arch_panel(arch, texts[str(arch["id"])], texts.get(str(arch.get("parent"))), index, parsed)
        for index, arch in enumerate(archs)
        if str(arch["id"]) in texts
    ]
    status_line = ", ".join(f"{n} {esc(s)}" for s, n in sorted(counts.items()))
    usage_line = (
        f"tokens: {fmt(usage.get('input_tokens', 0))} in / {fmt(usage.get('output_tokens', 0))} out, "
        f"cost ${float(usage.get('cost_usd', 0) or 0):.4f}"
    )
    stopped = summary.get("stopped_because")
    title = summary.get("name") or run_dir.name
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>nader run {esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body>
<h1>nader run: {esc(title)}</h1>
<div class="meta">{len(archs)} architectures ({status_line}) · {usage_line}{" · stopped: " + esc(stopped) if stopped else ""}</div>
<h2>Best architecture</h2>{_best_card(archs, best)}
<h2>Modification tree</h2><div class="card">{tree_svg(archs)}</div>
<h2>Accuracy against cost</h2><div class="charts">{scatter(archs, "params", "Validation accuracy vs parameters", "chart-params")}{scatter(archs, "flops", "Validation accuracy vs FLOPs", "chart-flops")}</div>
{"<h2>Training curves</h2><div class='charts'>" + all_curves(archs) + "</div>" if all_curves(archs) else ""}
<h2>Architectures</h2><div class="card">{_table(table_rows(archs))}</div>
<h2>Blocks, and what changed from the parent</h2>
<div class="legend">orange boxes: nodes this architecture added or changed relative to its parent</div>
{"".join(panels) or "<p>No block files.</p>"}
<script>{JS}</script>
</body></html>
"""


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    from nader.session.store import atomic_write_text

    target = Path(out) if out is not None else Path(run_dir) / "report.html"
    atomic_write_text(target, render_report(Path(run_dir)))
    return target
