"""``nader bench nad``: the paper's NAD benchmark — design only, no training.

For every ablation (immediate feedback on/off × design experience on/off) and every task of the
suite, the design team's Modifier rewrites the task's base cell as the suggestion says, with the
Reflector checking each answer (immediate feedback) and handing it tips (design experience) as
the switches say — the very :meth:`DesignTeam.design` path a session runs. Then:

- E: the final cell verifies (a duplicate of a known cell verified too);
- Q: the suggestion is implemented — micro tasks by their predicates on the IR, macro tasks by the
  LLM judge (or ``None``, "not judged", when the provider is the offline designer, which cannot
  judge);
- SR: E and Q; tokens in/out, dollars and Modifier turns of the design.

Each result is appended to ``OUT/results.jsonl`` as soon as it exists, so a killed bench resumes
where it stopped (``--resume``); every ablation keeps its own experience pool under
``OUT/<ablation>/memory``, so tips learned before a kill are still there after it. Every LLM call
is recorded in ``OUT/llm/recordings.jsonl``: ``provider = "replay"`` with ``replay_from = OUT``
reruns a bench offline.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nader.agents.blocks import block_text
from nader.agents.config import AgentsConfig
from nader.agents.knowledge import Inspiration
from nader.agents.proposer import Proposal
from nader.agents.team import DesignTeam
from nader.bench.judge import judge_design
from nader.bench.predicates import check_predicates
from nader.bench.suite import NadTask, Suite
from nader.errors import ConfigError
from nader.ir.graph import Role
from nader.ir.spelling import did_you_mean
from nader.llm.base import BudgetExhausted, LLMError
from nader.llm.config import LLMConfig
from nader.llm.usage import AccountedLLM
from nader.plugins.registries import Runtime
from nader.session.config import SessionConfig

RESULTS_FILE = "results.jsonl"
OUTPUT_FILE = "nad.json"
#: providers that cannot judge a macro task (they have no opinion, only rewrites)
NON_JUDGING_PROVIDERS = frozenset({"offline"})


class NadConfig(BaseModel):
    """The bench's config: the ``[llm]`` and ``[agents]`` tables of a session config. The
    session's other tables are allowed and not read, so one config serves both; a table
    neither knows (a misspelt ``[agnets]``) is an error, as in a session config."""

    model_config = ConfigDict(extra="ignore")

    llm: LLMConfig = Field(
        default_factory=lambda: LLMConfig(provider="offline", model="offline-designer")
    )
    agents: AgentsConfig = Field(default_factory=AgentsConfig)

    @model_validator(mode="before")
    @classmethod
    def _known_tables(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(SessionConfig.model_fields)
            for table in data:
                if table not in known:
                    raise ConfigError(
                        f"{table}: unknown table{did_you_mean(str(table), known)} "
                        f"(known: {', '.join(sorted(known))})"
                    )
        return data


@dataclass(frozen=True)
class Ablation:
    """One setting of the Reflector's two switches."""

    immediate_feedback: bool
    design_experience: bool

    @property
    def name(self) -> str:
        on = {True: "on", False: "off"}
        return f"lif-{on[self.immediate_feedback]}_lde-{on[self.design_experience]}"

    @property
    def label(self) -> str:
        parts = ["LIF" if self.immediate_feedback else "no LIF"]
        parts.append("LDE" if self.design_experience else "no LDE")
        return ", ".join(parts)


def ablations_from(
    immediate_feedback: Sequence[bool], design_experience: Sequence[bool]
) -> list[Ablation]:
    return [Ablation(f, e) for f in immediate_feedback for e in design_experience]


@dataclass
class TaskResult:
    """What one (ablation, task) came to; one line of ``results.jsonl``."""

    ablation: str
    task: str
    block: str
    level: str
    executable: bool
    implemented: bool | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    turns: int
    status: str
    checks: list[dict[str, Any]] = field(default_factory=list)
    judge: str | None = None
    judge_reason: str | None = None
    judge_input_tokens: int = 0
    judge_output_tokens: int = 0
    judge_cost_usd: float = 0.0
    errors: list[str] = field(default_factory=list)
    tips_used: int = 0
    network_text: str | None = None

    @property
    def success(self) -> bool | None:
        """SR's numerator: E and Q; unknown when Q was not judged."""
        if self.implemented is None:
            return None if self.executable else False
        return self.executable and self.implemented

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "success": self.success}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskResult:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


ProgressCallback = Callable[[int, int, TaskResult], None]


def read_results(out_dir: Path) -> list[TaskResult]:
    path = out_dir / RESULTS_FILE
    if not path.exists():
        return []
    results = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            results.append(TaskResult.from_dict(json.loads(line)))
    return results


def _warm_experience(source: Path, ablation_dir: Path, ablation: Ablation) -> list[Path]:
    """Experience files to load, or (a previous bench's folder) its pool copied in place."""
    if source.is_file():
        return [source]
    previous = source / ablation.name / "memory"
    if not previous.is_dir():
        candidates = sorted(source.glob("*_lde-on/memory"))
        if not candidates:
            raise ConfigError(f"{source} holds no bench experience pool (*_lde-on/memory)")
        previous = candidates[0]
    target = ablation_dir / "memory"
    if not target.exists():
        shutil.copytree(previous, target)
    return []


class NadBench:
    """Runs the suite for each ablation over one LLM, appending results as they come."""

    def __init__(
        self,
        config: NadConfig,
        suite: Suite,
        out_dir: Path,
        *,
        runtime: Runtime,
        llm: AccountedLLM,
        experience_from: Sequence[Path] = (),
        judge: bool | None = None,
    ) -> None:
        self.config = config
        self.suite = suite
        self.out_dir = Path(out_dir)
        self.runtime = runtime
        self.llm = llm
        self.experience_from = list(experience_from)
        self.judge = (
            judge if judge is not None else config.llm.provider not in NON_JUDGING_PROVIDERS
        )

    def run(
        self, ablations: Sequence[Ablation], progress: ProgressCallback | None = None
    ) -> list[TaskResult]:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        done = {(r.ablation, r.task): r for r in read_results(self.out_dir)}
        total = len(ablations) * len(self.suite.tasks)
        finished = sum((a.name, t.id) in done for a in ablations for t in self.suite.tasks)
        for ablation in ablations:
            todo = [t for t in self.suite.tasks if (ablation.name, t.id) not in done]
            if not todo:
                continue
            with self._team(ablation) as team:
                for task in todo:
                    result = self._run_task(team, ablation, task)
                    with (self.out_dir / RESULTS_FILE).open("a", encoding="utf-8") as handle:
                        handle.write(json.dumps(result.to_dict()) + "\n")
                    done[(ablation.name, task.id)] = result
                    finished += 1
                    if progress is not None:
                        progress(finished, total, result)
        wanted = {(a.name, t.id) for a in ablations for t in self.suite.tasks}
        return [r for key, r in done.items() if key in wanted]

    def _team(self, ablation: Ablation) -> DesignTeam:
        folder = self.out_dir / ablation.name
        folder.mkdir(parents=True, exist_ok=True)
        files: list[Path] = list(self.config.agents.experience_files)
        if ablation.design_experience:
            for source in self.experience_from:
                files.extend(_warm_experience(source, folder, ablation))
        agents = self.config.agents.model_copy(
            update={
                "immediate_feedback": ablation.immediate_feedback,
                "design_experience": ablation.design_experience,
                "experience_files": files,
                "memory_path": folder / "memory",
                "reader": False,  # the bench proposes nothing: the knowledge pool stays small
                "prescreen_k": 1,  # the bench measures one Modifier dialogue per task
            }
        )
        team = DesignTeam.build(llm=self.llm, runtime=self.runtime, config=agents, run_dir=folder)
        if ablation.design_experience:
            team.prepare_knowledge()
        return team

    def _run_task(self, team: DesignTeam, ablation: Ablation, task: NadTask) -> TaskResult:
        index = 1 + [t.id for t in self.suite.tasks].index(task.id)
        base = self.suite.bases[task.block]
        proposal = Proposal(
            parent_id=0,
            inspiration=Inspiration(f"nad:{task.id}", task.suggestion, "nad"),
            architecture_id=index,
            parent_network=base,
        )
        result = TaskResult(
            ablation.name, task.id, task.block, task.level, False, False, 0, 0, 0.0, 0, "failed"
        )
        try:
            outcome = team.design(proposal)
        except (BudgetExhausted, LLMError) as err:
            result.errors = [f"{type(err).__name__}: {err}"]
            return result
        usage = outcome.usage
        result.input_tokens, result.output_tokens = usage.input_tokens, usage.output_tokens
        result.cost_usd, result.turns, result.status = (
            outcome.cost_usd,
            outcome.cell_tries,
            outcome.status,
        )
        result.errors = list(outcome.errors[-3:])
        result.tips_used = len(outcome.tips_used)
        cell = outcome.network.by_role(Role.CELL) if outcome.network is not None else None
        result.executable = cell is not None
        result.network_text = outcome.network_text
        if cell is None:
            result.implemented = False
            return result
        base_cell = self.suite.base_cell(task)
        if task.level == "micro":
            passed, checks = check_predicates(
                list(task.expect), base_cell, cell, self.runtime.operators
            )
            result.implemented = passed
            result.checks = [asdict(c) for c in checks]
            return result
        if not self.judge:
            result.implemented = None
            result.judge = "not judged"
            return result
        judgement = judge_design(
            self.llm,
            suggestion=task.suggestion,
            original=block_text(base_cell, self.runtime.operators),
            modified=outcome.network_text or "",
            architecture=str(index),
        )
        result.implemented = judgement.passed
        result.judge, result.judge_reason = judgement.verdict, judgement.reason[:500]
        result.judge_input_tokens = sum(e.usage.input_tokens for e in judgement.usage)
        result.judge_output_tokens = sum(e.usage.output_tokens for e in judgement.usage)
        result.judge_cost_usd = sum(e.cost_usd for e in judgement.usage)
        return result
