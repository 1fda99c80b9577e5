"""``nader bench nad`` (design-only NAD benchmark) and ``nader bench search`` (strategies × seeds).

Both write everything under ``--out`` and resume what a killed run left; both print a table in
the paper's shape at the end (and write its numbers as JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ON_OFF = {"on": True, "off": False}


def _switches(text: str) -> list[bool]:
    values = [part.strip() for part in text.split(",") if part.strip()]
    if not values or any(v not in ON_OFF for v in values):
        raise argparse.ArgumentTypeError("expected on, off or on,off")
    return [ON_OFF[v] for v in dict.fromkeys(values)]


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("bench", help="benchmarks: NAD design quality, search vs NAS")
    commands = parser.add_subparsers(dest="bench_command")

    nad = commands.add_parser("nad", help="design-only benchmark (paper Table 3): E, Q, SR, tokens")
    nad.add_argument(
        "config",
        nargs="?",
        metavar="CONFIG.toml",
        help="[llm]/[agents] tables (default: offline designer)",
    )
    nad.add_argument("--out", required=True, metavar="DIR", help="output folder (resumable)")
    nad.add_argument("--suite", metavar="FILE", help="a task file (default: the shipped suite)")
    nad.add_argument("--levels", type=_csv, default=("micro", "macro"), help="micro,macro")
    nad.add_argument("--blocks", type=_csv, default=(), help="only these base blocks")
    nad.add_argument("--tasks", type=_csv, default=(), help="only these task ids")
    nad.add_argument("--limit", type=int, help="first N tasks per level (a quick subset)")
    nad.add_argument("--immediate-feedback", type=_switches, default=[True], metavar="on,off")
    nad.add_argument("--design-experience", type=_switches, default=[False], metavar="on,off")
    nad.add_argument(
        "--experience-from",
        action="append",
        default=[],
        metavar="PATH",
        help="warm the experience pool: an experience file in the authors' format, or a "
        "previous bench's --out folder (repeatable)",
    )
    nad.add_argument("--no-judge", action="store_true", help="leave macro tasks not judged")
    nad.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    nad.set_defaults(handler=nad_command)

    search = commands.add_parser(
        "search", help="strategies x seeds at equal budget (paper Table 1)"
    )
    search.add_argument("config", metavar="CONFIG.toml", help="a session config: the protocol")
    search.add_argument("--out", required=True, metavar="DIR")
    search.add_argument("--strategies", type=_csv, default=("agents", "random", "rea"))
    search.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    search.add_argument("--architectures", type=int, default=8, help="K, the base included")
    search.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    search.set_defaults(handler=search_command)
    parser.set_defaults(handler=lambda args, runtime: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _load_nad_config(path: str | None, overrides: list[str]) -> Any:
    import tomllib
    from pydantic import ValidationError

    from nader.bench.nad import NadConfig
    from nader.errors import ConfigError
    from nader.session.config import describe_validation_error, resolve_paths
    from nader.session.overrides import apply_overrides

    data: dict[str, Any] = {}
    folder = Path.cwd()
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise ConfigError(f"cannot read {path}: {err}") from err
        folder = Path(path).resolve().parent
    if "llm" not in data and not any(o.startswith("llm.") for o in overrides):
        data["llm"] = {"provider": "offline", "model": "offline-designer"}
    data = apply_overrides(data, overrides)
    resolve_paths(data, folder)
    try:
        return NadConfig.model_validate(data)
    except ValidationError as err:
        problems = describe_validation_error(err, NadConfig)
        if "\n" not in problems:  # one problem: one line, as for a session config
            raise ConfigError(f"{path or 'bench config'}: {problems.strip()}") from None
        raise ConfigError(f"{path or 'bench config'} is invalid:\n{problems}") from None


def nad_command(args: argparse.Namespace, runtime: Any) -> int:
    from nader.bench.nad import OUTPUT_FILE, NadBench, TaskResult, ablations_from
    from nader.bench.suite import load_suite
    from nader.bench.tables import format_nad_table, nad_rows
    from nader.llm.client import LLMClient
    from nader.llm.usage import accounted

    config = _load_nad_config(args.config, args.overrides)
    suite = load_suite(runtime.operators, Path(args.suite) if args.suite else None)
    suite = suite.select(levels=args.levels, blocks=args.blocks, ids=args.tasks, limit=args.limit)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ablations = ablations_from(args.immediate_feedback, args.design_experience)
    llm = accounted(LLMClient.from_config(config.llm, runtime, run_dir=out))
    bench = NadBench(
        config,
        suite,
        out,
        runtime=runtime,
        llm=llm,
        experience_from=[Path(p) for p in args.experience_from],
        judge=False if args.no_judge else None,
    )
    print(
        f"nader bench nad: {len(suite.tasks)} tasks x {len(ablations)} ablation(s) with "
        f"{config.llm.provider}/{config.llm.model} -> {out}",
        flush=True,
    )

    def progress(done: int, total: int, result: TaskResult) -> None:
        q = {True: "Q", False: "-", None: "?"}[result.implemented]
        print(
            f"[{done}/{total}] {result.ablation} {result.task}: E={'yes' if result.executable else 'no'} "
            f"Q={q} turns={result.turns} tokens={result.input_tokens}+{result.output_tokens}",
            flush=True,
        )

    results = bench.run(ablations, progress)
    labels = {a.name: a.label for a in ablations}
    rows = nad_rows(results, labels)
    output = {
        "suite": suite.source,
        "provider": config.llm.provider,
        "model": config.llm.model,
        "ablations": [{"name": a.name, "label": a.label} for a in ablations],
        "table": rows,
        "tasks": [r.to_dict() for r in results],
    }
    (out / OUTPUT_FILE).write_text(json.dumps(output, indent=2), encoding="utf-8")
    print(format_nad_table(rows))
    print(f"results: {out / OUTPUT_FILE}")
    return 0


def search_command(args: argparse.Namespace, runtime: Any) -> int:
    from nader.bench.search import default_ks, run_search, strategy_named
    from nader.cli.compare import print_comparison
    from nader.cli.progress import Progress

    strategies = [strategy_named(name) for name in args.strategies]
    out = Path(args.out)

    def progress_for(label: str) -> Progress:
        print(f"== {label}", flush=True)
        return Progress(stream=sys.stdout, live=False)  # plain lines: many runs in a row

    facts = run_search(
        Path(args.config),
        out,
        runtime=runtime,
        strategies=strategies,
        seeds=list(range(args.seeds)),
        architectures=args.architectures,
        overrides=args.overrides,
        progress_for=progress_for,
    )
    return print_comparison(facts, default_ks(args.architectures), out / "search.json")
