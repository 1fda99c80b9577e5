"""The session's pre-screen scorer: a zero-cost proxy of a candidate network, in the driver.

With ``agents.prescreen_k`` > 1 the design team asks this scorer to rank the k cells the
Modifier designed for one proposal (:mod:`nader.agents.prescreen`). Each candidate is sized
like every architecture of the run (the same :class:`~nader.session.sizing.Sizer`), built
with the run's training seed and scored on the first training images, exactly as a worker
scores the network it is about to train (:func:`nader.training.worker.train_job`), but without
the fvcore check: only the ranking is needed here, and the chosen network is checked when it
trains. Scoring runs in the driver process with the worker's thread share.
"""

from __future__ import annotations

import torch

from nader.backends.fx_build import build_network
from nader.backends.plan import NetworkPlanner
from nader.data.base import DatasetSplits
from nader.ir.graph import Network
from nader.plugins.registries import Runtime
from nader.session.config import SessionConfig
from nader.session.jobs import worker_threads
from nader.session.sizing import Sizer, session_dataset
from nader.training.loop import build_seeded
from nader.training.proxies import proxy_score
from nader.training.worker import proxy_inputs


class ProxyScreen:
    """``score(network) -> float``: the configured proxy of ``network`` at its run width."""

    def __init__(
        self,
        config: SessionConfig,
        runtime: Runtime,
        sizer: Sizer,
        data: DatasetSplits | None = None,
    ) -> None:
        """``data``: the run's dataset when the caller loaded it already (it is not kept)."""
        self.proxy = config.agents.prescreen_proxy
        self.seed = config.train.seed
        self.runtime = runtime
        self.sizer = sizer
        data = data or session_dataset(config, runtime)
        self.inputs = proxy_inputs(data)  # 64 images: the dataset itself is not kept
        torch.set_num_threads(worker_threads(config))

    def __call__(self, network: Network) -> float:
        """The proxy score (higher is better).

        :raises NaderError: no width fits the budget, or the network does not fit the skeleton.
        :raises RuntimeError: torch failed to run the module.
        """
        width = self.sizer.size(network).width
        planner = NetworkPlanner(
            network, self.runtime.operators, self.sizer.skeleton, self.sizer.preset
        )
        plan = planner.plan(width)
        model = build_seeded(lambda: build_network(plan, self.runtime.lowerings), self.seed)
        return proxy_score(self.proxy, model, self.inputs, seed=self.seed)
