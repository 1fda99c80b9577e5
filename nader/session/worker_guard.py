"""The job a session's workers run: training, under its architecture's training lock.

The lock (``RUN_DIR/arch/<id>/.training.lock``, holding the worker's PID) lives exactly as long
as the worker, whoever kills whom: the kernel drops it when the worker dies. A resume checks it
(:func:`~nader.session.lock.check_no_orphan_training`) before it trains anything, so a worker
that outlived a killed driver is never joined by a second one training the same architecture.
Module-level, so spawned workers and Ray import it by name.
"""

from __future__ import annotations

from nader.session.lock import TRAINING_LOCK_NAME, RunLock
from nader.training.job import JobOutcome, TrainingJob


def train_job_locked(job: TrainingJob) -> JobOutcome:
    """:func:`nader.training.worker.train_job`, holding the architecture's training lock."""
    from nader.training.worker import train_job  # imports torch: only in the worker

    if job.checkpoint is None:
        return train_job(job)
    with RunLock(job.checkpoint.parent, TRAINING_LOCK_NAME):
        return train_job(job)
