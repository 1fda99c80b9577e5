"""The design team: one entry point that the session runner drives.

    team = DesignTeam.build(llm=client, config=agents_config, runtime=runtime, run_dir=run_dir)
    team.prepare_knowledge()
    proposal = team.propose(tree)            # Proposer: node + inspiration
    outcome = team.design(proposal)          # Modifier + Reflector: verified network or not
    node = team.record(tree, proposal, outcome)
    ...train, then tree.update(node.id, valid_acc=..., test_acc=..., status="trained")
    team.reflect_on_result(proposal, outcome, parent_valid_acc=..., valid_acc=...)

The LLM is injected (anything with ``complete(request)``), so the same team runs on a live
client, a recording, the offline designer or a scripted test provider.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from qdrant_client import QdrantClient

from nader.agents.blocks import NetworkParts, describe_change, safe_cell_name, split_network
from nader.agents.calls import AgentCaller, CallRecord, CompletesRequests, UsageLedger
from nader.agents.config import AgentsConfig
from nader.agents.embedders import (
    Embedder,
    hashing_factory,
    openai_factory,
    sentence_transformers_factory,
)
from nader.agents.experience import ExperiencePool, Tip, load_experience_file, record_from_attempts
from nader.agents.knowledge import KnowledgePool, expert_inspirations, load_inspiration_file
from nader.agents.memory import VectorPool, open_qdrant
from nader.agents.modifier import Modifier, StageResult
from nader.agents.policies import POLICIES, SelectionPolicy
from nader.agents.prompts import PromptBook
from nader.agents.proposer import Proposal, Proposer
from nader.agents.reader import Reader, ReaderReport
from nader.agents.reflector import Reflector
from nader.agents.tree import ModificationTree, TreeNode
from nader.errors import ConfigError, NaderError
from nader.ir.builtin_ops import default_registry
from nader.ir.check import check_text
from nader.ir.graph import Role
from nader.ir.ops import OperatorRegistry
from nader.ir.verify import BlockReport
from nader.llm.base import Usage

log = logging.getLogger(__name__)

DesignStatus = Literal["new", "duplicate", "failed"]


@dataclass(frozen=True)
class DesignOutcome:
    """What came of a proposal: a new verified network, a known one, or nothing."""

    status: DesignStatus
    architecture_id: int
    parent_id: int
    suggestion: str
    network_text: str | None = None
    cell_name: str | None = None
    block_reports: tuple[BlockReport, ...] = ()
    hash: str | None = None
    params: int | None = None
    flops: int | None = None
    tries: int = 0
    cell_tries: int = 0
    stem_downsample_tries: int = 0
    errors: tuple[str, ...] = ()
    duplicate_of: str | None = None
    tips_used: tuple[str, ...] = ()
    tips_learned: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    usage_by_call: tuple[CallRecord, ...] = ()

    @property
    def usage(self) -> Usage:
        total = Usage()
        for record in self.usage_by_call:
            total = total + record.usage
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "architecture_id": self.architecture_id,
            "parent_id": self.parent_id,
            "suggestion": self.suggestion,
            "network_text": self.network_text,
            "cell_name": self.cell_name,
            "blocks": [report.to_dict() for report in self.block_reports],
            "hash": self.hash,
            "params": self.params,
            "flops": self.flops,
            "tries": self.tries,
            "cell_tries": self.cell_tries,
            "stem_downsample_tries": self.stem_downsample_tries,
            "errors": list(self.errors),
            "duplicate_of": self.duplicate_of,
            "tips_used": list(self.tips_used),
            "tips_learned": list(self.tips_learned),
            "notes": list(self.notes),
            "usage_by_call": [record.to_dict() for record in self.usage_by_call],
        }


@dataclass
class KnowledgeReport:
    added: dict[str, int] = field(default_factory=dict)
    reader: ReaderReport | None = None
    knowledge_size: int = 0
    experience_size: int = 0


_BUILTIN_EMBEDDERS = {
    "hashing": hashing_factory,
    "sentence-transformers": sentence_transformers_factory,
    "openai": openai_factory,
}


class DesignTeam:
    """Reader, Proposer, Modifier and Reflector around one injected LLM."""

    def __init__(
        self,
        *,
        llm: CompletesRequests,
        registry: OperatorRegistry,
        config: AgentsConfig,
        knowledge: KnowledgePool,
        experience: ExperiencePool | None,
        policy: SelectionPolicy,
        ledger: UsageLedger | None = None,
        clients: tuple[QdrantClient, ...] = (),
    ) -> None:
        self.config = config
        self.registry = registry
        self.ledger = ledger or UsageLedger()
        self.caller = AgentCaller(llm, self.ledger)
        self.prompts = PromptBook(registry)
        self.knowledge = knowledge
        self.experience = experience
        self.rng = random.Random(config.seed)
        self.reflector = Reflector(
            self.caller,
            self.prompts,
            registry,
            experience if config.design_experience else None,
            tips_per_prompt=config.tips_per_prompt,
        )
        self.modifier = Modifier(
            self.caller,
            self.prompts,
            max_try=config.max_try,
            immediate_feedback=config.immediate_feedback,
        )
        self.proposer = Proposer(
            self.caller,
            self.prompts,
            knowledge,
            self.reflector,
            policy,
            use_llm=config.proposer_llm,
            retrieve_k=config.retrieve_k,
            rank_k=config.rank_k,
        )
        self.reader = Reader(
            self.caller,
            self.prompts,
            knowledge,
            max_inspirations_per_paper=config.max_inspirations_per_paper,
        )
        self._clients = clients
        self._issued_ids: set[int] = set()
        self._cell_text: dict[int, str] = {}

    # ------------------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        *,
        llm: CompletesRequests,
        config: AgentsConfig | None = None,
        runtime: Any = None,
        registry: OperatorRegistry | None = None,
        run_dir: str | Path | None = None,
    ) -> DesignTeam:
        """Open the pools (embedded Qdrant under the run dir by default) and wire the agents.

        ``runtime`` (from :func:`nader.plugins.manager.build_runtime`) supplies operators,
        embedders and policies contributed by plugins; without it the built-ins are used.
        """
        config = config or AgentsConfig()
        if runtime is not None:
            registry = runtime.operators
            embedder_factory = runtime.embedders.get(config.embedder)
            policy_factory = runtime.search_policies.get(config.policy)
        else:
            registry = registry or default_registry()
            if config.embedder not in _BUILTIN_EMBEDDERS:
                raise ConfigError(
                    f"unknown embedder {config.embedder!r}; built in: {', '.join(_BUILTIN_EMBEDDERS)}"
                )
            embedder_factory = _BUILTIN_EMBEDDERS[config.embedder]
            if config.policy not in POLICIES:
                raise ConfigError(
                    f"unknown policy {config.policy!r}; built in: {', '.join(POLICIES)}"
                )
            policy_factory = POLICIES[config.policy]
        embedder: Embedder = embedder_factory(config.embedder_options)
        policy: SelectionPolicy = policy_factory(**config.policy_options)

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
        knowledge = KnowledgePool(
            VectorPool(client_for(knowledge_location), knowledge_name, embedder)
        )
        experience = ExperiencePool(VectorPool(client_for(memory_location), "experience", embedder))
        return cls(
            llm=llm,
            registry=registry,
            config=config,
            knowledge=knowledge,
            experience=experience,
            policy=policy,
            clients=tuple(clients.values()),
        )

    def close(self) -> None:
        """Release the Qdrant clients (an embedded folder is locked while open)."""
        for client in self._clients:
            client.close()

    def __enter__(self) -> DesignTeam:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ knowledge
    def prepare_knowledge(self) -> KnowledgeReport:
        """Fill the pools from the configured sources (idempotent: known keys are skipped)."""
        report = KnowledgeReport()
        config = self.config
        if not config.reader:
            report.added["expert"] = self.knowledge.add(expert_inspirations())
        else:
            for path in config.inspiration_files:
                report.added[str(path)] = self.knowledge.add(load_inspiration_file(path))
            if config.papers_dir is not None:
                report.reader = self.reader.read_folder(config.papers_dir)
                report.added["reader"] = report.reader.added
            if len(self.knowledge) == 0:
                log.warning(
                    "no papers or inspiration files given: using the built-in expert suggestions"
                )
                report.added["expert"] = self.knowledge.add(expert_inspirations())
        if self.experience is not None and config.design_experience:
            for path in config.experience_files:
                report.added[str(path)] = self.experience.add(load_experience_file(path))
        report.knowledge_size = len(self.knowledge)
        report.experience_size = len(self.experience) if self.experience is not None else 0
        return report

    # ------------------------------------------------------------------------------ the loop
    def observe(self, tree: ModificationTree) -> None:
        """Learn the tree's canonical hashes (for duplicate detection) and its cells."""
        for node in tree:
            if node.id not in self._cell_text:
                try:
                    self._cell_text[node.id] = split_network(node.network_text, self.registry).cell
                except NaderError:
                    continue
            digest = node.hash
            if digest is None:
                report = check_text(self._cell_text[node.id], self.registry, role=Role.CELL)
                digest = report.blocks[0].hash if report.blocks else None
            if digest is not None and node.status != "failed":
                self.reflector.dedup.add(digest, str(node.id))

    def propose(self, tree: ModificationTree) -> Proposal:
        """Pick a node (policy) and an inspiration (retrieval + LLM ranking)."""
        self.observe(tree)
        architecture_id = max([tree.next_id(), *(i + 1 for i in self._issued_ids)])
        self._issued_ids.add(architecture_id)
        start = len(self.ledger.records)
        node_id, inspiration, candidates = self.proposer.propose(
            tree, self.rng, architecture_id=architecture_id, cell_text_of=self._cell_text
        )
        return Proposal(
            parent_id=node_id,
            inspiration=inspiration,
            architecture_id=architecture_id,
            parent_network=tree[node_id].network_text,
            candidates=candidates,
            usage_by_call=self.ledger.since(start),
        )

    def design(self, proposal: Proposal) -> DesignOutcome:
        """Modifier dialogue checked by the Reflector; experience recorded afterwards."""
        start = len(self.ledger.records)
        architecture = proposal.architecture
        suggestion = proposal.inspiration.text
        parent = split_network(proposal.parent_network, self.registry)
        tips = (
            [tip.text for tip in self.reflector.tips_for(suggestion)]
            if self.config.design_experience
            else []
        )
        default_name = safe_cell_name(
            f"{parent.cell_name}_v{proposal.architecture_id}", f"Cell{proposal.architecture_id}"
        )

        cell_stage = self.modifier.modify_cell(
            cell=parent.cell,
            inspiration=suggestion,
            tips=tips,
            architecture=architecture,
            default_name=default_name,
            check=self.reflector.check_cell,
        )
        stages: list[StageResult] = [cell_stage]
        notes: list[str] = []
        network_text: str | None = None
        cell_name: str | None = None
        status: DesignStatus = "failed"
        if cell_stage.ok:
            cell_block = cell_stage.feedback.blocks[0]
            cell_name = safe_cell_name(cell_block.name, default_name)
            network_text = self._with_stem_downsample(
                cell_stage,
                cell_block.renamed(cell_name).text,
                cell_name,
                parent,
                proposal,
                stages,
                notes,
            )
            status = "new" if network_text is not None else "failed"
        elif cell_stage.feedback.duplicate_of is not None:
            status = "duplicate"

        reports: tuple[BlockReport, ...] = ()
        digest = cell_stage.feedback.hash
        if network_text is not None:
            final = check_text(network_text, self.registry)
            reports = final.blocks
            if not final.valid:  # cannot happen when every part verified; keep it loud if it does
                status = "failed"
                notes.append(
                    "the assembled network did not verify: "
                    + "; ".join(r.feedback() for r in reports if not r.valid)
                )
            elif digest is not None:
                self.reflector.dedup.add(digest, architecture)

        learned: list[Tip] = []
        if self.config.design_experience:
            changes = [
                self._stage_change(s, parent.cell if s is cell_stage else parent.downsample)
                for s in stages
            ]
            records = [
                record_from_attempts(suggestion, s.stage, s.attempts, c)
                for s, c in zip(stages, changes, strict=True)
            ]
            learned = self.reflector.learn_from_design(records, architecture)

        cell_report = reports[0] if reports else None
        all_attempts = [a for s in stages for a in s.attempts]
        outcome = DesignOutcome(
            status=status,
            architecture_id=proposal.architecture_id,
            parent_id=proposal.parent_id,
            suggestion=suggestion,
            network_text=network_text if status == "new" else None,
            cell_name=cell_name,
            block_reports=reports,
            hash=digest,
            params=cell_report.params if cell_report else None,
            flops=cell_report.flops if cell_report else None,
            tries=len(all_attempts),
            cell_tries=len(cell_stage.attempts),
            stem_downsample_tries=len(stages[1].attempts) if len(stages) > 1 else 0,
            errors=tuple(p.message for a in all_attempts for p in a.problems),
            duplicate_of=cell_stage.feedback.duplicate_of,
            tips_used=tuple(tips),
            tips_learned=tuple(t.text for t in learned),
            notes=tuple(notes),
            usage_by_call=proposal.usage_by_call + self.ledger.since(start),
        )
        log.info(
            "architecture %s from %s: %s after %d tries (%s)",
            architecture,
            proposal.parent_id,
            status,
            outcome.tries,
            suggestion[:60],
        )
        return outcome

    def _with_stem_downsample(
        self,
        cell_stage: StageResult,
        cell_text: str,
        cell_name: str,
        parent: NetworkParts,
        proposal: Proposal,
        stages: list[StageResult],
        notes: list[str],
    ) -> str | None:
        """The whole network: the new cell plus a new (or, as a fallback, the parent's) stem and
        downsample; None when they never verified and the fallback is off."""
        if parent.stem is None or parent.downsample is None:
            return cell_text  # a cell-only network stays cell-only
        stem_scale = self._stem_scale(parent.stem)
        stage = self.modifier.write_stem_downsample(
            cell_stage=cell_stage,
            inspiration=proposal.inspiration.text,
            name=cell_name,
            stem=parent.stem,
            downsample=parent.downsample,
            stem_scale=stem_scale,
            architecture=proposal.architecture,
            check=lambda blocks: self.reflector.check_stem_downsample(blocks, stem_scale),
        )
        stages.append(stage)
        if stage.ok:
            stem, down = stage.feedback.blocks[0].text, stage.feedback.blocks[1].text
        elif self.config.fallback_to_parent_blocks:
            notes.append("stem and downsample kept from the parent: the new ones never verified")
            stem, down = parent.stem, parent.downsample
        else:
            return None
        return (
            cell_text
            + _renamed_block(stem, f"{cell_name}_stem")
            + _renamed_block(down, f"{cell_name}_downsample")
        )

    def _stage_change(self, stage: StageResult, before: str | None) -> str:
        """What a successful stage changed: the cell, or (for stem/downsample) the downsample."""
        blocks = stage.feedback.blocks
        if not stage.ok or not blocks or before is None:
            return ""
        return describe_change(before, blocks[-1].text, self.registry)

    def _stem_scale(self, stem_text: str) -> int | None:
        report = check_text(stem_text, self.registry, role=Role.STEM)
        return report.blocks[0].stem_scale if report.blocks and report.blocks[0].valid else None

    def record(
        self, tree: ModificationTree, proposal: Proposal, outcome: DesignOutcome
    ) -> TreeNode:
        """Add the outcome to the tree: ``pending`` when new (to be trained), else its status."""
        status = "pending" if outcome.status == "new" else outcome.status
        node = tree.add_child(
            proposal.parent_id,
            outcome.network_text or "",
            suggestion=proposal.inspiration.text,
            inspiration_key=proposal.inspiration.key,
            node_id=proposal.architecture_id,
            hash=outcome.hash,
            params=outcome.params,
            flops=outcome.flops,
            status=status,
        )
        if outcome.duplicate_of is not None:
            node.notes["duplicate_of"] = outcome.duplicate_of
        if outcome.network_text is not None:
            self._cell_text[node.id] = split_network(outcome.network_text, self.registry).cell
        return node

    def reflect_on_result(
        self,
        proposal: Proposal,
        outcome: DesignOutcome,
        *,
        parent_valid_acc: float,
        valid_acc: float,
    ) -> list[Tip]:
        """After training: an accuracy drop becomes research experience (validation accuracy only)."""
        if (
            not self.config.design_experience
            or outcome.network_text is None
            or valid_acc >= parent_valid_acc
        ):
            return []
        parent = split_network(proposal.parent_network, self.registry)
        child = split_network(outcome.network_text, self.registry)
        return self.reflector.learn_from_accuracy_drop(
            suggestion=proposal.inspiration.text,
            parent_cell=parent.cell,
            child_cell=child.cell,
            parent_acc=parent_valid_acc,
            child_acc=valid_acc,
            change=describe_change(parent.cell, child.cell, self.registry),
            architecture=proposal.architecture,
        )


def _renamed_block(text: str, name: str) -> str:
    lines = text.strip().splitlines()
    return "\n".join([f"##{name}##", *lines[1:]]) + "\n"
