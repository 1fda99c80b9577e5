"""Job functions for executor tests; importable by spawned worker processes.

Each reads its one parameter from the job's ``width`` and reports through the typed outcome; the
echo job writes its process id to the job's checkpoint path, as a real job writes checkpoints.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from nader.training.config import TrainConfig
from nader.training.job import DatasetRef, JobOutcome, TrainingJob


def make_job(arch_id: str, width: int = 1, checkpoint: Path | None = None) -> TrainingJob:
    return TrainingJob(
        arch_id=arch_id,
        network_text="##Cell##\n0:input\n1:output\n0->1\n",
        skeleton="nader",
        width=width,
        dataset=DatasetRef(name="synthetic"),
        train=TrainConfig(epochs=1),
        checkpoint=checkpoint,
    )


def echo_job(job: TrainingJob) -> JobOutcome:
    if job.checkpoint is not None:
        job.checkpoint.write_text(str(os.getpid()))
    acc = job.width / 10
    return JobOutcome(
        arch_id=job.arch_id, status="trained", valid_acc=acc, test_acc=acc / 2, epochs=1
    )


def failing_job(job: TrainingJob) -> JobOutcome:
    raise RuntimeError("the network exploded")


def memory_hog_job(job: TrainingJob) -> JobOutcome:
    blob = bytearray(job.width * 1024 * 1024)  # MiB beyond the worker's address-space limit
    return JobOutcome(arch_id=job.arch_id, status="trained", valid_acc=float(len(blob)))


def sleepy_job(job: TrainingJob) -> JobOutcome:
    time.sleep(job.width)
    return JobOutcome(arch_id=job.arch_id, status="trained", valid_acc=0.5)


def hard_crash_job(job: TrainingJob) -> JobOutcome:
    os._exit(3)


def other_arch_job(job: TrainingJob) -> JobOutcome:
    return JobOutcome(arch_id="someone-else", status="trained", valid_acc=0.9)


def instant_job(job: TrainingJob) -> JobOutcome:
    """Trains in no time: accuracy grows with the architecture's number (sessions' budget tests)."""
    acc = min(0.1 + int(job.arch_id) / 100, 1.0)
    return JobOutcome(arch_id=job.arch_id, status="trained", valid_acc=acc, test_acc=acc, epochs=1)


def stalls_from_3_job(job: TrainingJob) -> JobOutcome:
    """Architectures 0-2 train at once; 3 and later never finish (a run stopped mid-training)."""
    if int(job.arch_id) >= 3:
        time.sleep(600)
    return instant_job(job)


def pid_job(job: TrainingJob) -> JobOutcome:
    """Reports the worker's process id as its accuracy (a warm pool repeats it)."""
    return JobOutcome(arch_id=job.arch_id, status="trained", valid_acc=float(os.getpid()))


def crash_once_job(job: TrainingJob) -> JobOutcome:
    """Architecture ``crash`` kills its worker; others report their process id."""
    if job.arch_id == "crash":
        os._exit(7)
    if job.arch_id == "hang":
        time.sleep(600)
    return pid_job(job)
