"""The team's memory: the knowledge and experience pools, opened and filled.

Pools live in Qdrant (embedded under the run directory by default, or a server); the embedder
comes from the runtime's registry like every other plugin-provided part.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from qdrant_client import QdrantClient

from nader.agents.config import AgentsConfig
from nader.agents.embedders import Embedder
from nader.agents.experience import ExperiencePool, load_experience_file
from nader.agents.knowledge import KnowledgePool, expert_inspirations, load_inspiration_file
from nader.agents.memory import VectorPool, open_qdrant
from nader.agents.reader import Reader, ReaderReport

log = logging.getLogger(__name__)


@dataclass
class Pools:
    """The knowledge pool, the experience pool and the Qdrant clients behind them."""

    knowledge: KnowledgePool
    experience: ExperiencePool
    clients: tuple[QdrantClient, ...] = ()

    def close(self) -> None:
        """Release the Qdrant clients (an embedded folder is locked while open)."""
        for client in self.clients:
            client.close()


@dataclass
class KnowledgeReport:
    added: dict[str, int] = field(default_factory=dict)
    reader: ReaderReport | None = None
    knowledge_size: int = 0
    experience_size: int = 0


def open_pools(config: AgentsConfig, embedder: Embedder, run_dir: str | Path | None) -> Pools:
    """Open the pools: embedded Qdrant under ``run_dir/memory`` by default, one client per place."""
    memory_location = config.memory_path or (
        Path(run_dir) / "memory" if run_dir is not None else None
    )
    knowledge_location = config.knowledge_path or memory_location
    clients: dict[str, QdrantClient] = {}

    def client_for(location: Path | None) -> QdrantClient:
        key = config.qdrant_url or (
            str(Path(location).resolve()) if location is not None else ":memory:"
        )
        if key not in clients:
            clients[key] = open_qdrant(path=location, url=config.qdrant_url)
        return clients[key]

    knowledge_name = "knowledge" if config.reader else "expert_knowledge"
    knowledge = KnowledgePool(VectorPool(client_for(knowledge_location), knowledge_name, embedder))
    experience = ExperiencePool(VectorPool(client_for(memory_location), "experience", embedder))
    return Pools(knowledge, experience, tuple(clients.values()))


def fill_pools(config: AgentsConfig, pools: Pools, reader: Reader) -> KnowledgeReport:
    """Fill the pools from the configured sources (idempotent: known keys are skipped)."""
    report = KnowledgeReport()
    knowledge = pools.knowledge
    if not config.reader:
        report.added["expert"] = knowledge.add(expert_inspirations())
    else:
        for path in config.inspiration_files:
            report.added[str(path)] = knowledge.add(load_inspiration_file(path))
        if config.papers_dir is not None:
            report.reader = reader.read_folder(config.papers_dir)
            report.added["reader"] = report.reader.added
        if len(knowledge) == 0:
            log.warning(
                "no papers or inspiration files given: using the built-in expert suggestions"
            )
            report.added["expert"] = knowledge.add(expert_inspirations())
    if config.design_experience:
        for path in config.experience_files:
            report.added[str(path)] = pools.experience.add(load_experience_file(path))
    report.knowledge_size = len(knowledge)
    report.experience_size = len(pools.experience)
    return report
