"""Fixtures for the IR unit tier (no torch): the operator registry and the corpus folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from ir_helpers import blocks_dir

from nader.ir import OperatorRegistry, default_registry


@pytest.fixture(scope="session")
def registry() -> OperatorRegistry:
    return default_registry()


@pytest.fixture(scope="session")
def corpus_blocks() -> Path:
    folder = blocks_dir()
    if not folder.is_dir():
        pytest.skip(f"corpus not found at {folder}")
    return folder
