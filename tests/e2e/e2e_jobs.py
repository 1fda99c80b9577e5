"""Job functions for end-to-end tests (importable by spawned worker processes)."""

from __future__ import annotations

from nader.training.job import JobOutcome, TrainingJob
from nader.training.worker import train_job


def faulty_training(job: TrainingJob) -> JobOutcome:
    """Architecture 1 raises in training; architecture 2 exhausts its memory; others train."""
    if job.arch_id == "1":
        raise RuntimeError("loss exploded in the first step")
    if job.arch_id == "2":
        hoard = [bytearray(256 * 1024 * 1024) for _ in range(64)]  # 16 GiB: beyond the limit
        return JobOutcome(arch_id=job.arch_id, status="trained", valid_acc=float(len(hoard)))
    return train_job(job)
