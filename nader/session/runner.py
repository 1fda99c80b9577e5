"""The design session: DESIGN §4 end to end.

    load or create the run dir → base network → knowledge pool → loop:
      Proposer picks (node, inspiration) → Modifier/Reflector produce a verified network
      → dedup → width search → train (executor) → record → Reflector learns from accuracy
    until the architecture, design, token/$ or wall-clock budget is spent.

The run store (SQLite) is the source of truth; the modification tree is rebuilt from it, so a
killed run resumes where it stopped: finished architectures are never touched again, and
candidates that were queued or training start again from their last epoch checkpoint.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nader.errors import ConfigError, NaderError, WidthSearchError
from nader.ir.check import check_text
from nader.session.config import SessionConfig
from nader.session.executors import JobFunction, JobResult, TrainingJob
from nader.session.progress import Progress, ProgressState
from nader.session.store import FINAL_STATUSES, PENDING_STATUSES, Architecture, RunStore

log = logging.getLogger("nader.session")

#: store status → modification-tree status
_TREE_STATUS = {
    "trained": "trained",
    "queued": "pending",
    "training": "pending",
    "duplicate": "duplicate",
}
#: consecutive designs that produced nothing new before the session stops proposing
MAX_FRUITLESS_DESIGNS = 25


@dataclass
class _Designed:
    """In-memory facts about a design of this process (for accuracy-drop reflection)."""

    proposal: Any
    outcome: Any


@dataclass
class SessionResult:
    summary: dict[str, Any]
    stopped_because: str
    wall_s: float
    designs: int = 0
    events: list[str] = field(default_factory=list)


class Session:
    """One design session over one run directory."""

    def __init__(
        self,
        config: SessionConfig,
        run_dir: Path,
        *,
        runtime: Any,
        resume: bool = False,
        job_function: JobFunction | None = None,
        progress: Progress | None = None,
        llm: Any = None,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.runtime = runtime
        self.resume = resume
        if job_function is None:
            from nader.session.job import train_candidate

            job_function = train_candidate
        self.job_function: JobFunction = job_function
        self.progress = progress or Progress(live=False)
        self._llm_override = llm
        self._designed: dict[str, _Designed] = {}
        self._designs = 0
        self._fruitless = 0
        self._last_state = ProgressState(target=config.run.max_architectures)
        self._llm_stop: str | None = None

    # ------------------------------------------------------------------ setup

    def _open_store(self) -> RunStore:
        exists = (self.run_dir / "state.db").exists()
        store = RunStore(self.run_dir)
        stored = store.get_meta("config")
        if exists and store.all() and not self.resume:
            store.close()
            raise ConfigError(
                f"{self.run_dir} already holds a run; pass --resume to continue it, or choose "
                "another --run-dir"
            )
        current = self.config.model_dump(mode="json")
        if stored is not None and self.resume:
            _check_resume_compatible(json.loads(stored), current)
        store.set_meta("config", json.dumps(current, sort_keys=True))
        (self.run_dir / "config.json").write_text(
            json.dumps(current, indent=2) + "\n", encoding="utf-8"
        )
        return store

    def _logging(self) -> logging.Handler:
        handler = logging.FileHandler(self.run_dir / "logs" / "session.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.INFO)
        root = logging.getLogger("nader")
        root.addHandler(handler)
        if root.level == logging.NOTSET or root.level > logging.INFO:
            root.setLevel(logging.INFO)
        return handler

    def _base_text(self) -> str:
        base = self.config.base
        if base.network is not None:
            try:
                return base.network.read_text(encoding="utf-8")
            except OSError as err:
                raise ConfigError(
                    f"base.network: cannot read {base.network}: {err.strerror or err}"
                ) from err
        from nader.backends.nb201 import arch_to_network_text

        assert base.nb201_arch is not None
        return arch_to_network_text(base.nb201_arch)

    def _dataset_preset(self) -> Any:
        from nader.data import load_dataset
        from nader.session.job import preset_for

        ds = self.config.dataset
        data = load_dataset(
            ds.name,
            data_dir=ds.data_dir,
            split_file=ds.split_file,
            seed=ds.seed,
            runtime=self.runtime,
        )
        try:
            from nader.backends.presets import dataset_preset

            known = dataset_preset(ds.name)
            max_params, max_flops = known.max_params, known.max_flops
        except NaderError:
            max_params = max_flops = None
        return preset_for(data, max_params, max_flops)

    # ------------------------------------------------------------------ sizing

    def _size(self, network_text: str) -> tuple[int, int, int]:
        """Width (fixed, or the largest within budget) and its analytic params/FLOPs."""
        from nader.backends.plan import NetworkPlanner
        from nader.backends.skeletons import skeleton_named
        from nader.backends.width import Budget, search_width
        from nader.ir.parser import parse_network

        base = self.config.base
        network = parse_network(network_text)
        planner = NetworkPlanner(
            network, self.runtime.operators, skeleton_named(base.skeleton), self.preset
        )
        if base.width is not None:
            plan = planner.plan(base.width, exact_divisions=True)
            return base.width, plan.cost.params, plan.cost.flops
        max_params = base.max_params or self.preset.max_params
        max_flops = base.max_flops or self.preset.max_flops
        if max_params is None and max_flops is None:
            raise ConfigError(
                "base: give width, or max_params/max_flops (the dataset has no NAS-Bench-201 preset)"
            )
        result = search_width(planner, Budget(max_params=max_params, max_flops=max_flops))
        return result.width, result.plan.cost.params, result.plan.cost.flops

    def _payload(self, arch: Architecture) -> dict[str, Any]:
        ds = self.config.dataset
        train = self.config.train.model_dump(mode="json")
        return {
            "arch_id": arch.id,
            "network_text": arch.network_text,
            "skeleton": self.config.base.skeleton,
            "width": arch.width,
            "dataset": {
                "name": ds.name,
                "data_dir": str(ds.data_dir) if ds.data_dir else None,
                "split_file": str(ds.split_file) if ds.split_file else None,
                "seed": ds.seed,
            },
            "train": train,
            "checkpoint": str(self.store.arch_dir(arch.id) / "checkpoint.pt"),
            "threads": 1 if self.config.executor.workers > 1 else None,
        }

    # ------------------------------------------------------------------ tree

    def _tree(self) -> Any:
        from nader.agents.tree import ModificationTree

        tree = ModificationTree()
        for arch in self.store.all():
            status = _TREE_STATUS.get(arch.status, "failed")
            metrics = {
                "hash": arch.hash,
                "params": arch.params,
                "flops": arch.flops,
                "status": status,
                "valid_acc": arch.valid_acc,
                "test_acc": arch.test_acc,
            }
            if arch.parent is None:
                tree.add_root(arch.network_text or "", **metrics)
                continue
            tree.add_child(
                int(arch.parent),
                arch.network_text or "",
                suggestion=arch.suggestion,
                inspiration_key=arch.extra.get("inspiration_key"),
                node_id=int(arch.id),
                **metrics,
            )
            key = arch.extra.get("inspiration_key")
            if key:
                tree.mark_used(int(arch.parent), key)
        return tree

    # ------------------------------------------------------------------ the loop

    def run(self) -> SessionResult:
        started = time.monotonic()
        self.store = self._open_store()
        handler = self._logging()
        executor = None
        team = None
        try:
            self.preset = self._dataset_preset()
            base_text = self._base_text()
            report = check_text(base_text, self.runtime.operators, source="base network")
            if not report.valid:
                problems = "\n".join(f"  {d}" for b in report.blocks for d in b.errors)
                if report.syntax_error is not None:
                    problems = f"  {report.syntax_error}"
                raise ConfigError(f"the base network is invalid:\n{problems}")
            llm = self._llm_override
            if llm is None:
                from nader.llm.client import LLMClient

                llm = LLMClient.from_config(self.config.llm, self.runtime, run_dir=self.run_dir)
            self.llm = llm
            from nader.agents.team import DesignTeam

            team = DesignTeam.build(
                llm=llm, config=self.config.agents, runtime=self.runtime, run_dir=self.run_dir
            )
            knowledge = team.prepare_knowledge()
            self.store.event(
                "knowledge", size=knowledge.knowledge_size, experience=knowledge.experience_size
            )
            if self.config.llm.provider == "offline":
                self._say(
                    "the offline designer is in use (no LLM): modifications come from its library of verified graph rewrites"
                )

            if not self.store.all():
                width, params, flops = self._size(base_text)
                self.store.add(
                    Architecture(
                        "0",
                        0,
                        None,
                        None,
                        "queued",
                        hash=_cell_hash(report),
                        network_text=base_text,
                        width=width,
                        params=params,
                        flops=flops,
                        extra={"network_hash": _network_hash(report)},
                    )
                )
            executor_factory = self.runtime.executors.get(self.config.executor.name)
            executor = executor_factory(
                self.config.executor, self.job_function, self.run_dir / "scratch"
            )
            for arch in self.store.all():
                if arch.status in PENDING_STATUSES:
                    self.store.update(arch.id, status="queued")
                    executor.submit(TrainingJob(arch.id, self._payload(arch)))
            tree = self._tree()
            state = ProgressState(target=self.config.run.max_architectures)
            stopped = self._loop(team, tree, executor, state, started)
            summary = self._summary(stopped)
            self.progress.update(self._state(state), f"finished: {stopped}")
            return SessionResult(summary, stopped, time.monotonic() - started, self._designs)
        finally:
            if executor is not None:
                executor.shutdown()
            if team is not None:
                team.close()
            logging.getLogger("nader").removeHandler(handler)
            handler.close()
            self.store.close()

    def _say(self, line: str) -> None:
        log.info(line)
        self.store.log(line)
        print(f"nader: {line}", file=self.progress.stream, flush=True)

    def _state(self, state: ProgressState | None) -> ProgressState:
        state = state if state is not None else self._last_state
        archs = self.store.all()
        state.done = sum(a.status == "trained" for a in archs)
        state.running = sum(a.status in PENDING_STATUSES for a in archs)
        state.failed = sum(a.status in FINAL_STATUSES - {"trained", "duplicate"} for a in archs)
        state.duplicates = sum(a.status == "duplicate" for a in archs)
        trained = [a for a in archs if a.status == "trained" and a.valid_acc is not None]
        if trained:
            best = max(trained, key=lambda a: a.valid_acc or 0.0)
            state.best_valid, state.best_id = best.valid_acc, best.id
        usage = self._usage()
        state.input_tokens = int(usage.get("input_tokens", 0))
        state.output_tokens = int(usage.get("output_tokens", 0))
        state.cost_usd = float(usage.get("cost_usd", 0.0))
        self._last_state = state
        return state

    def _usage(self) -> dict[str, Any]:
        usage = getattr(getattr(self, "llm", None), "usage", None)
        if usage is not None and hasattr(usage, "to_dict"):
            return dict(usage.to_dict())
        return {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}

    def _summary(self, stopped: str | None = None) -> dict[str, Any]:
        extra: dict[str, Any] = {"name": self.config.run.name}
        if stopped is not None:
            extra["stopped_because"] = stopped
        return self.store.write_summary(self._usage(), extra)

    def _stop_reason(self, started: float) -> str | None:
        archs = self.store.all()
        run = self.config.run
        trained_or_pending = sum(
            a.status == "trained" or a.status in PENDING_STATUSES for a in archs
        )
        if trained_or_pending >= run.max_architectures:
            return f"architecture budget reached ({run.max_architectures})"
        if run.max_designs is not None and self._designs >= run.max_designs:
            return f"design budget reached ({run.max_designs})"
        if run.max_wall_clock_s is not None and time.monotonic() - started >= run.max_wall_clock_s:
            return f"wall-clock budget reached ({run.max_wall_clock_s:g} s)"
        if self._fruitless >= MAX_FRUITLESS_DESIGNS:
            return f"{MAX_FRUITLESS_DESIGNS} designs in a row produced nothing new"
        return self._llm_stop

    def _loop(
        self, team: Any, tree: Any, executor: Any, state: ProgressState, started: float
    ) -> str:
        run = self.config.run
        stop_reason: str | None = None
        self.progress.update(self._state(state), "started")
        while True:
            self._collect(executor, 0.05, team, tree, state)
            # re-evaluated every turn: a candidate that fails in training frees its place in the
            # architecture budget, so designing resumes until enough are trained
            reason = self._stop_reason(started)
            if reason != stop_reason and reason is not None:
                self.store.event("stop_designing", reason=reason)
                self.store.log(f"stop designing: {reason}")
            stop_reason = reason
            in_flight = executor.running()
            if stop_reason is None and in_flight < executor.capacity + run.queue_size:
                self._design_one(team, tree, executor)
                self._summary()
                self.progress.update(self._state(state))
                continue
            if stop_reason is not None:
                if in_flight == 0:
                    return stop_reason
                if (
                    run.max_wall_clock_s is not None
                    and time.monotonic() - started >= run.max_wall_clock_s
                ):
                    # what is still training stays "queued" and resumes with --resume
                    return stop_reason + f"; {in_flight} candidate(s) left queued for --resume"
            self._collect(executor, 1.0, team, tree, state)

    def _collect(
        self, executor: Any, timeout: float, team: Any, tree: Any, state: ProgressState
    ) -> None:
        """Record every finished candidate (waiting up to ``timeout`` for one)."""
        for result in executor.poll(timeout=timeout):
            self._record_result(result, team, tree)
            self._summary()
            self.progress.update(self._state(state), f"{result.arch_id}: {result.status}")

    # ------------------------------------------------------------------ one design

    def _design_one(self, team: Any, tree: Any, executor: Any) -> None:
        from nader.agents.proposer import ProposalError
        from nader.llm.base import BudgetExhausted, LLMError

        self._designs += 1
        try:
            proposal = team.propose(tree)
        except ProposalError as err:
            self._llm_stop = f"no inspiration left to propose ({err})"
            return
        except BudgetExhausted as err:
            self._llm_stop = f"LLM budget spent ({err})"
            return
        except LLMError as err:
            self._fruitless += 1
            self.store.event("proposal_failed", error=f"{type(err).__name__}: {err}")
            self.store.log(f"proposal failed: {type(err).__name__}: {err}")
            return
        arch_id = str(proposal.architecture_id)
        self._last_state.designing = (
            f"{arch_id} from {proposal.parent_id}: {proposal.inspiration.text[:70]}"
        )
        self.progress.update(self._last_state)
        try:
            outcome = team.design(proposal)
        except BudgetExhausted as err:
            self._llm_stop = f"LLM budget spent ({err})"
            self._add_failed(proposal, f"LLM budget spent during the design: {err}")
            return
        except LLMError as err:
            self._fruitless += 1
            self._add_failed(proposal, f"LLM call failed: {type(err).__name__}: {err}")
            return
        node = team.record(tree, proposal, outcome)
        usage = outcome.usage
        cost = sum(record.cost_usd for record in outcome.usage_by_call)
        common: dict[str, Any] = {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cost_usd": cost,
            "tries": outcome.tries,
        }
        extra = {
            "inspiration_key": proposal.inspiration.key,
            "cell_tries": outcome.cell_tries,
            "stem_downsample_tries": outcome.stem_downsample_tries,
            "notes": list(outcome.notes),
        }

        def store_as(status: str, error: str | None = None, **fields: Any) -> Architecture:
            arch = Architecture(
                arch_id,
                self.store.next_seq(),
                str(proposal.parent_id),
                proposal.inspiration.text,
                status,
                hash=outcome.hash,
                error=error[:4000] if error else None,
                extra=extra,
                **common,
                **fields,
            )
            self.store.add(arch)
            if status != "queued":
                self._fruitless += 1
                tree.update(node.id, status="duplicate" if status == "duplicate" else "failed")
            return arch

        if outcome.status != "new" or outcome.network_text is None:
            error = "; ".join(outcome.errors[-3:]) if outcome.errors else outcome.status
            if outcome.duplicate_of is not None:
                error = f"isomorphic to architecture {outcome.duplicate_of}"
            store_as("duplicate" if outcome.status == "duplicate" else "invalid", error)
            return
        report = check_text(outcome.network_text, self.runtime.operators)
        network_hash = _network_hash(report)
        extra["network_hash"] = network_hash
        twin = next(
            (
                a
                for a in self.store.all()
                if a.extra.get("network_hash") == network_hash and a.status != "duplicate"
            ),
            None,
        )
        if twin is not None:
            error = f"isomorphic to architecture {twin.id}: not trained again"
            store_as("duplicate", error, network_text=outcome.network_text)
            return
        try:
            width, params, flops = self._size(outcome.network_text)
        except (WidthSearchError, NaderError) as err:
            store_as("failed", f"width search: {err}", network_text=outcome.network_text)
            return
        self._fruitless = 0
        arch = store_as(
            "queued", network_text=outcome.network_text, width=width, params=params, flops=flops
        )

        tree.update(node.id, params=params, flops=flops)
        self._designed[arch_id] = _Designed(proposal, outcome)
        executor.submit(TrainingJob(arch_id, self._payload(arch)))
        self.store.log(
            f"architecture {arch_id} queued (width {width}, {params:,} params, {flops:,} FLOPs)"
        )

    def _add_failed(self, proposal: Any, error: str) -> None:
        self.store.add(
            Architecture(
                str(proposal.architecture_id),
                self.store.next_seq(),
                str(proposal.parent_id),
                proposal.inspiration.text,
                "invalid",
                error=error[:4000],
                extra={"inspiration_key": proposal.inspiration.key},
            )
        )

    def _record_result(self, result: JobResult, team: Any, tree: Any) -> None:
        changes: dict[str, Any] = {
            "status": result.status,
            "valid_acc": result.valid_acc,
            "test_acc": result.test_acc,
            "epochs": result.epochs,
            "error": result.error[:4000] if result.error else None,
            "finished": time.time(),
        }
        arch = self.store.get(result.arch_id)
        extra = dict(arch.extra)
        extra["train"] = {
            k: v for k, v in result.metrics.items() if isinstance(v, (int, float, str))
        }
        extra["train"]["wall_s"] = round(result.wall_s, 3)
        changes["extra"] = extra
        arch = self.store.update(result.arch_id, **changes)
        node_id = int(arch.id)
        if node_id in tree:
            tree.update(
                node_id,
                status=_TREE_STATUS.get(arch.status, "failed"),
                valid_acc=arch.valid_acc,
                test_acc=arch.test_acc,
            )
        self.store.log(
            f"architecture {arch.id}: {arch.status}"
            + (f" valid {arch.valid_acc:.4f}" if arch.valid_acc is not None else "")
            + (f" ({arch.error.splitlines()[0]})" if arch.error else "")
        )
        designed = self._designed.get(arch.id)
        parent = self.store.get(arch.parent) if arch.parent is not None else None
        if (
            designed is not None
            and arch.status == "trained"
            and parent is not None
            and parent.valid_acc is not None
            and arch.valid_acc is not None
        ):
            from nader.llm.base import LLMError

            try:
                team.reflect_on_result(
                    designed.proposal,
                    designed.outcome,
                    parent_valid_acc=parent.valid_acc,
                    valid_acc=arch.valid_acc,
                )
            except LLMError as err:
                self.store.event("reflection_failed", id=arch.id, error=str(err))


def _cell_hash(report: Any) -> str | None:
    return report.blocks[0].hash if report.blocks else None


def _network_hash(report: Any) -> str:
    """Blocks' canonical hashes by role: two networks are the same when all their blocks are."""
    return "+".join(
        f"{b.role.value}:{b.hash}" for b in sorted(report.blocks, key=lambda b: b.role.value)
    )


#: config keys that may change between a run and its --resume (budgets and where it trains)
_RESUMABLE_CHANGES = (
    "run.max_architectures",
    "run.max_designs",
    "run.max_wall_clock_s",
    "run.queue_size",
    "executor.",
)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def _check_resume_compatible(stored: dict[str, Any], current: dict[str, Any]) -> None:
    before, after = _flatten(stored), _flatten(current)
    changed = sorted(
        key
        for key in set(before) | set(after)
        if before.get(key) != after.get(key) and not key.startswith(_RESUMABLE_CHANGES)
    )
    if changed:
        raise ConfigError(
            "--resume with a config that differs from the run's in: "
            + ", ".join(changed)
            + " (only budgets under [run] and [executor] may change)"
        )


def run_session(
    config: SessionConfig,
    run_dir: Path,
    *,
    runtime: Any,
    resume: bool = False,
    job_function: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> SessionResult:
    return Session(
        config,
        run_dir,
        runtime=runtime,
        resume=resume,
        job_function=job_function,
        progress=progress,
    ).run()
