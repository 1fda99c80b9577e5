"""Pre-screening: of k cells the Modifier designed for one proposal, keep the best by a
zero-cost proxy, so that only one of them goes on to the stem/downsample dialogue and training.

The agents do not build or score modules themselves (that is the backends' and training's
work, layers above): the session injects a :data:`ProxyScorer`, a function from a verified
network to a score where higher is better. Each candidate cell is scored inside its parent's
stem and downsample (:func:`~nader.agents.blocks.assemble_network`), the network it would train
in if its own stem and downsample never verified. Candidates that are isomorphic to an earlier
one of the same proposal are scored once; a candidate whose scoring fails is ranked last with
its error kept. Every candidate — chosen or not, valid or not — is kept in the outcome, so a
screened-out cell is never lost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from nader.agents.blocks import NetworkParts, assemble_network
from nader.agents.modifier import StageResult
from nader.errors import NaderError
from nader.ir.graph import Block, Network

#: a verified network → its proxy score (higher is better); raises for a network it cannot score
ProxyScorer = Callable[[Network], float]


@dataclass(frozen=True)
class PrescreenCandidate:
    """One of the k cells designed for a proposal, and how the pre-screen saw it."""

    index: int
    #: "new" (verified, scored or not), "duplicate" (of a known design or of an earlier
    #: candidate) or "failed" (never verified)
    status: str
    hash: str | None = None
    cell_text: str | None = None
    score: float | None = None
    error: str | None = None
    chosen: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "status": self.status,
            "hash": self.hash,
            "cell_text": self.cell_text,
            "score": self.score,
            "error": self.error,
            "chosen": self.chosen,
        }


def screen(
    stages: Sequence[StageResult],
    parent: NetworkParts,
    scorer: ProxyScorer,
    cell_text: Callable[[StageResult], str],
) -> tuple[int, tuple[PrescreenCandidate, ...]]:
    """The index of the stage to go on with, and every candidate as the screen saw it.

    The best-scoring verified, distinct cell wins (ties: the earlier candidate); when none
    could be scored, the first verified one; when none verified, the first stage (its problems
    then say why the design failed, as without a pre-screen).
    """
    candidates: list[PrescreenCandidate] = []
    first_of_hash: dict[str, int] = {}
    for index, stage in enumerate(stages):
        feedback = stage.feedback
        if not stage.ok:
            status = "duplicate" if feedback.duplicate_of is not None else "failed"
            error = feedback.text or "no answer"
            if feedback.duplicate_of is not None:
                error = f"isomorphic to architecture {feedback.duplicate_of}"
            candidates.append(PrescreenCandidate(index, status, feedback.hash, error=error))
            continue
        text = cell_text(stage)
        if feedback.hash is not None and feedback.hash in first_of_hash:
            twin = first_of_hash[feedback.hash]
            candidates.append(
                PrescreenCandidate(
                    index, "duplicate", feedback.hash, text, error=f"isomorphic to candidate {twin}"
                )
            )
            continue
        if feedback.hash is not None:
            first_of_hash[feedback.hash] = index
        score, why = _score(scorer, feedback.verified[0], parent)
        candidates.append(PrescreenCandidate(index, "new", feedback.hash, text, score, why))
    scored = [c for c in candidates if c.score is not None]
    verified = [c for c in candidates if c.status == "new"]
    if scored:
        winner = max(scored, key=lambda c: (c.score, -c.index)).index
    elif verified:
        winner = verified[0].index
    else:
        winner = 0
    return winner, tuple(replace(c, chosen=c.index == winner) for c in candidates)


def _score(
    scorer: ProxyScorer, cell: Block, parent: NetworkParts
) -> tuple[float | None, str | None]:
    """The proxy score of ``cell`` in its parent's stem and downsample, or why there is none.

    Scoring runs a module the model designed; a failure there (a shape the width search cannot
    meet, a numeric error in torch) costs this candidate its rank, not the design.
    """
    network = assemble_network(cell, parent.stem, parent.downsample)
    try:
        score = float(scorer(network))
    except (NaderError, RuntimeError, ValueError, ArithmeticError) as err:
        return None, f"not scored: {type(err).__name__}: {err}"
    if not math.isfinite(score):
        return None, f"not scored: the proxy gave {score}"
    return score, None
