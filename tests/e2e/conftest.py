"""A small, fast session config for end-to-end tests (digits, 1 short epoch, offline designer)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FAST_CONFIG = """
[run]
name = "e2e"
max_architectures = {max_architectures}
max_wall_clock_s = 900
queue_size = 1

[base]
network = "{network}"
skeleton = "nader"
width = 4

[dataset]
name = "digits"

[train]
epochs = 1
batch_size = 64
max_train_batches = 4
max_eval_batches = 2
device = "cpu"
patience_epochs = 0

[llm]
provider = "offline"
model = "offline-designer"

[agents]
max_try = 3

[executor]
name = "local"
workers = 1
timeout_s = 300
"""


@pytest.fixture
def write_config(tmp_path: Path):
    def write(max_architectures: int = 4, extra: str = "") -> Path:
        network = tmp_path / "resnet_basic.txt"
        shutil.copy(REPO / "examples" / "resnet_basic.txt", network)
        path = tmp_path / "session.toml"
        path.write_text(
            FAST_CONFIG.format(max_architectures=max_architectures, network=network) + extra
        )
        return path

    return write
