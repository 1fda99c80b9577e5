"""nader: neural architecture design by collaborating LLM agents (NADER, CVPR 2025).

``nader.ir`` is the standalone graph IR; ``nader.hookimpl`` is the marker plugins import.
"""

from nader.plugins.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]
