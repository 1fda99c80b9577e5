"""Small HTML helpers shared by the report's sections: escaping, number formats, colours.

Everything a run holds may have been written by an LLM (suggestions, block text, errors), so
every value goes through :func:`esc` (text and attributes) or :func:`json_for_script` (data
embedded in a ``<script type="application/json">``) before it reaches the page.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any


def esc(value: object) -> str:
    """HTML-escape ``value`` for text and quoted attributes (None → empty)."""
    return html.escape("" if value is None else str(value), quote=True)


def json_for_script(value: Any) -> str:
    """JSON safe inside ``<script>``: ``<``, ``>`` and ``&`` become ``\\u003c``-style escapes,
    so no string in the data can close the script element."""
    text = json.dumps(value, default=str, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def fmt(value: Any, digits: int = 2) -> str:
    """A table cell: ``–`` for missing, thousands separators for ints, ``digits`` for floats."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def si(value: float) -> str:
    """A compact count for axis ticks: ``950``, ``12k``, ``1.5M``, ``0.2G`` — never fractions of
    a parameter."""
    magnitude = abs(value)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= scale:
            text = f"{value / scale:.3g}"
            return f"{text}{suffix}"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.3g}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def accuracy_color(value: float | None, low: float, high: float) -> str:
    """Red (low) → yellow → green (high); grey when unknown."""
    if value is None or not math.isfinite(value):
        return "#c8ccd2"
    t = 0.5 if high <= low else (value - low) / (high - low)
    t = max(0.0, min(1.0, t))
    if t < 0.5:
        r, g = 215, int(80 + 2 * t * 150)
    else:
        r, g = int(215 - (t - 0.5) * 2 * 170), 190
    return f"#{r:02x}{g:02x}50"


def number(value: Any) -> float | None:
    """``value`` as a finite float, or None (bools, strings and NaN are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
h3{font-size:14px;margin:10px 0 4px}
.meta{color:#566;font-size:13px}.card{background:#fff;border:1px solid #e1e5ec;border-radius:6px;padding:12px;overflow:auto}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #eef0f4;text-align:right}
th{cursor:pointer;background:#f3f5f8;position:sticky;top:0;user-select:none}th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.l,th.l{text-align:left}.status-trained{color:#176c2f}.status-failed,.status-timeout,.status-diverged,.status-no_progress,.status-invalid{color:#a3261b}
.status-stopped_early{color:#9a5b00}.status-duplicate{color:#777}svg text{font-family:system-ui,sans-serif}
details{margin:6px 0}summary{cursor:pointer;font-size:14px}
.charts{display:flex;flex-wrap:wrap;gap:16px}.legend{font-size:12px;color:#566}
.best{border-left:4px solid #2563eb}.best dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:6px 0;font-size:14px}
.best dt{color:#566}.best dd{margin:0;font-weight:600}.lineage{margin:6px 0 0 0;padding-left:20px;font-size:13px}
.diffwrap{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
pre{font-size:12px;background:#f6f8fa;padding:8px;border-radius:4px;overflow:auto;max-height:480px}
pre.diff .add{background:#e6ffec;color:#116329;display:block}pre.diff .del{background:#ffebe9;color:#82071e;display:block}
pre.diff .hunk{color:#6639ba;display:block}pre.diff .same{display:block}.why{font-size:13px;color:#334}
.tips{font-size:13px;margin:4px 0}.badge{display:inline-block;font-size:11px;padding:1px 6px;border-radius:8px;background:#eef2ff;color:#3730a3;margin-right:4px}
.badge.stop{background:#fff4e5;color:#9a5b00}.toolbar{font-size:13px;margin:0 0 8px}.toolbar a{margin-right:12px}
.scale-log .lin{display:none}.scale-lin .log{display:none}
"""

JS = """
(function(){
  var table=document.getElementById('arch-table');
  if(table){
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
  }
  var data=document.getElementById('arch-data');
  if(data){
    var rows=JSON.parse(data.textContent);
    var cols=JSON.parse(document.getElementById('arch-columns').textContent);
    function cell(v){ if(v===null||v===undefined) return ''; var s=String(v);
      return /[",\\n\\r]/.test(s) ? '"'+s.replace(/"/g,'""')+'"' : s; }
    var csv=[cols.join(',')].concat(rows.map(function(r){return cols.map(function(c){return cell(r[c]);}).join(',');})).join('\\n')+'\\n';
    function link(id,text,type){ var a=document.getElementById(id); if(!a) return;
      a.href=URL.createObjectURL(new Blob([text],{type:type})); }
    link('download-csv',csv,'text/csv');
    link('download-json',JSON.stringify(rows,null,2)+'\\n','application/json');
  }
  document.querySelectorAll('input.log-toggle').forEach(function(box){
    box.addEventListener('change',function(){
      var card=document.getElementById(box.getAttribute('data-chart'));
      card.classList.toggle('scale-log',box.checked); card.classList.toggle('scale-lin',!box.checked);
    });
  });
})();
"""
