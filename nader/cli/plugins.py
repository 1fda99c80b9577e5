"""``nader plugins [--json] [--check]``: each loaded plugin, its version, what it registered,
its errors; with ``--check``, each plugin operator's lowering built and run on a probe network
and compared with its shape rule (:mod:`nader.backends.plugin_check`; needs torch).

Exit status 0 when every plugin loaded cleanly (and, with ``--check``, no lowering contradicts
its shape rule), 1 otherwise, so a plugin author's CI can run ``nader plugins --check`` as a
smoke test. A name clash stops the runtime from being built at all; ``nader.cli.main`` reports
that before this command runs.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

from nader.plugins.manager import ALLOWLIST_ENV
from nader.plugins.registries import PluginInfo, Runtime


def add_parser(subparsers: Any) -> None:
    plugins = subparsers.add_parser(
        "plugins", help="list installed plugins and what each registered"
    )
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.add_argument(
        "--check",
        action="store_true",
        help="build and run each plugin operator's lowering on a probe network and compare it "
        "with the operator's shape rule (needs the 'training' extra)",
    )
    plugins.set_defaults(handler=run_plugins)


def plugins_payload(runtime: Runtime) -> dict[str, Any]:
    """The ``--json`` document: ``{"plugins": [...], "skipped": [...], "problems": [...]}``."""
    return {
        "plugins": [info.to_dict() for info in runtime.plugins],
        "skipped": list(runtime.skipped),
        "problems": list(runtime.problems),
    }


def _print_plugin(info: PluginInfo) -> None:
    version = info.version or "unknown version"
    label = " (built-in)" if info.builtin else ""
    print(f"{info.name} {version}{label}")
    if info.loaded_from:
        print(f"  from: {', '.join(info.loaded_from)}")
    for kind, names in info.registered.items():
        if not names:
            continue
        listing = textwrap.fill(
            ", ".join(names), width=96, initial_indent="    ", subsequent_indent="    "
        )
        print(f"  {kind.replace('_', ' ')} ({len(names)}):\n{listing}")
    if not any(info.registered.values()):
        print("  registered nothing")
    for error in info.errors:
        print(f"  error: {error}")


def run_plugins(args: argparse.Namespace, runtime: Runtime) -> int:
    probes: list[Any] = []
    if args.check:
        from nader.backends.plugin_check import probe_plugin_lowerings  # torch: only for --check

        probes = probe_plugin_lowerings(runtime.operators, runtime.lowerings)
    if args.json:
        payload = plugins_payload(runtime)
        if args.check:
            payload["lowering_checks"] = [probe.to_dict() for probe in probes]
        print(json.dumps(payload, indent=2))
    else:
        for info in runtime.plugins:
            _print_plugin(info)
        if runtime.skipped:
            print(f"not loaded ({ALLOWLIST_ENV}): {', '.join(runtime.skipped)}")
        for problem in runtime.problems:
            print(f"problem: {problem}")
        if args.check:
            print(f"lowering checks ({len(probes)} plugin operators):")
            for probe in probes:
                print(f"  {probe.line()}")
    mismatched = any(probe.status == "mismatch" for probe in probes)
    return 1 if runtime.errors or mismatched else 0
