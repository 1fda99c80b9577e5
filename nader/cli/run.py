"""``python -m nader run CONFIG.toml [--run-dir DIR] [--resume] [--set key=value ...]``."""

from __future__ import annotations

import argparse
import signal
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
    from nader.session.signals import STOP_SIGNALS, Stopped

    config, _ = load_config(Path(args.config), args.overrides)
    run_dir = Path(args.run_dir) if args.run_dir else Path("runs") / config.run.name
    progress = Progress(stream=sys.stdout, live=False if args.no_live else None)
    try:
        with progress:
            result = Session(
                config, run_dir, runtime=runtime, resume=args.resume, progress=progress
            ).run()
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM/SIGHUP (Stopped): the run is resumable
        signum = err.signum if isinstance(err, Stopped) else signal.SIGINT
        for repeated in STOP_SIGNALS:  # the run is stopped and cleaned up: a repeat only exits
            signal.signal(repeated, signal.SIG_IGN)
        print(
            f"nader: stopped by {signal.Signals(signum).name}; the run is kept: continue it with "
            f"nader run {args.config} --run-dir {run_dir} --resume",
            file=sys.stderr,
        )
        return 128 + int(signum)
    summary = result.summary
    trained = [a for a in summary["architectures"] if a["status"] == "trained"]
    print(
        f"run {run_dir}: {len(trained)} trained of {len(summary['architectures'])} architectures, "
        f"best {summary['best']} ({result.stopped_because}); {result.wall_s:.0f} s"
    )
    print(f"summary: {run_dir / 'summary.json'}   report: nader report {run_dir}")
    failure = result.provider_failure or run_failure(summary)
    if failure is not None:
        # the run could not go on, or achieved nothing: say why where a person or a script
        # looks, and fail
        print(f"nader: error: {failure}", file=sys.stderr)
        return 1
    return 0


#: statuses of architectures that ended in an error (not a duplicate: that is no error)
_ERRORS = ("failed", "timeout", "diverged", "no_progress", "invalid")


def run_failure(summary: dict[str, Any]) -> str | None:
    """Why a finished run achieved nothing, or None when it did (the exit status's one rule).

    A run fails (exit 1) when it trained no designed architecture and errors are why: candidates
    failed in training or design, or the base itself did not train. A run that reached its budgets
    having trained designs exits 0; so does a run whose budget left no room for a design
    (``max_architectures = 1``) once its base trained.
    """
    archs = summary["architectures"]
    if any(a["status"] == "trained" and a["parent"] is not None for a in archs):
        return None
    failed = [a for a in archs if a["status"] in _ERRORS]
    base_trained = any(a["status"] == "trained" and a["parent"] is None for a in archs)
    if not failed and (base_trained or not archs):
        return None
    counts: dict[str, int] = {}
    for arch in failed:
        counts[arch["status"]] = counts.get(arch["status"], 0) + 1
    tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    first = next((a for a in failed if a.get("error")), None)
    cause = (
        f"; first error (architecture {first['id']}): {str(first['error']).splitlines()[0][:300]}"
        if first is not None
        else ""
    )
    base = "" if base_trained else "the base did not train; "
    return f"no designed architecture was trained: {base}{tally or 'nothing failed'}{cause}"
