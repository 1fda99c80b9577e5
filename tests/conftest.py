"""Shared fixtures: where the read-only corpus lives, and the repo root."""

from __future__ import annotations

import os
from pathlib import Path

# Some dependency imports the standard library's distutils before anything imports setuptools;
# setuptools' distutils shim then refuses to load (torch.compile's inductor imports setuptools).
os.environ.setdefault("SETUPTOOLS_USE_DISTUTILS", "stdlib")

import pytest

REPO = Path(__file__).resolve().parents[1]


def corpus_dir() -> Path:
    env = os.environ.get("NADER_CORPUS")
    return Path(env) if env else REPO.parent / "shared" / "corpus"


@pytest.fixture
def corpus() -> Path:
    path = corpus_dir()
    if not path.is_dir():
        pytest.skip(f"corpus not found at {path}")
    return path


@pytest.fixture
def repo_root() -> Path:
    return REPO
