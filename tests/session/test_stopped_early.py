"""A candidate stopped by early termination: recorded with its epoch and rule, its partial
metrics kept, and shown in the tree like a trained one with a flag (also after a resume)."""

from __future__ import annotations

import random
from pathlib import Path

from nader.agents.policies import NaderPolicy
from nader.llm.usage import UsageLedger
from nader.session.jobs import reference_curves
from nader.session.progress import ProgressState, tally
from nader.session.records import RunRecords
from nader.session.store import Architecture, RunStore
from nader.training.job import EpochHistory, JobOutcome


def _rows(*accs: float) -> list[EpochHistory]:
    return [
        EpochHistory(
            epoch=i + 1,
            train_loss=2.0,
            train_acc=0.1,
            valid_acc=acc,
            lr=0.1,
            images_per_second=100.0,
            seconds=1.0,
        )
        for i, acc in enumerate(accs)
    ]


def test_a_stopped_candidate_keeps_its_partial_metrics_and_a_flag_in_the_tree(
    tmp_path: Path,
) -> None:
    store = RunStore(tmp_path)
    records = RunRecords(store)
    records.add(Architecture("0", 0, None, None, "training"), None)
    records.add(Architecture("1", 1, "0", "wider", "training"), None)
    records.record_training(
        JobOutcome(
            arch_id="0", status="trained", valid_acc=0.6, epochs=3, history=_rows(0.3, 0.5, 0.6)
        )
    )
    stopped = records.record_training(
        JobOutcome(
            arch_id="1",
            status="stopped_early",
            valid_acc=0.12,
            epochs=2,
            error="median rule at epoch 2: best validation accuracy 0.1200 is below ...",
            history=_rows(0.1, 0.12),
            proxies={"naswot": 10.0, "synflow": 2.0},
        )
    )
    assert stopped.status == "stopped_early" and stopped.valid_acc == 0.12
    assert stopped.extra["stopped_early"] == {"epoch": 2, "rule": "median"}
    assert [row["valid_acc"] for row in stopped.extra["history"]] == [0.1, 0.12]
    assert stopped.extra["proxies"] == {"naswot": 10.0, "synflow": 2.0}
    node = records.tree[1]
    assert node.trained and node.notes["stopped_early"] == {"epoch": 2, "rule": "median"}
    assert "stopped_early" not in records.tree[0].notes
    assert reference_curves(store) == [[0.3, 0.5, 0.6], [0.1, 0.12]]
    state = tally(ProgressState(target=2), store.all(), UsageLedger())
    assert (state.done, state.stopped_early, state.failed) == (1, 1, 0)
    assert [e["data"]["epoch"] for e in store.events("epoch") if e["data"]["id"] == "1"] == [1, 2]
    again = RunRecords(store)  # a resumed run rebuilds the tree from the store
    assert again.tree[1].notes["stopped_early"]["rule"] == "median"
    # the policy sees the flag: the session's policy never expands the stopped candidate
    assert again.tree[1].stopped_early and not again.tree[0].stopped_early
    policy = NaderPolicy()
    assert {policy.select(again.tree, random.Random(seed)) for seed in range(5)} == {0}
    store.close()
