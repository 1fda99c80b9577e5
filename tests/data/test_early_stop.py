"""Early termination: the rules as pure functions, then the median rule on real training."""

from __future__ import annotations

from pathlib import Path

import pytest

from nader.training.config import EarlyStopConfig, TrainConfig
from nader.training.early_stop import asha_rungs, early_stop_verdict
from nader.training.job import DatasetRef, TrainingJob
from nader.training.worker import train_job

REPO = Path(__file__).resolve().parents[2]
PEERS = [[0.3, 0.5, 0.6, 0.7], [0.2, 0.4, 0.5, 0.6], [0.25, 0.45, 0.55, 0.65]]


def test_the_median_rule_stops_below_the_median_of_peers_at_the_same_epoch() -> None:
    rule = EarlyStopConfig(rule="median", min_epochs=2, min_references=3)
    assert early_stop_verdict(rule, [0.1], PEERS) is None  # before min_epochs
    verdict = early_stop_verdict(rule, [0.1, 0.2], PEERS)
    assert verdict is not None and verdict.startswith("median rule at epoch 2")
    assert early_stop_verdict(rule, [0.1, 0.46], PEERS) is None  # at or above the median (0.45)
    assert early_stop_verdict(rule, [0.1, 0.2], PEERS[:2]) is None  # too few peers
    assert early_stop_verdict(rule, [0.1, 0.2, 0.3, 0.3, 0.3], PEERS) is None  # none got that far
    lenient = rule.model_copy(update={"margin": 0.3})
    assert early_stop_verdict(lenient, [0.1, 0.2], PEERS) is None
    assert early_stop_verdict(EarlyStopConfig(), [0.0, 0.0], PEERS) is None  # rule "none"


def test_successive_halving_decides_on_rungs_only_and_keeps_the_top_third() -> None:
    rule = EarlyStopConfig(rule="asha", min_epochs=1, eta=3, min_references=3)
    assert asha_rungs(rule, 10) == [1, 3, 9]
    assert early_stop_verdict(rule, [0.1, 0.1], PEERS) is None  # epoch 2 is no rung
    verdict = early_stop_verdict(rule, [0.28], PEERS)  # 4 values, keep the best 1 (0.3)
    assert verdict is not None and verdict.startswith("asha rung at epoch 1")
    assert early_stop_verdict(rule, [0.31], PEERS) is None
    assert early_stop_verdict(rule, [0.1, 0.1, 0.65], PEERS) is None  # best at rung 3


def _job(lr: float, seed: int, references: list[list[float | None]]) -> TrainingJob:
    return TrainingJob(
        arch_id=f"lr{lr}-{seed}",
        network_text=(REPO / "examples" / "resnet_basic.txt").read_text(),
        skeleton="nader",
        width=4,
        dataset=DatasetRef(name="digits"),
        train=TrainConfig(
            epochs=5,
            batch_size=64,
            lr=lr,
            seed=seed,
            device="cpu",
            patience_epochs=0,
            max_train_batches=8,
            max_eval_batches=2,
            early_stop=EarlyStopConfig(rule="median", min_epochs=2, min_references=2, margin=0.2),
        ),
        threads=1,
        reference_curves=references,
    )


@pytest.mark.slow
def test_the_median_rule_stops_a_bad_candidate_early_and_leaves_a_good_one_alone() -> None:
    references = []
    for seed in (777, 888):
        peer = train_job(_job(0.05, seed, []))
        assert peer.status == "trained"
        references.append([row.valid_acc for row in peer.history])
    good = train_job(_job(0.05, 999, references))
    bad = train_job(_job(5.0, 999, references))  # a learning rate far too high: stays at chance
    assert good.status == "trained" and good.epochs == 5 and len(good.history) == 5
    assert bad.status == "stopped_early" and bad.epochs is not None and bad.epochs < 5
    assert (bad.error or "").startswith("median rule at epoch")
    assert len(bad.history) == bad.epochs and bad.valid_acc is not None  # partial metrics kept
    assert bad.test_acc is None  # an unfinished candidate is never tested
