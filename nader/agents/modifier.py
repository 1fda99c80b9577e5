"""The Modifier: a multi-turn dialogue that rewrites the cell, then its stem and downsample.

Turn 1 asks for the modified cell; each answer is pulled out of its prose and fences
(:mod:`nader.agents.extraction`) and handed to a *check* (the Reflector); when the check fails,
the exact problems go back in an error-fix turn, up to ``max_try`` turns per stage. Once the cell
passes, the same conversation continues with the stem and downsample blocks, so the model writes
them knowing the cell it just made. With immediate feedback switched off (the paper's ablation)
only an answer with no block at all is asked again; verifier errors end the stage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nader.agents import tasks
from nader.agents.calls import AgentCaller
from nader.agents.experience import Attempt, Problem
from nader.agents.extraction import ExtractedBlock, extract_blocks
from nader.agents.prompts import PromptBook
from nader.agents.reflector import Feedback
from nader.llm.base import BudgetExhausted, LLMError, Message

Check = Callable[[Sequence[ExtractedBlock]], Feedback]

CELL_STAGE = "cell"
STEM_DOWNSAMPLE_STAGE = "stem and downsample blocks"


@dataclass(frozen=True)
class StageResult:
    """How one stage of the dialogue ended."""

    stage: str
    feedback: Feedback
    attempts: tuple[Attempt, ...]
    messages: tuple[Message, ...]

    @property
    def ok(self) -> bool:
        return self.feedback.ok

    @property
    def last_answer(self) -> str:
        return self.attempts[-1].answer if self.attempts else ""


class Modifier:
    def __init__(
        self, caller: AgentCaller, prompts: PromptBook, *, max_try: int, immediate_feedback: bool
    ) -> None:
        self.caller = caller
        self.prompts = prompts
        self.max_try = max_try
        self.immediate_feedback = immediate_feedback

    def converse(
        self,
        *,
        stage: str,
        task: str,
        messages: Sequence[Message],
        fields: Mapping[str, Any],
        architecture: str | None,
        default_names: Sequence[str],
        check: Check,
    ) -> StageResult:
        """Ask, extract, check; send the problems back until the check passes or tries run out."""
        history = list(messages)
        attempts: list[Attempt] = []
        feedback = Feedback()
        for turn in range(1, self.max_try + 1):
            call_fields: dict[str, Any] = {**fields, "stage": stage, "attempt": turn - 1}
            if turn > 1:
                call_fields.update(
                    errors=feedback.text,
                    codes=[p.code for p in feedback.problems],
                    previous_answer=attempts[-1].answer,
                )
            try:
                response = self.caller.ask(
                    task=task if turn == 1 else tasks.FIX_BLOCK,
                    role=tasks.MODIFIER,
                    messages=history,
                    fields=call_fields,
                    architecture=architecture,
                )
            except BudgetExhausted:
                raise
            except LLMError as err:
                # One bad response costs one turn, not the design: ask again on the next turn.
                problem = Problem(
                    "llm-error", f"the model call failed: {type(err).__name__}: {err}"
                )
                feedback = Feedback(problems=(problem,))
                attempts.append(Attempt(stage, turn, "", (problem,)))
                continue
            history.append(Message("assistant", response.text))
            feedback = check(extract_blocks(response.text, default_names))
            attempts.append(Attempt(stage, turn, response.text, feedback.problems))
            if feedback.ok:
                break
            if not self.immediate_feedback and not feedback.format_only:
                break
            if turn < self.max_try:
                history.append(self.prompts.user("error_fix", stage=stage, errors=feedback.text))
        return StageResult(stage, feedback, tuple(attempts), tuple(history))

    def modify_cell(
        self,
        *,
        cell: str,
        inspiration: str,
        tips: Sequence[str],
        architecture: str | None,
        default_name: str,
        check: Check,
        variant: tuple[int, int] = (0, 1),
    ) -> StageResult:
        """The cell stage. ``variant`` (i, k): this is candidate i of k designed for the same
        suggestion (a pre-screen); candidates after the first are asked for another realisation
        of it, and the first asks exactly what a design without a pre-screen asks."""
        candidate, candidates = variant
        tips_text = ""
        if tips:
            tips_text = "Tips from earlier designs:\n" + "\n".join(f"- {tip}" for tip in tips)
        if candidate > 0:
            tips_text += ("\n" if tips_text else "") + (
                f"This is variant {candidate + 1} of {candidates} for this suggestion: realise it "
                "differently from the most obvious way (another place in the cell, or another "
                "form of the same idea)."
            )
        fields: dict[str, Any] = {"inspiration": inspiration, "cell": cell, "tips": list(tips)}
        if candidates > 1:
            fields.update(candidate=candidate, candidates=candidates)
        messages = [
            self.prompts.system(tasks.MODIFIER),
            self.prompts.user(
                "block_modification", inspiration=inspiration, tips=tips_text, cell=cell.strip()
            ),
        ]
        return self.converse(
            stage=CELL_STAGE,
            task=tasks.MODIFY_BLOCK,
            messages=messages,
            fields=fields,
            architecture=architecture,
            default_names=(default_name,),
            check=check,
        )

    def write_stem_downsample(
        self,
        *,
        cell_stage: StageResult,
        inspiration: str,
        name: str,
        stem: str,
        downsample: str,
        stem_scale: int | None,
        architecture: str | None,
        check: Check,
    ) -> StageResult:
        scale = stem_scale or 1
        stem_shape = "(B, dim, H, W)" if scale == 1 else f"(B, dim, H/{scale}, W/{scale})"
        new_cell = cell_stage.feedback.blocks[0].text if cell_stage.feedback.blocks else ""
        messages = [
            *cell_stage.messages,
            self.prompts.user(
                "stem_downsample",
                stem_shape=stem_shape,
                stem=stem.strip(),
                downsample=downsample.strip(),
                name=name,
            ),
        ]
        return self.converse(
            stage=STEM_DOWNSAMPLE_STAGE,
            task=tasks.WRITE_STEM_DOWNSAMPLE,
            messages=messages,
            fields={
                "inspiration": inspiration,
                "new_cell": new_cell,
                "cell_answer": cell_stage.last_answer,
                "stem": stem,
                "downsample": downsample,
                "name": name,
                "stem_scale": scale,
            },
            architecture=architecture,
            default_names=(f"{name}_stem", f"{name}_downsample"),
            check=check,
        )
