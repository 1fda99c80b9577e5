"""``python -m nader run CONFIG.toml [--run-dir DIR] [--resume] [--set key=value ...]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run a design session from a TOML config")
    parser.add_argument("config", metavar="CONFIG.toml")
    parser.add_argument("--run-dir", metavar="DIR", help="run directory (default runs/<run.name>)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set llm.provider=openai (repeatable)",
    )
    parser.add_argument("--no-live", action="store_true", help="plain log lines even on a terminal")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace, runtime: Any) -> int:
    from nader.cli.progress import Progress
    from nader.session.config import load_config
    from nader.session.runner import Session

    config, _ = load_config(Path(args.config), args.overrides)
    run_dir = Path(args.run_dir) if args.run_dir else Path("runs") / config.run.name
    progress = Progress(stream=sys.stdout, live=False if args.no_live else None)
    with progress:
        result = Session(
            config, run_dir, runtime=runtime, resume=args.resume, progress=progress
        ).run()
    summary = result.summary
    trained = [a for a in summary["architectures"] if a["status"] == "trained"]
    print(
        f"run {run_dir}: {len(trained)} trained of {len(summary['architectures'])} architectures, "
        f"best {summary['best']} ({result.stopped_because}); {result.wall_s:.0f} s"
    )
    print(f"summary: {run_dir / 'summary.json'}   report: nader report {run_dir}")
    if result.provider_failure is not None:
        # the run could not go on: say why where a person or a script looks, and fail
        print(f"nader: error: {result.provider_failure}", file=sys.stderr)
        return 1
    return 0
