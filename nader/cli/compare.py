"""``nader compare RUN_DIR...``: the search table (paper Table 1 shape) over finished runs.

Runs are grouped by strategy (``bench.json`` of a ``nader bench search`` run, else the run's
``run.name``) and aggregated over seeds as mean ± std. Test accuracy is that of each run's
validation-best architecture: read here, for the report, never used to choose anything.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare finished runs (mean ± std per strategy)"
    )
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--k", type=int, action="append", help="best valid after k (repeatable)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.set_defaults(handler=compare_command)


def print_comparison(facts: Sequence[Any], ks: Sequence[int], json_path: Path | None) -> int:
    from nader.bench.tables import format_search_table, search_rows

    rows = search_rows(facts, ks)
    if json_path is not None:
        payload = {
            "ks": list(ks),
            "table": rows,
            "runs": [
                {
                    "strategy": f.strategy,
                    "seed": f.seed,
                    "run_dir": f.run_dir,
                    "valid": list(f.valid),
                    "best_test": f.best_test,
                    "best_params": f.best_params,
                    "best_flops": f.best_flops,
                    "tokens": f.tokens,
                    "cost_usd": f.cost_usd,
                    "wall_s": f.wall_s,
                }
                for f in facts
            ],
        }
        json_path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    print(format_search_table(rows, ks))
    if json_path is not None:
        print(f"results: {json_path}")
    return 0


def compare_command(args: argparse.Namespace, runtime: Any) -> int:
    from nader.bench.search import default_ks, read_run

    facts = [read_run(Path(d)) for d in args.run_dirs]
    longest = max((len(f.valid) for f in facts), default=1)
    ks = sorted(set(args.k)) if args.k else default_ks(longest)
    return print_comparison(facts, ks, Path(args.json) if args.json else None)
