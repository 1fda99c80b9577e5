"""NAS baselines as a provider and a policy, so they run inside the unchanged session loop.

A search strategy is a session whose Modifier is answered by some provider and whose Proposer
picks parents with some policy. The agents are one strategy (any LLM provider, the ``nader``
policy); the NAS-Bench-201 baselines are two more:

- ``random``: provider ``nb201-random`` answers every cell request with a uniform arch string
  (the parent is ignored), policy ``random``;
- ``rea``: policy ``rea`` runs regularized evolution's tournament over the aging population (the
  last ``population_size`` trained architectures; ``sample_size`` drawn; the best validation
  accuracy wins) and provider ``nb201-rea`` mutates the winner's cell on one edge; the first
  ``population_size`` architectures (the base included) are uniform samples, as REA starts.

Because the session loop is reused as it is, every strategy gets the same width search, budget,
skeleton, training protocol, duplicate check (isomorphic cells are never trained twice), run
directory and resume. The providers answer the stem/downsample request with the parent's blocks
renamed, so the network stays NAS-Bench-201's skeleton. They spend no tokens (usage 0).
Randomness is seeded per request from (``llm.seed``, architecture id, attempt, cell), so a run is
reproducible and a resumed run draws what the killed run would have drawn.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Mapping
from typing import Any

from nader.agents import tasks
from nader.agents.tree import ModificationTree
from nader.backends.nb201 import ArchStringError, arch_to_cell_text, network_to_arch
from nader.bench.nb201_space import mutate_arch, sample_arch, tournament
from nader.errors import ConfigError, NaderError
from nader.ir.parser import parse_network
from nader.ir.registry import OperatorRegistry
from nader.llm.base import LLMError, LLMRequest, LLMResponse, Usage
from nader.llm.config import LLMConfig
from nader.plugins.registries import Runtime

RANDOM_PROVIDER = "nb201-random"
REA_PROVIDER = "nb201-rea"
_HEADER = re.compile(r"^##[^#\n]*##", re.MULTILINE)


class NB201BaselineProvider:
    """Answers the Modifier with NAS-Bench-201 cells: uniform samples or one-edge mutations."""

    def __init__(
        self, name: str, registry: OperatorRegistry, *, seed: int, population_size: int
    ) -> None:
        self.name = name
        self.registry = registry
        self.seed = seed
        self.population_size = population_size

    @classmethod
    def factory(cls, name: str) -> Any:
        def build(config: LLMConfig, runtime: Runtime) -> NB201BaselineProvider:
            options = dict(config.provider_options)
            population = int(options.pop("population_size", 5))
            if options:
                raise ConfigError(f"provider {name!r} has no options {', '.join(sorted(options))}")
            if population < 1:
                raise ConfigError("llm.provider_options.population_size must be at least 1")
            return cls(name, runtime.operators, seed=config.seed or 0, population_size=population)

        build.__name__ = build.__qualname__ = f"{name.replace('-', '_')}_factory"
        return build

    def complete(self, request: LLMRequest) -> LLMResponse:
        started = time.perf_counter()
        fields = request.fields
        stage = str(fields.get("stage", ""))
        if request.task == tasks.WRITE_STEM_DOWNSAMPLE or (
            request.task == tasks.FIX_BLOCK and stage.startswith("stem")
        ):
            text = self._stem_downsample(fields)
        elif request.task in (tasks.MODIFY_BLOCK, tasks.FIX_BLOCK):
            text = self._cell(request)
        else:
            raise LLMError(f"the {self.name} baseline does not do task {request.task!r}")
        return LLMResponse(
            text=text,
            usage=Usage(input_tokens=0, output_tokens=0),
            model=self.name,
            provider=self.name,
            latency_s=time.perf_counter() - started,
            finish_reason="stop",
        )

    def _rng(self, request: LLMRequest) -> random.Random:
        fields = request.fields
        key = f"{self.seed}:{self.name}:{request.architecture}:{fields.get('attempt', 0)}:{fields.get('cell', '')}"
        return random.Random(key)  # str seeds hash with SHA-512: stable across processes

    def _arch_id(self, request: LLMRequest) -> int:
        try:
            return int(request.architecture or 0)
        except ValueError:
            return 0

    def _cell(self, request: LLMRequest) -> str:
        rng = self._rng(request)
        if self.name == RANDOM_PROVIDER or self._arch_id(request) < self.population_size:
            arch, how = sample_arch(rng), "uniform sample"
        else:
            try:
                network = parse_network(str(request.fields.get("cell", "")), "parent cell")
                parent = network_to_arch(network, self.registry)
            except (NaderError, ArchStringError) as err:
                raise LLMError(
                    f"{self.name}: the parent is not a NAS-Bench-201 cell: {err}"
                ) from err
            arch, how = mutate_arch(parent, rng), f"one-edge mutation of {parent}"
        name = f"NB201_a{self._arch_id(request)}"
        return f"# {self.name}: {how}\n```\n{arch_to_cell_text(arch, name)}```\n"

    def _stem_downsample(self, fields: Mapping[str, Any]) -> str:
        name = str(fields.get("name", "NB201"))
        stem = _HEADER.sub(f"##{name}_stem##", str(fields.get("stem", "")).strip(), count=1)
        down = _HEADER.sub(
            f"##{name}_downsample##", str(fields.get("downsample", "")).strip(), count=1
        )
        return f"# {self.name}: stem and downsample kept\n```\n{stem}\n{down}\n```\n"


class RegularizedEvolutionPolicy:
    """Policy ``rea``: the tournament winner among the last ``population_size`` trained nodes."""

    name = "rea"

    def __init__(self, population_size: int = 5, sample_size: int = 3) -> None:
        if population_size < 1 or sample_size < 1:
            raise ConfigError("rea: population_size and sample_size must be at least 1")
        self.population_size = population_size
        self.sample_size = sample_size

    def select(self, tree: ModificationTree, rng: random.Random) -> int:
        trained = sorted(tree.trained(), key=lambda n: n.id)
        if not trained:
            if tree.root_id is None:
                raise ConfigError("the tree has no root to start from")
            return tree.root_id
        population = trained[-self.population_size :]  # aging: the oldest leave first
        winner = tournament(
            population,
            self.sample_size,
            lambda n: n.valid_acc if n.valid_acc is not None else float("-inf"),
            rng,
        )
        return winner.id
