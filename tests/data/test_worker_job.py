"""One job in a worker, run in this process: threads, the epoch log, proxies, phases."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from nader.training.config import TrainConfig
from nader.training.job import DatasetRef, EpochHistory, TrainingJob
from nader.training.worker import train_job

REPO = Path(__file__).resolve().parents[2]


def test_a_job_sets_its_threads_logs_each_epoch_and_scores_proxies(tmp_path: Path) -> None:
    torch.set_num_threads(2)  # what the worker had before the job said otherwise
    log = tmp_path / "epochs.jsonl"
    job = TrainingJob(
        arch_id="0",
        network_text=(REPO / "examples" / "resnet_basic.txt").read_text(),
        skeleton="nader",
        width=4,
        dataset=DatasetRef(name="digits"),
        train=TrainConfig(
            epochs=2,
            batch_size=32,
            device="cpu",
            patience_epochs=0,
            max_train_batches=2,
            max_eval_batches=1,
        ),
        threads=1,
        epoch_log=log,
    )
    outcome = train_job(job)
    assert torch.get_num_threads() == 1
    assert outcome.status == "trained"
    lines = [EpochHistory.model_validate_json(line) for line in log.read_text().splitlines()]
    assert [row.epoch for row in lines] == [1, 2] and lines == outcome.history
    assert set(json.loads(log.read_text().splitlines()[0])) == set(EpochHistory.model_fields)
    assert set(outcome.proxies) == {"naswot", "synflow"}
    assert set(outcome.phases) == {"dataset", "compile", "proxies", "training"}
