"""The design session: DESIGN §4 end to end, as a loop that only orchestrates.

    open the run dir → base network → knowledge pool → loop:
      Proposer picks (node, inspiration) → Modifier/Reflector produce a verified network
      → dedup → width search → train (executor) → record → Reflector learns from accuracy
    until the architecture, design, token/$ or wall-clock budget is spent.

Each step's work lives in its own module: :mod:`~nader.session.rundir` (the directory and
resume), :mod:`~nader.session.base` (the base network), :mod:`~nader.session.sizing` (dataset
and width), :mod:`~nader.session.records` (the store, with the tree and the duplicate index as its
views), :mod:`~nader.session.jobs` (training jobs) and :mod:`~nader.session.progress` (what is
reported). The store is the source of truth, so a killed run resumes where it stopped: finished
architectures are never touched again, and candidates that were queued or training start again
from their last epoch checkpoint.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nader.agents.known import cell_hash, network_hash
from nader.agents.outcome import DesignOutcome
from nader.agents.proposer import Proposal, ProposalError
from nader.agents.team import DesignTeam
from nader.errors import NaderError
from nader.llm.base import BudgetExhausted, LLMError, ProviderUnavailable
from nader.llm.client import LLMClient
from nader.llm.redaction import redactor_for
from nader.llm.usage import AccountedLLM, CompletesRequests, accounted
from nader.plugins.registries import Runtime
from nader.session.base import BaseNetwork, load_base
from nader.session.config import SessionConfig
from nader.session.executors import Executor, JobFunction
from nader.session.jobs import training_job
from nader.session.lock import RunLock, check_no_orphan_training
from nader.session.prescreen import ProxyScreen
from nader.session.progress import NoProgress, ProgressSink, ProgressState, tally
from nader.session.records import RunRecords
from nader.session.rundir import open_run, session_log
from nader.session.signals import stop_on_signals
from nader.session.sizing import Sizer, session_dataset
from nader.session.store import PENDING_STATUSES, Architecture
from nader.session.validate import validate_session
from nader.session.worker_guard import train_job_locked
from nader.tracking.base import TrackerFanOut, build_trackers
from nader.training.job import JobOutcome

log = logging.getLogger("nader.session")

#: consecutive designs that produced nothing new before the session stops proposing
MAX_FRUITLESS_DESIGNS = 25
#: run metadata key: design attempts made by every run of this directory (``run.max_designs``)
DESIGNS_KEY = "designs"


@dataclass
class SessionResult:
    summary: dict[str, Any]
    stopped_because: str
    wall_s: float
    #: design attempts of the whole run, earlier runs of a resumed directory included
    designs: int = 0
    events: list[str] = field(default_factory=list)
    #: why the LLM provider stopped the run (unreachable or refusing), None if it did not
    provider_failure: str | None = None


class Session:
    """One design session over one run directory."""

    def __init__(
        self,
        config: SessionConfig,
        run_dir: Path,
        *,
        runtime: Runtime,
        resume: bool = False,
        job_function: JobFunction | None = None,
        progress: ProgressSink | None = None,
        llm: CompletesRequests | None = None,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.runtime = runtime
        self.resume = resume
        if job_function is None:
            job_function = train_job_locked
        self.job_function: JobFunction = job_function
        self.progress: ProgressSink = progress or NoProgress()
        self._llm_override = llm
        self._provider: Any = None
        self._designed: dict[str, tuple[Proposal, DesignOutcome]] = {}
        self._designs = 0
        self._fruitless = 0
        self._llm_stop: str | None = None
        self._provider_failure: ProviderUnavailable | None = None
        self._state = ProgressState(target=config.run.max_architectures)
        #: experiment trackers ([tracking]): every epoch, every recorded architecture, the end
        self.trackers = TrackerFanOut()

    # ------------------------------------------------------------------ the run

    def run(self) -> SessionResult:
        """Validate everything, then run holding the run directory's lock.

        Nothing is created before the config, the base network and the dataset are checked, so
        a run that fails validation leaves no run directory. SIGTERM and SIGHUP stop the run
        like Ctrl-C (:mod:`~nader.session.signals`): the workers are stopped, the run resumes.
        """
        started = time.monotonic()
        validate_session(self.config, self.runtime)
        base = load_base(self.config.base, self.runtime.operators)
        data = session_dataset(self.config, self.runtime)  # loaded once, kept by neither
        sizer = Sizer(self.config, self.runtime, data)
        screen = (
            ProxyScreen(self.config, self.runtime, sizer, data)
            if self.config.agents.prescreen_k > 1
            else None
        )
        del data  # the driver holds no dataset while the run goes on
        # the provider is built (its API key read) before the run directory exists, too
        provider = None
        if self._llm_override is None:
            factory = self.runtime.llm_providers.get(self.config.llm.provider)
            provider = factory(self.config.llm, self.runtime)
        self._provider = provider
        with stop_on_signals(), RunLock(self.run_dir):
            check_no_orphan_training(self.run_dir)
            return self._run_locked(started, base, sizer, screen)

    def _run_locked(
        self, started: float, base: BaseNetwork, sizer: Sizer, screen: ProxyScreen | None
    ) -> SessionResult:
        store = open_run(self.run_dir, self.config, resume=self.resume)
        handler = session_log(self.run_dir, redactor_for(self.config.llm))
        executor: Executor | None = None
        team: DesignTeam | None = None
        try:
            self.records = RunRecords(store)
            self.trackers = build_trackers(self.config.tracking, self.runtime, self.run_dir)
            self._designs = int(store.get_meta(DESIGNS_KEY) or 0)
            llm = self._llm_override
            if llm is None:
                assert self._provider is not None  # built by run() before the lock
                llm = LLMClient(
                    self._provider,
                    self.config.llm,
                    run_dir=self.run_dir,
                    # a call in flight must not outlive the run's wall-clock budget
                    run_deadline=started + self.config.run.max_wall_clock_s
                    if self.config.run.max_wall_clock_s is not None
                    else None,
                    on_failure=self.progress.note,
                )
            self.llm: AccountedLLM = accounted(llm)
            team = DesignTeam.build(
                llm=self.llm,
                config=self.config.agents,
                runtime=self.runtime,
                run_dir=self.run_dir,
                known=self.records.known,
                image_size=sizer.preset.image_size,
                scorer=screen,
            )
            knowledge = team.prepare_knowledge()
            store.event(
                "knowledge", size=knowledge.knowledge_size, experience=knowledge.experience_size
            )
            if self.config.llm.provider == "offline":
                self._say(
                    "the offline designer is in use (no LLM): modifications come from its "
                    "library of verified graph rewrites"
                )
            if not store.all():
                sizing = sizer.size(base.network)
                reports = base.report.blocks
                self.records.add(
                    Architecture(
                        "0",
                        0,
                        None,
                        None,
                        "queued",
                        hash=cell_hash(reports),
                        network_text=base.text,
                        width=sizing.width,
                        params=sizing.params,
                        flops=sizing.flops,
                        extra={"network_hash": network_hash(reports)},
                    ),
                    base.network,
                )
            executor = self.runtime.executors.get(self.config.executor.name)(
                self.config.executor, self.job_function, self.run_dir / "scratch"
            )
            for arch in self._resumable(store.all()):
                arch = self.records.update(arch.id, status="queued")
                executor.submit(training_job(arch, self.config, store))
            stopped = self._loop(team, sizer, executor, started)
            summary = self._summary(stopped)
            self.trackers.on_run_end(summary)
            self.progress.update(self._tally(), f"finished: {stopped}")
            return SessionResult(
                summary,
                stopped,
                time.monotonic() - started,
                self._designs,
                provider_failure=str(self._provider_failure) if self._provider_failure else None,
            )
        finally:
            self.trackers.close()
            if executor is not None:
                executor.shutdown()
            if team is not None:
                team.close()
            logging.getLogger("nader").removeHandler(handler)
            handler.close()
            store.close()

    def _resumable(self, archs: list[Architecture]) -> list[Architecture]:
        """The pending architectures to train again, within the architecture budget: after a
        resume with a smaller ``max_architectures`` the rest stay queued (a later resume with a
        larger budget trains them)."""
        trained = sum(a.status == "trained" for a in archs)
        room = max(self.config.run.max_architectures - trained, 0)
        pending = [a for a in archs if a.status in PENDING_STATUSES]
        if len(pending) > room:
            self.records.store.log(
                f"{len(pending) - room} queued architecture(s) left queued: the architecture "
                f"budget ({self.config.run.max_architectures}) is spent"
            )
        return pending[:room]

    def _say(self, line: str) -> None:
        log.info(line)
        self.records.store.log(line)
        self.progress.note(line)

    def _tally(self) -> ProgressState:
        return tally(self._state, self.records.store.all(), self.llm.usage)

    def _summary(self, stopped: str | None = None) -> dict[str, Any]:
        extra: dict[str, Any] = {"name": self.config.run.name}
        if stopped is not None:
            extra["stopped_because"] = stopped
        return self.records.store.write_summary(self.llm.usage.to_dict(), extra)

    def _stop_reason(self, started: float) -> str | None:
        archs = self.records.store.all()
        run = self.config.run
        trained_or_pending = sum(
            a.status in ("trained", "stopped_early") or a.status in PENDING_STATUSES for a in archs
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

    def _loop(self, team: DesignTeam, sizer: Sizer, executor: Executor, started: float) -> str:
        run = self.config.run
        store = self.records.store
        stop_reason: str | None = None
        self.progress.update(self._tally(), "started")
        while True:
            self._collect(executor, 0.05, team)
            # re-evaluated every turn: a candidate that fails in training frees its place in the
            # architecture budget, so designing resumes until enough are trained
            reason = self._stop_reason(started)
            if reason != stop_reason and reason is not None:
                store.event("stop_designing", reason=reason)
                store.log(f"stop designing: {reason}")
            stop_reason = reason
            in_flight = executor.running()
            if stop_reason is None and in_flight < executor.capacity + run.queue_size:
                self._design_one(team, sizer, executor)
                self._summary()
                self.progress.update(self._tally())
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
            self._collect(executor, 1.0, team)

    def _collect(self, executor: Executor, timeout: float, team: DesignTeam) -> None:
        """Record the epochs trained since the last look, then every finished candidate
        (waiting up to ``timeout`` for one)."""
        self._ingest_epochs()
        outcomes = executor.poll(timeout=timeout)
        if outcomes:
            self._ingest_epochs()  # the last epochs before an outcome get their own line
        for outcome in outcomes:
            self._record_training(outcome, team)
            self._summary()
            self.progress.update(self._tally(), f"{outcome.arch_id}: {outcome.status}")

    def _ingest_epochs(self) -> None:
        for arch_id, record in self.records.ingest_epochs():
            self.trackers.on_epoch(arch_id, record.model_dump(mode="json"))
            line = self._state.saw_epoch(arch_id, record, self.config.train.epochs)
            self.progress.update(self._tally(), line)

    # ------------------------------------------------------------------ one design

    def _design_one(self, team: DesignTeam, sizer: Sizer, executor: Executor) -> None:
        records, store = self.records, self.records.store
        self._designs += 1
        store.set_meta(DESIGNS_KEY, str(self._designs))  # the design budget holds across resume
        try:
            proposal = team.propose(records.tree)
        except ProposalError as err:
            self._llm_stop = f"no inspiration left to propose ({err})"
            return
        except BudgetExhausted as err:
            self._llm_stop = f"LLM budget spent ({err})"
            return
        except ProviderUnavailable as err:
            self._stop_for_provider(err)
            return
        except LLMError as err:
            self._fruitless += 1
            store.event("proposal_failed", error=f"{type(err).__name__}: {err}")
            store.log(f"proposal failed: {type(err).__name__}: {err}")
            return
        arch_id = str(proposal.architecture_id)
        self._state.designing = (
            f"{arch_id} from {proposal.parent_id}: {proposal.inspiration.text[:70]}"
        )
        self.progress.update(self._state)
        try:
            outcome = team.design(proposal)
        except BudgetExhausted as err:
            self._llm_stop = f"LLM budget spent ({err})"
            records.add_design(
                proposal, None, "invalid", error=f"LLM budget spent during the design: {err}"
            )
            return
        except ProviderUnavailable as err:
            self._stop_for_provider(err)
            records.add_design(proposal, None, "invalid", error=f"LLM provider unavailable: {err}")
            return
        except LLMError as err:
            self._fruitless += 1
            records.add_design(
                proposal, None, "invalid", error=f"LLM call failed: {type(err).__name__}: {err}"
            )
            return
        if outcome.status != "new" or outcome.network is None or outcome.network_hash is None:
            error = "; ".join(outcome.errors[-3:]) if outcome.errors else outcome.status
            if outcome.duplicate_of is not None:
                error = f"isomorphic to architecture {outcome.duplicate_of}"
            status = "duplicate" if outcome.status == "duplicate" else "invalid"
            self._fruitless += 1
            records.add_design(proposal, outcome, status, error=error)
            return
        twin = records.known.network_twin(outcome.network_hash)
        if twin is not None:
            self._fruitless += 1
            error = f"isomorphic to architecture {twin}: not trained again"
            records.add_design(proposal, outcome, "duplicate", error=error)
            return
        structures = [r.structure for r in outcome.block_reports if r.structure is not None]
        try:
            sizing = sizer.size(outcome.network, structures)
        except NaderError as err:
            self._fruitless += 1
            records.add_design(proposal, outcome, "failed", error=f"width search: {err}")
            return
        self._fruitless = 0
        arch = records.add_design(
            proposal,
            outcome,
            "queued",
            width=sizing.width,
            params=sizing.params,
            flops=sizing.flops,
        )
        self._designed[arch_id] = (proposal, outcome)
        executor.submit(training_job(arch, self.config, store))
        store.log(
            f"architecture {arch_id} queued (width {sizing.width}, {sizing.params:,} params, "
            f"{sizing.flops:,} FLOPs)"
        )

    def _stop_for_provider(self, err: ProviderUnavailable) -> None:
        """No design can succeed without the provider: stop designing, say why, loudly."""
        self._provider_failure = err
        self._llm_stop = f"LLM provider unavailable: {err}"
        self._say(f"stopping: {err}")

    def _record_training(self, outcome: JobOutcome, team: DesignTeam) -> None:
        store = self.records.store
        arch = self.records.record_training(outcome)
        self.trackers.on_architecture(arch.summary(), self.llm.usage.to_dict())
        store.log(
            f"architecture {arch.id}: {arch.status}"
            + (f" valid {arch.valid_acc:.4f}" if arch.valid_acc is not None else "")
            + (f" ({arch.error.splitlines()[0]})" if arch.error else "")
        )
        designed = self._designed.get(arch.id)
        parent = store.get(arch.parent) if arch.parent is not None else None
        if (
            designed is None
            or arch.status != "trained"
            or parent is None
            or parent.valid_acc is None
            or arch.valid_acc is None
        ):
            return
        proposal, design = designed
        try:
            team.reflect_on_result(
                proposal, design, parent_valid_acc=parent.valid_acc, valid_acc=arch.valid_acc
            )
        except (LLMError, ProviderUnavailable) as err:
            store.event("reflection_failed", id=arch.id, error=str(err))
