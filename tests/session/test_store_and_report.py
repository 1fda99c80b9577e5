"""Run store consistency and the HTML report, rendered in headless Chromium."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from nader.report import pareto_front, render_report, write_report
from nader.session.store import Architecture, RunStore

CELL = (Path(__file__).resolve().parents[2] / "examples" / "resnet_basic.txt").read_text()
#: the base cell with its second BN's output gated by a sigmoid branch (nodes 20, 21, 22 new)
SE_CELL = CELL.replace(
    "6->7\n",
    "20:AdaptiveAvgPool2d(output_size=1)\n21:Sigmoid\n22:Mul\n6->20\n20->21\n6,21->22\n22->7\n",
    1,
)


def _history(final: float, epochs: int = 3) -> list[dict[str, float]]:
    """Per-epoch records in the training contract (``extra["history"]``)."""
    return [
        {
            "epoch": e,
            "train_loss": 2.0 / e,
            "train_acc": final * e / epochs + 0.05,
            "valid_acc": final * e / epochs,
            "lr": 0.05,
            "images_per_second": 900.0,
            "seconds": 1.5,
        }
        for e in range(1, epochs + 1)
    ]


def _make_run(root: Path) -> RunStore:
    store = RunStore(root)
    store.add(
        Architecture(
            "0",
            0,
            None,
            None,
            "trained",
            hash="h0",
            network_text=CELL,
            params=1000,
            flops=5000,
            valid_acc=0.5,
            test_acc=0.48,
        )
    )
    store.add(
        Architecture(
            "1",
            1,
            "0",
            "add SE <script>alert(1)</script> attention",
            "trained",
            hash="h1",
            network_text=SE_CELL,
            params=1200,
            flops=5200,
            valid_acc=0.6,
            test_acc=0.1,
            extra={
                "history": _history(0.6),
                "proxies": {"naswot": 1234.5, "synflow": 0.25},
                "tips_used": ["keep the <residual> path"],
            },
        )
    )
    store.add(Architecture("2", 2, "0", "wider kernels", "failed", error="boom", network_text=CELL))
    store.add(
        Architecture(
            "3",
            3,
            "1",
            "bottleneck",
            "trained",
            hash="h3",
            network_text=CELL,
            params=800,
            flops=4000,
            valid_acc=0.55,
            test_acc=0.9,
            extra={"history": _history(0.55)},
        )
    )
    store.add(
        Architecture(
            "4",
            4,
            "1",
            "deeper",
            "stopped_early",
            hash="h4",
            network_text=SE_CELL,
            params=1500,
            flops=6000,
            valid_acc=0.3,
            extra={"history": _history(0.3, 2)},
        )
    )
    store.write_summary({"input_tokens": 10, "output_tokens": 5, "cost_usd": 0.001})
    return store


def test_summary_follows_the_contract_and_best_is_by_validation(tmp_path: Path) -> None:
    store = _make_run(tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    keys = {
        "id",
        "parent",
        "suggestion",
        "hash",
        "params",
        "flops",
        "status",
        "valid_acc",
        "test_acc",
    }
    assert all(keys <= set(a) for a in summary["architectures"])
    assert summary["best"] == "1"  # highest valid_acc, though "3" has the highest test_acc
    assert set(summary["usage"]) >= {"input_tokens", "output_tokens", "cost_usd"}
    store.update("2", status="trained", valid_acc=0.7)
    assert store.write_summary({})["best"] == "2"
    assert json.loads((tmp_path / "arch" / "2" / "metrics.json").read_text())["valid_acc"] == 0.7


def test_store_reopens_with_everything(tmp_path: Path) -> None:
    _make_run(tmp_path).close()
    again = RunStore(tmp_path)
    assert [a.id for a in again.all()] == ["0", "1", "2", "3", "4"]
    assert again.by_hash("h3").id == "3"
    assert again.next_seq() == 5
    assert any(e["kind"] == "architecture_added" for e in again.events())


def test_pareto_front_keeps_only_undominated_points() -> None:
    points = [(1.0, 0.5, "a"), (2.0, 0.4, "b"), (3.0, 0.7, "c"), (2.5, 0.7, "d")]
    assert [p[2] for p in pareto_front(points)] == ["a", "d"]


def test_report_escapes_model_text(tmp_path: Path) -> None:
    _make_run(tmp_path)
    page = render_report(tmp_path)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "keep the &lt;residual&gt; path" in page
    # the table's data for the downloads is JSON in a script element: no "<" survives in it
    data = page.split('id="arch-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and json.loads(data)[1]["suggestion"].startswith("add SE <script>")
    assert page.count('class="node"') == 5  # the tree's nodes; block boxes are block-node


def test_report_draws_labels_diffs_curves_and_the_best_card(tmp_path: Path) -> None:
    _make_run(tmp_path)
    page = render_report(tmp_path)
    # salient parameters in the node labels, never cut
    assert ">Conv 3×3 → C<" in page and ">BN<" in page and ">Add<" in page
    assert ">Conv 3×3 s2 → dim<" in page and ">AvgPool 2×2 s2<" in page
    # best card: the best by validation (1), its numbers and its lineage from the root
    card = page.split('id="best-card"', 1)[1].split("</div>", 3)
    best = "".join(card)
    assert "Best architecture: 1" in best and "60.0%" in best and "10.0%" in best
    assert "1,200" in best and "5,200" in best
    lineage = page.split('class="lineage">', 1)[1].split("</ol>", 1)[0]
    assert lineage.index("base network") < lineage.index("add SE &lt;script&gt;")
    # the child-vs-parent diff: arch 1's three new nodes and the Add they now feed are
    # highlighted (a node whose inputs changed counts as changed), the text diff beside
    panel = page.split('<details class="arch" data-id="1">', 1)[1].split("</details>", 1)[0]
    changed = re.findall(r'<g class="block-node changed" data-node="(\d+)">', panel)
    assert sorted(changed, key=int) == ["7", "20", "21", "22"]
    assert '<span class="add">+20:AdaptiveAvgPool2d(output_size=1)</span>' in panel
    assert '<span class="del">-6-&gt;7</span>' in panel
    # base and an identical child: nothing highlighted
    base = page.split('<details class="arch" data-id="0">', 1)[1].split("</details>", 1)[0]
    assert "changed" not in base
    # curves from the per-epoch history, early stop and proxy marks
    assert panel.count('class="curve acc"') == 1 and 'class="series valid_acc"' in panel
    assert "naswot 1234" in panel and "synflow 0.25" in panel
    stopped = page.split('<details class="arch" data-id="4">', 1)[1].split("</details>", 1)[0]
    assert 'class="early-stop"' in stopped and "stopped early" in stopped
    # charts: ticks, point labels, the Pareto front as a step path, a log-scale variant
    assert page.count('class="tick x"') >= 8 and page.count('class="point-label"') >= 6
    assert 'class="pareto" d="M' in page and " H" in page.split('class="pareto" d="', 1)[1][:80]
    assert 'class="scatter logarithmic"' in page and "(log scale)" in page
    # the table carries the proxies and the download links
    assert ">naswot<" in page and 'id="download-csv"' in page


#: appended to a copy of the report by the browser test: measures the rendered SVG and writes
#: what it found into the page, which Chromium then dumps
PROBE = """
<pre id="probe"></pre><script>
(async function(){
  document.querySelectorAll('details').forEach(function(d){d.open=true;});
  var out={blocks:0,edges:0,hidden:[],nodes:0,clipped:[]};
  document.querySelectorAll('svg.block').forEach(function(svg){
    out.blocks++;
    var boxes={};
    svg.querySelectorAll('g.block-node').forEach(function(g){
      out.nodes++;
      var r=g.querySelector('rect').getBBox(), t=g.querySelector('text').getBBox();
      boxes[g.getAttribute('data-node')]=r;
      if(t.x<r.x||t.x+t.width>r.x+r.width) out.clipped.push(g.textContent);
    });
    svg.querySelectorAll('path.edge').forEach(function(p){
      out.edges++;
      var s=p.getAttribute('data-source'), t=p.getAttribute('data-target');
      var name=svg.getAttribute('data-block')+' '+s+'->'+t, L=p.getTotalLength(), free=0;
      for(var i=0;i<=200;i++){
        var pt=p.getPointAtLength(L*i/200), own=false;
        for(var id in boxes){
          var b=boxes[id];
          if(pt.x>b.x+1&&pt.x<b.x+b.width-1&&pt.y>b.y+1&&pt.y<b.y+b.height-1){
            if(id===s||id===t){own=true;} else {out.hidden.push(name+' under node '+id); i=1e9; break;}
          }
        }
        if(!own) free++;
      }
      if(free<5) out.hidden.push(name+' has no visible length');
    });
  });
  var csv=await (await fetch(document.getElementById('download-csv').href)).text();
  var js=JSON.parse(await (await fetch(document.getElementById('download-json').href)).text());
  out.csv=csv; out.json_ids=js.map(function(r){return r.id;});
  document.getElementById('probe').textContent=JSON.stringify(out);
})();
</script>
"""


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_report_renders_in_headless_chromium_without_console_errors(tmp_path: Path) -> None:
    _make_run(tmp_path / "run")
    report = write_report(tmp_path / "run")
    result = _chromium("--dump-dom", report.as_uri(), profile=tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = result.stdout
    assert 'id="arch-table"' in dom and dom.count("<tr>") >= 6
    assert 'id="tree"' in dom and 'class="pareto"' in dom and 'id="best-card"' in dom
    # the downloads are real blob: links once the script ran
    assert 'id="download-csv" download="architectures.csv" href="blob:' in dom


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_no_edge_is_hidden_under_a_node_in_the_rendered_svg(tmp_path: Path) -> None:
    """Every edge of every block drawing is measured in Chromium's layout: sampled along its
    rendered path, no point may fall inside a box other than its own two ends, and some of it
    must lie outside them. A skip connection drawn straight over the chain fails this."""
    _make_run(tmp_path / "run")
    page = render_report(tmp_path / "run").replace("</body>", PROBE + "</body>")
    probe_page = tmp_path / "probe.html"
    probe_page.write_text(page, encoding="utf-8")
    result = _chromium(
        "--virtual-time-budget=5000", "--dump-dom", probe_page.as_uri(), profile=tmp_path / "p"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    raw = result.stdout.split('<pre id="probe">', 1)[1].split("</pre>", 1)[0]
    found = json.loads(html.unescape(raw))
    # 4 architectures with block files × 3 blocks; the SE cells have 12 nodes and 14 edges
    assert found["blocks"] == 15 and found["edges"] > 100
    assert found["hidden"] == []
    assert found["clipped"] == []
    # the downloads hold the table: CSV header and one line per architecture, JSON by id
    lines = found["csv"].splitlines()
    assert lines[0].startswith("id,parent,status,suggestion,")
    assert len(lines) == 6 and '"add SE <script>alert(1)</script> attention"' not in lines[2]
    assert found["json_ids"] == ["0", "1", "2", "3", "4"]
    shot = tmp_path / "report.png"
    done = _chromium(
        "--window-size=1400,4000",
        f"--screenshot={shot}",
        probe_page.as_uri(),
        profile=tmp_path / "s",
    )
    assert done.returncode == 0 and shot.stat().st_size > 50_000
