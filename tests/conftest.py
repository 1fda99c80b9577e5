"""Fixtures shared by every tier, each defined once: the corpus folders, a registry, a runtime."""

from __future__ import annotations

import os
from pathlib import Path

# Some dependency imports the standard library's distutils before anything imports setuptools;
# setuptools' distutils shim then refuses to load (torch.compile's inductor imports setuptools).
os.environ.setdefault("SETUPTOOLS_USE_DISTUTILS", "stdlib")

import pytest
from corpus_paths import REPO, blocks_dir, corpus_dir, official_dir

from nader.ir import OperatorRegistry, default_registry
from nader.plugins.registries import Runtime

#: every server a test talks to is on 127.0.0.1, and LLM calls honour these variables: the
#: machine's own proxy settings (a CI runner's, say) must not route test calls elsewhere
PROXY_VARIABLES = tuple(
    spelling
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    for spelling in (name, name.lower())
)


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run without the machine's proxy variables (a test that wants one sets it)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus root (``cifar-subsets``, ``nader-official``); skips when absent."""
    path = corpus_dir()
    if not path.is_dir():
        pytest.skip(f"corpus not found at {path}")
    return path


@pytest.fixture(scope="session")
def official(corpus: Path) -> Path:
    """The authors' data files: ``blocks``, ``knowledge``, ``experiences``, ``nb201-splits``."""
    path = official_dir()
    if not path.is_dir():
        pytest.skip(f"corpus not found at {path}")
    return path


@pytest.fixture(scope="session")
def corpus_blocks(official: Path) -> Path:
    return blocks_dir()


@pytest.fixture
def registry() -> OperatorRegistry:
    """A fresh built-in operator registry (tests may register more operators into it)."""
    return default_registry()


@pytest.fixture(scope="session")
def runtime() -> Runtime:
    """Built-ins only: installed third-party plugins must not change what these tests see."""
    from nader.plugins.manager import builtin_runtime

    return builtin_runtime()


@pytest.fixture
def repo_root() -> Path:
    return REPO
