"""A real, small design session shared by the export, tracking and report tests.

Two architectures (the base and one design), one short epoch each, on digits, with the
``tensorboard`` and ``jsonl`` trackers on: about 15 s on two cores.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SMALL_CONFIG = """
[run]
name = "small"
max_architectures = 2
max_wall_clock_s = 600

[base]
network = "{network}"
skeleton = "nader"
width = 4

[dataset]
name = "digits"

[train]
epochs = 2
batch_size = 64
max_train_batches = 4
max_eval_batches = 2
device = "cpu"
patience_epochs = 0

[llm]
provider = "offline"
model = "offline-designer"

[executor]
name = "local"
workers = 1
timeout_s = 300

[tracking]
trackers = ["tensorboard", "jsonl"]
"""


def make_small_run(folder: Path) -> Path:
    """Run the small session through the CLI, as a user would; returns its run directory."""
    network = folder / "resnet_basic.txt"
    shutil.copy(REPO / "examples" / "resnet_basic.txt", network)
    config = folder / "small.toml"
    config.write_text(SMALL_CONFIG.format(network=network))
    run_dir = folder / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "NADER_LOAD_PLUGINS": ""}
    done = subprocess.run(
        [sys.executable, "-m", "nader", "run", str(config), "--run-dir", str(run_dir), "--no-live"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return run_dir
