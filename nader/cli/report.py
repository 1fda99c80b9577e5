"""``nader report RUN_DIR``: write a self-contained HTML report of a run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="write a self-contained HTML report of a run")
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument(
        "--out", metavar="PATH", help="where to write (default RUN_DIR/report.html)"
    )
    parser.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace, runtime: Any) -> int:
    from nader.report import write_report

    path = write_report(Path(args.run_dir), Path(args.out) if args.out else None)
    print(path)
    return 0
