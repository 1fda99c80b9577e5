"""nader: neural architecture design by collaborating LLM agents (NADER, CVPR 2025).

``nader.ir`` is the standalone graph IR; ``nader.hookimpl`` is the marker plugins import.
The marker is looked up on first use (PEP 562), so ``import nader.ir`` loads neither pluggy nor
the plugin system.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]


def __getattr__(name: str) -> Any:
    if name == "hookimpl":
        from nader.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'nader' has no attribute {name!r}")
