"""A session with a pre-screen (``agents.prescreen_k = 3``): each design trains one of three
cells, the best by NASWOT as the driver scored it, and keeps all three in its record."""

from __future__ import annotations

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus_paths import REPO  # noqa: E402

from nader.agents.blocks import assemble_network, network_parts  # noqa: E402
from nader.cli.progress import Progress  # noqa: E402
from nader.ir.parser import parse_network  # noqa: E402
from nader.plugins.manager import build_runtime  # noqa: E402
from nader.session.config import load_config  # noqa: E402
from nader.session.prescreen import ProxyScreen  # noqa: E402
from nader.session.runner import Session  # noqa: E402
from nader.session.sizing import Sizer  # noqa: E402
from nader.session.store import RunStore  # noqa: E402


def test_each_design_trains_the_best_of_three_cells_by_proxy(tmp_path: Path) -> None:
    config, _ = load_config(
        REPO / "examples" / "quickstart.toml",
        overrides=[
            "run.max_architectures=3",
            "agents.prescreen_k=3",
            "train.epochs=1",
            "train.max_train_batches=2",
        ],
    )
    runtime = build_runtime()
    run_dir = tmp_path / "run"
    with Progress(stream=io.StringIO(), live=False) as progress:
        Session(config, run_dir, runtime=runtime, progress=progress).run()
    store = RunStore(run_dir)
    try:
        archs = store.all()
    finally:
        store.close()
    assert [a.id for a in archs] == ["0", "1", "2"]  # one architecture per design, not three
    screen = ProxyScreen(config, runtime, Sizer(config, runtime))
    networks = {a.id: parse_network(a.network_text or "") for a in archs}
    for arch in archs[1:]:
        assert arch.status == "trained", arch.error
        candidates = arch.extra["prescreen"]
        assert [c["index"] for c in candidates] == [0, 1, 2]
        scored = [c for c in candidates if c["score"] is not None]
        assert scored, candidates
        chosen = [c for c in candidates if c["chosen"]]
        assert chosen == [max(scored, key=lambda c: c["score"])]
        assert chosen[0]["hash"] == arch.hash  # the trained cell is the chosen one
        # the stored score is the driver's NASWOT of that cell in its parent's stem and
        # downsample, and it repeats
        parent = network_parts(networks[arch.parent or ""])
        cell = parse_network(chosen[0]["cell_text"]).blocks[0]
        assert screen(assemble_network(cell, parent.stem, parent.downsample)) == chosen[0]["score"]
        assert arch.extra["notes"][0].startswith("pre-screen of 3 cells by naswot")
