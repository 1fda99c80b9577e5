"""Entry point: builds the parser from the command modules and dispatches.

Each command lives in its own module exposing ``add_parser(subparsers)``, which sets
``handler(args, runtime) -> int`` as the default. Exit codes: 0 success, 1 the input was checked
and found invalid, 2 usage or I/O errors (DESIGN §2).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from nader.errors import NaderError

#: Command modules, in the order ``nader --help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "nader.cli.check",
    "nader.cli.compile",
    "nader.cli.run",
    "nader.cli.report",
    "nader.cli.export",
    "nader.cli.config",
    "nader.cli.plugins",
    "nader.cli.bench",
    "nader.cli.compare",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nader", description="Neural architecture design by collaborating LLM agents."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", parser_class=_Parser)
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name == module_name:
                continue  # command not part of this build
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from nader import __version__

        print(__version__)
        return 0
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from nader.plugins.manager import build_runtime

    try:
        runtime = build_runtime()
    except NaderError as err:
        print(f"nader: plugin error: {err}", file=sys.stderr)
        return 2
    for problem in runtime.errors:
        print(f"nader: warning: {problem}", file=sys.stderr)
    try:
        status = int(args.handler(args, runtime))
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at interpreter exit
        return status
    except NaderError as err:
        print(f"nader: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        from nader.cli.extras import missing_extra

        message = missing_extra(err, args.command)
        if message is None:
            raise
        print(f"nader: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nader: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``nader plugins | head``): stop quietly, as Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
