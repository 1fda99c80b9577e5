"""pluggy-based plugin system: hook specs, the manager factory and the built-in plugins."""

from nader.plugins.hookspecs import hookimpl, hookspec

__all__ = ["hookimpl", "hookspec"]
