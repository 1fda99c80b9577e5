"""The macro-task judge: did the modified cell implement an open-ended suggestion?

A macro suggestion ("add spatial attention") has no single checkable outcome, so a model judges
it, through the configured provider, with a fixed rubric: the prompt below never changes between
runs, so verdicts of different models are comparable and a replayed bench gets the same request.
The answer is parsed strictly: a line ``VERDICT: YES`` or ``VERDICT: NO``; anything else is
"unparsable" and counts as not judged (never as a pass). The judge's text is data: it is only
searched for that line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from nader.llm.base import LLMError, LLMRequest, Message, ReplayMiss
from nader.llm.usage import AccountedLLM, UsageEntry

JUDGE_TASK = "judge_design"
JUDGE_ROLE = "judge"

JUDGE_SYSTEM = (
    "You review modifications of neural network blocks written in a small graph text format "
    "(numbered nodes 'N:Op(params)' and edges 'A->B'). You are strict and brief."
)

JUDGE_RUBRIC = """\
Rubric: answer YES only if all of these hold, otherwise NO.
1. The modified block contains the mechanism the suggestion names (for example: attention has a
   gating or weighting path that multiplies features; squeeze-and-excitation pools globally,
   transforms, applies a sigmoid and rescales channels; a residual connection adds an earlier
   tensor to a later one; dilation appears as a dilation parameter above 1).
2. The change is where the suggestion asks for it, when it says where.
3. The rest of the block is not rewritten beyond what the suggestion needs.
Do not judge whether the idea improves accuracy, only whether it was implemented."""

JUDGE_TEMPLATE = """\
Suggestion:
{suggestion}

Original block:
{original}

Modified block:
{modified}

{rubric}

Reply with one line `VERDICT: YES` or `VERDICT: NO`, then one sentence saying why."""

_VERDICT = re.compile(r"^\W*verdict\W*[:=]?\W*(yes|no)\b", re.IGNORECASE | re.MULTILINE)

Verdict = Literal["yes", "no", "unparsable", "error", "not judged"]


@dataclass(frozen=True)
class Judgement:
    """The judge's verdict, its reason (the answer's text) and what the call cost."""

    verdict: Verdict
    reason: str
    usage: tuple[UsageEntry, ...] = ()

    @property
    def passed(self) -> bool | None:
        """Q for a macro task: True/False, or None when the judge gave no usable verdict."""
        return {"yes": True, "no": False}.get(self.verdict)


def judge_messages(suggestion: str, original: str, modified: str) -> tuple[Message, ...]:
    """The fixed judge prompt for one task (system + one user turn)."""
    user = JUDGE_TEMPLATE.format(
        suggestion=suggestion.strip(),
        original=original.strip(),
        modified=modified.strip(),
        rubric=JUDGE_RUBRIC,
    )
    return (Message("system", JUDGE_SYSTEM), Message("user", user))


def parse_verdict(answer: str) -> Verdict:
    """``yes``/``no`` from the first ``VERDICT:`` line; ``unparsable`` when there is none or
    when the answer gives both (a hedge is not a verdict)."""
    found = {match.lower() for match in _VERDICT.findall(answer)}
    if len(found) != 1:
        return "unparsable"
    return "yes" if "yes" in found else "no"


def judge_design(
    llm: AccountedLLM,
    *,
    suggestion: str,
    original: str,
    modified: str,
    architecture: str | None = None,
) -> Judgement:
    """Ask the judge once (the client retries transport faults); a failed call is ``error``."""
    mark = llm.usage.mark()
    request = LLMRequest(
        task=JUDGE_TASK,
        messages=judge_messages(suggestion, original, modified),
        fields={"suggestion": suggestion, "original": original, "modified": modified},
        role=JUDGE_ROLE,
        architecture=architecture,
        temperature=0.0,
        max_tokens=200,
    )
    try:
        response = llm.complete(request)
    except ReplayMiss as err:
        # a replayed bench whose recording holds no judge call (an offline one): not judged
        return Judgement("not judged", f"no recorded judge answer: {err}", llm.usage.since(mark))
    except LLMError as err:
        return Judgement("error", f"{type(err).__name__}: {err}", llm.usage.since(mark))
    return Judgement(parse_verdict(response.text), response.text.strip(), llm.usage.since(mark))
