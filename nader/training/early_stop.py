"""Early termination against the candidates already trained: the median stopping rule and
successive halving (ASHA-style rungs).

A rule reads the candidate's validation curve so far and the *reference curves* (validation
accuracy per epoch of finished candidates, sent with the job) and says whether to stop, and why.
It is a pure function of numbers (no torch), so the session, a worker and a benchmark can all
apply it and a test can state exactly when it fires.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from nader.training.config import EarlyStopConfig

#: A validation curve: accuracy per epoch, None on epochs without validation.
Curve = Sequence[float | None]


def best_until(curve: Curve, epochs: int) -> float | None:
    """The best validation accuracy measured in the first ``epochs`` epochs (None: none measured)."""
    measured = [acc for acc in curve[:epochs] if acc is not None]
    return max(measured) if measured else None


def asha_rungs(config: EarlyStopConfig, epochs: int) -> list[int]:
    """The epochs at which successive halving decides: ``min_epochs * eta**k`` below ``epochs``."""
    rungs: list[int] = []
    rung = config.min_epochs
    while rung < epochs:
        rungs.append(rung)
        rung *= config.eta
    return rungs


def early_stop_verdict(
    config: EarlyStopConfig, curve: Curve, references: Sequence[Curve]
) -> str | None:
    """Why the candidate with validation ``curve`` should stop now, or None to go on.

    Only references that reached the candidate's epoch count; with fewer than
    ``config.min_references`` of them no rule fires (there is nothing to compare against).
    """
    epoch = len(curve)
    if config.rule == "none" or epoch < config.min_epochs:
        return None
    mine = best_until(curve, epoch)
    if mine is None:
        return None
    peers = [best_until(ref, epoch) for ref in references if len(ref) >= epoch]
    values = [value for value in peers if value is not None]
    if len(values) < config.min_references:
        return None
    if config.rule == "median":
        median = statistics.median(values)
        if mine < median - config.margin:
            return (
                f"median rule at epoch {epoch}: best validation accuracy {mine:.4f} is below "
                f"the median {median:.4f} of {len(values)} trained candidates"
            )
        return None
    # asha: decide only on a rung; keep the top 1/eta of the references and the candidate
    rung_epochs = [config.min_epochs * config.eta**k for k in range(32)]
    if epoch not in rung_epochs:
        return None
    ranked = sorted([*values, mine], reverse=True)
    keep = max(1, len(ranked) // config.eta)
    threshold = ranked[keep - 1]
    if mine < threshold:
        return (
            f"asha rung at epoch {epoch}: validation accuracy {mine:.4f} is outside the top "
            f"1/{config.eta} ({keep} of {len(ranked)}, threshold {threshold:.4f})"
        )
    return None
