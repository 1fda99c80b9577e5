"""Training: the NAS-Bench-201 protocol trainer, its checkpoints, and the typed training job.

- :mod:`~nader.training.config`: :class:`TrainConfig` and :class:`TrainResult` (no torch).
- :mod:`~nader.training.job`: :class:`TrainingJob` / :class:`JobOutcome`, what crosses to a
  worker and back (no torch).
- :mod:`~nader.training.loop`, :mod:`~nader.training.checkpoint`,
  :mod:`~nader.training.augment`: the loop on the device (torch).
- :mod:`~nader.training.worker`: one job in a worker: compile, train, report (torch).
"""
