"""Fixtures for the backend tier (CPU torch): one thread, the runtime, the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from backend_helpers import blocks_dir

from nader.plugins.manager import Runtime, build_runtime

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def runtime() -> Runtime:
    """Built-ins only: installed third-party plugins must not change what these tests see."""
    return build_runtime(load_entry_points=False)


@pytest.fixture(scope="session")
def corpus_blocks() -> Path:
    folder = blocks_dir()
    if not folder.is_dir():
        pytest.skip(f"corpus not found at {folder}")
    return folder
