"""Fixtures for plugin tests: real entry points from distributions written to a temp dir.

``importlib.metadata`` finds a distribution by its ``*.dist-info`` folder on ``sys.path``, which
is all ``pip install`` leaves behind for entry points. Writing one is a real installation as far
as nader's loader can tell, and takes milliseconds; the slow path through pip and a virtual
environment is covered once, in ``test_installed_example.py``.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_helpers import EXAMPLE_DIR, Installer


@pytest.fixture(autouse=True)
def _no_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from an unset NADER_LOAD_PLUGINS whatever the developer's shell has."""
    monkeypatch.delenv("NADER_LOAD_PLUGINS", raising=False)


@pytest.fixture
def install_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installer]:
    """Install fake-but-real distributions (modules + dist-info) on a temporary sys.path entry."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def install(
        dist: str,
        *,
        modules_source: dict[str, str],
        entry_points: dict[str, str],
        version: str = "1.0",
    ) -> Path:
        for module_name, source in modules_source.items():
            (site / f"{module_name}.py").write_text(textwrap.dedent(source))
            modules.append(module_name)
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[nader]\n{lines}")
        return info

    yield install
    for module_name in modules:
        sys.modules.pop(module_name, None)


@pytest.fixture
def example_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The example plugin's module, imported from its source tree (no installation)."""
    monkeypatch.syspath_prepend(str(EXAMPLE_DIR / "src"))
    import nader_plugin_example

    yield nader_plugin_example
