"""pluggy-based plugin system: hook specs, the runtime factory and the built-in plugins.

Third parties import :data:`nader.hookimpl`; hosts call :func:`build_runtime`. Only the hook
specs are imported eagerly: ``import nader`` (which a plugin does for the marker) stays cheap, and
the manager, which pulls in the IR and pydantic, loads on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nader.hookspecs import HOOK_NAMES, hookimpl, hookspec

if TYPE_CHECKING:
    from nader.plugins.manager import build_runtime, builtin_runtime
    from nader.plugins.registries import NamedRegistry, PluginInfo, Runtime

_LAZY = {
    "build_runtime": "nader.plugins.manager",
    "builtin_runtime": "nader.plugins.manager",
    "NamedRegistry": "nader.plugins.registries",
    "PluginInfo": "nader.plugins.registries",
    "Runtime": "nader.plugins.registries",
}

__all__ = [
    "HOOK_NAMES",
    "NamedRegistry",
    "PluginInfo",
    "Runtime",
    "build_runtime",
    "builtin_runtime",
    "hookimpl",
    "hookspec",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nader.plugins' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
