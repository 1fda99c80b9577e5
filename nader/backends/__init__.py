"""Backends: everything that turns verified IR into running torch code (lowering, width search,
export) and trains it (:mod:`nader.backends.train`). Modules import torch; ``nader.ir`` does not."""
