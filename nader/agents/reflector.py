"""The Reflector: immediate feedback from the verifier, and design experience from records.

*Immediate feedback*: every block the Modifier writes is named for its role, then parsed and
verified once (:func:`nader.ir.check_text`) in the role it is meant for; the verifier's exact
messages go back to the Modifier, and the verified blocks (with their reports) go on to the team.
A valid cell whose canonical hash is already known (the session's
:class:`~nader.agents.known.KnownDesigns`) is reported as a duplicate of that architecture, so the
Modifier can try a different change.

*Design experience*: each stage of each design becomes a record — failure, failure-to-success or
success — that the LLM turns into short tips; tips are categorised from the error codes and
stored keyed by the suggestion's embedding. The most similar tips are handed to the Modifier with
each new suggestion. Accuracy drops after training become *research* tips for the Proposer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nader.agents import tasks
from nader.agents.blocks import safe_cell_name
from nader.agents.calls import AgentCaller
from nader.agents.experience import (
    ACCURACY_DROP,
    CATEGORY_OF_CODE,
    GENERAL,
    DesignRecord,
    ExperiencePool,
    Problem,
    Tip,
    parse_tips,
)
from nader.agents.extraction import ExtractedBlock
from nader.agents.known import KnownDesigns
from nader.agents.prompts import PromptBook
from nader.ir.check import check_text
from nader.ir.graph import Block, Role
from nader.ir.registry import OperatorRegistry
from nader.ir.verify import BlockReport
from nader.llm.base import BudgetExhausted, LLMError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Feedback:
    """The Reflector's verdict on one answer at one stage."""

    problems: tuple[Problem, ...] = ()
    blocks: tuple[ExtractedBlock, ...] = ()
    reports: tuple[BlockReport, ...] = ()
    hash: str | None = None
    duplicate_of: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def format_only(self) -> bool:
        return bool(self.problems) and all(p.code == "format" for p in self.problems)

    @property
    def text(self) -> str:
        return "\n".join(p.message for p in self.problems)

    @property
    def verified(self) -> tuple[Block, ...]:
        """The verified blocks, as parsed (only when the check passed)."""
        if self.problems:
            return ()
        return tuple(r.structure.block for r in self.reports if r.structure is not None)


def _unread_message(block: ExtractedBlock) -> str:
    lines = "; ".join(repr(line[:80]) for line in block.skipped[:5])
    more = f" (and {len(block.skipped) - 5} more)" if len(block.skipped) > 5 else ""
    return (
        f"[unread-lines] block {block.name!r}: these lines were not read as node or edge lines "
        f"and were left out: {lines}{more}; write nodes as N:Op(key=value) and edges as A->B"
    )


def format_problem(stage: str) -> Problem:
    return Problem(
        "format",
        f"[format] no block found in your answer: write the complete {stage} as a ##Name## header, "
        "N:Op(...) node lines and A->B edge lines inside one ``` fence",
    )


@dataclass
class Reflector:
    caller: AgentCaller
    prompts: PromptBook
    registry: OperatorRegistry
    experience: ExperiencePool | None = None
    known: KnownDesigns = field(default_factory=KnownDesigns)
    tips_per_prompt: int = 5
    #: (H, W) of the run's images: blocks are probed at the data's shape (None: the defaults)
    image_size: tuple[int, int] | None = None

    # -- immediate feedback
    def _verify(
        self, block: ExtractedBlock, role: Role, stem_scale: int | None = None
    ) -> tuple[list[Problem], BlockReport | None]:
        report = check_text(
            block.text, self.registry, role=role, stem_scale=stem_scale, image_size=self.image_size
        )
        unread = [Problem("unread-lines", _unread_message(block))] if block.skipped else []
        if report.syntax_error is not None:
            err = report.syntax_error
            return [Problem("syntax", f"[syntax] block {block.name!r}: {err}"), *unread], None
        problems = [Problem(d.code, str(d)) for r in report.blocks for d in r.errors]
        return problems + (unread if problems else []), report.blocks[0] if report.blocks else None

    def check_cell(self, blocks: Sequence[ExtractedBlock], default_name: str) -> Feedback:
        """Verify the answer's cell (the first block not named as a stem or downsample), named
        as a cell (its own name made safe, else ``default_name``)."""
        if not blocks:
            return Feedback((format_problem("cell"),))
        cells = [b for b in blocks if not any(w in b.name.lower() for w in ("stem", "downsample"))]
        chosen = cells[0] if cells else blocks[0]
        cell = chosen.renamed(safe_cell_name(chosen.name, default_name))
        problems, report = self._verify(cell, Role.CELL)
        reports = (report,) if report is not None else ()
        if problems or report is None:
            return Feedback(tuple(problems), (cell,), reports)
        known = self.known.cell_twin(report.hash) if report.hash else None
        if known is not None:
            message = (
                f"[duplicate] the new cell is isomorphic to architecture {known}, which is already "
                "known; change the graph itself (not just numbering or names) to follow the suggestion"
            )
            return Feedback((Problem("duplicate", message),), (cell,), reports, report.hash, known)
        return Feedback((), (cell,), reports, report.hash)

    def check_stem_downsample(
        self, blocks: Sequence[ExtractedBlock], stem_scale: int | None, cell_name: str
    ) -> Feedback:
        """Verify a stem and a downsample block (found by name, else by position), named
        ``<cell>_stem`` and ``<cell>_downsample`` after the cell they go with."""
        stage = "stem and downsample blocks"
        if not blocks:
            return Feedback((format_problem(stage),))
        stems = [b for b in blocks if "stem" in b.name.lower()]
        downs = [b for b in blocks if "downsample" in b.name.lower()]
        rest = [b for b in blocks if b not in stems and b not in downs]
        stem = stems[0] if stems else (rest.pop(0) if rest else None)
        down = downs[0] if downs else (rest.pop(0) if rest else None)
        problems: list[Problem] = []
        reports: list[BlockReport] = []
        for block, role in ((stem, Role.STEM), (down, Role.DOWNSAMPLE)):
            if block is None:
                problems.append(
                    Problem(
                        "format",
                        f"[format] the answer has no {role.value} block; write both the stem and the downsample block",
                    )
                )
                continue
            named = block.renamed(f"{cell_name}_{role.value}")
            found, report = self._verify(named, role, stem_scale if role is Role.STEM else None)
            problems.extend(found)
            if report is not None:
                reports.append(report)
        chosen = tuple(b for b in (stem, down) if b is not None)
        return Feedback(tuple(problems), chosen, tuple(reports))

    # -- design experience
    def tips_for(self, suggestion: str) -> list[Tip]:
        if self.experience is None or self.tips_per_prompt <= 0:
            return []
        return self.experience.similar(suggestion, k=self.tips_per_prompt, kind="development")

    def learn_from_design(
        self, records: Sequence[DesignRecord], architecture: str | None
    ) -> list[Tip]:
        """One reflection call per stage record; the tips go to the experience pool."""
        if self.experience is None:
            return []
        learned: list[Tip] = []
        for record in records:
            categories = sorted({CATEGORY_OF_CODE.get(p.code, GENERAL) for p in record.problems})
            response = self._ask_or_skip(
                task=tasks.REFLECT_FAILURE,
                role=tasks.REFLECTOR,
                messages=[
                    self.prompts.system(tasks.REFLECTOR),
                    self.prompts.user(
                        "failure_reflection",
                        kind=record.kind,
                        suggestion=record.suggestion,
                        stage=record.stage,
                        record=record.describe(),
                    ),
                ],
                fields={
                    "suggestion": record.suggestion,
                    "stage": record.stage,
                    "kind": record.kind,
                    "codes": [p.code for p in record.problems],
                    "categories": categories,
                    "record": record.describe(),
                    "change": record.change,
                },
                architecture=architecture,
            )
            if response is None:
                continue
            codes = tuple(dict.fromkeys(p.code for p in record.problems))
            for text in parse_tips(response.text):
                learned.append(
                    Tip(
                        text,
                        record.suggestion,
                        record.category,
                        "development",
                        record.kind,
                        "reflector",
                        codes,
                    )
                )
        added = self.experience.add(learned)
        log.debug("Reflector learned %d tips (%d new)", len(learned), added)
        return learned

    def learn_from_accuracy_drop(
        self,
        *,
        suggestion: str,
        parent_cell: str,
        child_cell: str,
        parent_acc: float,
        child_acc: float,
        change: str,
        architecture: str | None,
    ) -> list[Tip]:
        if self.experience is None:
            return []
        response = self._ask_or_skip(
            task=tasks.REFLECT_ACCURACY_DROP,
            role=tasks.REFLECTOR,
            messages=[
                self.prompts.system(tasks.REFLECTOR),
                self.prompts.user(
                    "accuracy_drop_reflection",
                    suggestion=suggestion,
                    parent_acc=f"{parent_acc:.2f}",
                    child_acc=f"{child_acc:.2f}",
                    change=change,
                    parent_cell=parent_cell.strip(),
                    child_cell=child_cell.strip(),
                ),
            ],
            fields={
                "suggestion": suggestion,
                "parent_acc": parent_acc,
                "child_acc": child_acc,
                "change": change,
                "parent_cell": parent_cell,
                "child_cell": child_cell,
            },
            architecture=architecture,
        )
        if response is None:
            return []
        tips = [
            Tip(text, suggestion, ACCURACY_DROP, "research", "accuracy-drop", "reflector")
            for text in parse_tips(response.text, limit=2)
        ]
        self.experience.add(tips)
        return tips

    def _ask_or_skip(self, **request: Any) -> Any:
        """A reflection is worth having, not worth failing a design for: a failed call
        (other than a spent budget) is logged and the tips of that record are skipped."""
        try:
            return self.caller.ask(**request)
        except BudgetExhausted:
            raise
        except LLMError as err:
            log.warning("Reflector: %s call failed (%s); no tips from it", request.get("task"), err)
            return None

    def research_tips(
        self, texts: Sequence[str], limit: int = 5, min_score: float = 0.2
    ) -> list[Tip]:
        """Accuracy-drop tips learnt on suggestions similar to any of ``texts`` (best per text)."""
        if self.experience is None:
            return []
        tips: list[Tip] = []
        seen: set[str] = set()
        for text in texts:
            for tip in self.experience.similar(text, k=1, kind="research", min_score=min_score):
                if tip.text not in seen:
                    seen.add(tip.text)
                    tips.append(tip)
            if len(tips) >= limit:
                break
        return tips
