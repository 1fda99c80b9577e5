"""``nader bench search``: strategies × seeds at an equal architecture budget, one session each.

Every (strategy, seed) is an ordinary design session (:class:`~nader.session.runner.Session`)
over its own run directory ``OUT/<strategy>/seed<N>``, built from one session config (the
protocol: dataset, skeleton, budget, training, executor — local or Ray) with a strategy's
overrides applied on top. A strategy is a named set of ``--set``-style overrides; the built-in
ones select the agents (the config's own provider) or a NAS baseline registered by the built-in
plugin (:mod:`nader.bench.strategies`). ``provider:NAME`` runs the agents with another provider.

Per seed, ``run.max_architectures`` is K (the base included: every strategy starts from the same
base, which is trained, like everything, under the same protocol); the seed sets the agents',
the provider's and the training's seeds alike for every strategy. A finished run is not run
again; an unfinished one resumes. The table is computed from the run directories alone
(``summary.json`` plus ``bench.json``, the wall time), so ``nader compare`` reads runs made by
hand the same way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nader.bench.tables import RunFacts, run_facts
from nader.errors import ConfigError
from nader.plugins.registries import Runtime
from nader.session.config import SessionConfig, load_config
from nader.session.progress import ProgressSink

RUN_FILE = "bench.json"

_BASELINE_AGENTS = [
    "agents.reader=false",
    "agents.proposer_llm=false",
    "agents.design_experience=false",
    "agents.max_try=1",
]

#: built-in strategies: name → overrides on top of the session config
BUILTIN_STRATEGIES: dict[str, list[str]] = {
    "agents": [],
    # the agents with a zero-cost-proxy pre-screen: 3 cells per proposal, the best by NASWOT trains
    "agents-prescreen": ["agents.prescreen_k=3"],
    "random": [
        "llm.provider=nb201-random",
        "llm.model=nb201-random",
        "agents.policy=random",
        *_BASELINE_AGENTS,
    ],
    "rea": [
        "llm.provider=nb201-rea",
        "llm.model=nb201-rea",
        "agents.policy=rea",
        *_BASELINE_AGENTS,
    ],
}


@dataclass(frozen=True)
class Strategy:
    name: str
    overrides: tuple[str, ...]


def strategy_named(name: str) -> Strategy:
    """A built-in strategy, or ``provider:NAME`` (the agents with provider NAME)."""
    if name in BUILTIN_STRATEGIES:
        return Strategy(name, tuple(BUILTIN_STRATEGIES[name]))
    if name.startswith("provider:") and len(name) > len("provider:"):
        provider = name.split(":", 1)[1]
        return Strategy(name.replace(":", "-"), (f"llm.provider={provider}",))
    known = ", ".join([*BUILTIN_STRATEGIES, "provider:NAME"])
    raise ConfigError(f"unknown strategy {name!r}; known: {known}")


def seed_overrides(seed: int, base_train_seed: int, architectures: int) -> list[str]:
    return [
        f"run.max_architectures={architectures}",
        f"agents.seed={seed}",
        f"llm.seed={seed}",
        f"train.seed={base_train_seed + seed}",
    ]


def run_dir_for(out_dir: Path, strategy: Strategy, seed: int) -> Path:
    return out_dir / strategy.name / f"seed{seed}"


def is_finished(run_dir: Path) -> bool:
    path = run_dir / RUN_FILE
    if not path.exists():
        return False
    return bool(json.loads(path.read_text(encoding="utf-8")).get("finished"))


SessionFactory = Callable[[SessionConfig, Path, bool], Any]


def run_search(
    config_path: Path,
    out_dir: Path,
    *,
    runtime: Runtime,
    strategies: Sequence[Strategy],
    seeds: Sequence[int],
    architectures: int,
    overrides: Sequence[str] = (),
    progress_for: Callable[[str], ProgressSink] | None = None,
) -> list[RunFacts]:
    """Run every (strategy, seed) not finished yet; return the facts of all of them."""
    from nader.session.runner import Session

    base_config, _ = load_config(config_path, list(overrides))
    facts: list[RunFacts] = []
    for strategy in strategies:
        for seed in seeds:
            run_dir = run_dir_for(out_dir, strategy, seed)
            if not is_finished(run_dir):
                settings = [
                    *overrides,
                    *strategy.overrides,
                    *seed_overrides(seed, base_config.train.seed, architectures),
                    f"run.name={strategy.name}-seed{seed}",
                ]
                config, _ = load_config(config_path, settings)
                resume = (run_dir / "state.db").exists()
                progress = progress_for(f"{strategy.name} seed {seed}") if progress_for else None
                started = time.monotonic()
                previous = _previous_wall(run_dir)
                result = Session(
                    config, run_dir, runtime=runtime, resume=resume, progress=progress
                ).run()
                wall = previous + (time.monotonic() - started)
                (run_dir / RUN_FILE).write_text(
                    json.dumps(
                        {
                            "strategy": strategy.name,
                            "seed": seed,
                            "overrides": settings,
                            "wall_s": wall,
                            "stopped_because": result.stopped_because,
                            "finished": True,
                        },
                        indent=2,
                    ),
                    encoding="utf-8",
                )
            facts.append(read_run(run_dir))
    return facts


def _previous_wall(run_dir: Path) -> float:
    path = run_dir / RUN_FILE
    if path.exists():
        return float(json.loads(path.read_text(encoding="utf-8")).get("wall_s", 0.0))
    return 0.0


def read_run(run_dir: Path) -> RunFacts:
    """A run directory's facts: ``summary.json``, and ``bench.json`` when the bench made it
    (strategy and seed; otherwise the run's name and folder stand in for them)."""
    run_dir = Path(run_dir)
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"{run_dir} is not a finished run directory: {err}") from err
    bench: dict[str, Any] = {}
    if (run_dir / RUN_FILE).exists():
        bench = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    strategy = str(bench.get("strategy") or summary.get("name") or run_dir.parent.name)
    return run_facts(
        summary,
        strategy=strategy,
        seed=str(bench.get("seed", run_dir.name)),
        run_dir=str(run_dir),
        wall_s=bench.get("wall_s"),
    )


def default_ks(architectures: int) -> list[int]:
    """Checkpoints of the "best after k" columns: about a quarter, half and all of K."""
    ks = sorted({max(1, architectures // 4), max(1, architectures // 2), architectures})
    return ks
