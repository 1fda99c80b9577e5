"""The design team: one entry point that the session runner drives.

    team = DesignTeam.build(llm=client, config=agents_config, runtime=runtime, run_dir=run_dir,
                            known=known_designs)
    team.prepare_knowledge()
    proposal = team.propose(tree)            # Proposer: node + inspiration
    outcome = team.design(proposal)          # Modifier + Reflector: a verified Network or not
    ...the session records and trains it, then
    team.reflect_on_result(proposal, outcome, parent_valid_acc=..., valid_acc=...)

The LLM is injected (anything with ``complete(request)``), so the same team runs on a live
client, a recording, the offline designer or a scripted test provider. Agents exchange IR
objects: each Modifier answer is parsed and verified once, by the Reflector, and the verified
blocks (with their reports) become the outcome's network; text is made only for prompts.
The tree and the duplicate index (:class:`~nader.agents.known.KnownDesigns`) belong to the
session; the team reads them.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from pathlib import Path

from nader.agents.blocks import (
    NetworkParts,
    block_text,
    describe_change,
    network_parts,
    safe_cell_name,
)
from nader.agents.calls import AgentCaller
from nader.agents.config import AgentsConfig
from nader.agents.experience import ExperiencePool, Tip, record_from_attempts
from nader.agents.knowledge import KnowledgePool
from nader.agents.known import KnownDesigns, network_hash
from nader.agents.modifier import Modifier, StageResult
from nader.agents.outcome import DesignOutcome, DesignStatus
from nader.agents.policies import SelectionPolicy
from nader.agents.pools import KnowledgeReport, Pools, fill_pools, open_pools
from nader.agents.prescreen import PrescreenCandidate, ProxyScorer, screen
from nader.agents.prompts import PromptBook
from nader.agents.proposer import Proposal, Proposer
from nader.agents.reader import Reader
from nader.agents.reflector import Reflector
from nader.agents.tree import ModificationTree
from nader.errors import ConfigError
from nader.ir.graph import Block, Network, Role
from nader.ir.printer import print_structure
from nader.ir.verify import BlockReport, verify_block
from nader.llm.usage import CompletesRequests, UsageLedger
from nader.plugins.registries import Runtime

log = logging.getLogger(__name__)


class DesignTeam:
    """Reader, Proposer, Modifier and Reflector around one injected LLM."""

    def __init__(
        self,
        *,
        llm: CompletesRequests,
        runtime: Runtime,
        config: AgentsConfig,
        pools: Pools,
        policy: SelectionPolicy,
        known: KnownDesigns | None = None,
        image_size: int | tuple[int, int] | None = None,
        scorer: ProxyScorer | None = None,
    ) -> None:
        if config.prescreen_k > 1 and scorer is None:
            raise ConfigError(
                f"agents.prescreen_k = {config.prescreen_k} needs a proxy scorer to choose among "
                "the cells (a session makes one; as a library, pass scorer=)"
            )
        self.config = config
        self.scorer = scorer
        self.registry = runtime.operators
        self.caller = AgentCaller(llm)
        self.prompts = PromptBook(self.registry)
        self.pools = pools
        self.known = known if known is not None else KnownDesigns()
        self.rng = random.Random(config.seed)
        self.reflector = Reflector(
            self.caller,
            self.prompts,
            self.registry,
            pools.experience if config.design_experience else None,
            known=self.known,
            tips_per_prompt=config.tips_per_prompt,
            image_size=(image_size, image_size) if isinstance(image_size, int) else image_size,
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
            pools.knowledge,
            self.reflector,
            policy,
            use_llm=config.proposer_llm,
            retrieve_k=config.retrieve_k,
            rank_k=config.rank_k,
        )
        self.reader = Reader(
            self.caller,
            self.prompts,
            pools.knowledge,
            max_inspirations_per_paper=config.max_inspirations_per_paper,
        )
        self._issued_ids: set[int] = set()
        #: prompt text of tree nodes' cells (printing analyses the block: once per node)
        self._cell_texts: dict[int, tuple[Block, str]] = {}

    @classmethod
    def build(
        cls,
        *,
        llm: CompletesRequests,
        runtime: Runtime,
        config: AgentsConfig | None = None,
        run_dir: str | Path | None = None,
        known: KnownDesigns | None = None,
        image_size: int | tuple[int, int] | None = None,
        scorer: ProxyScorer | None = None,
    ) -> DesignTeam:
        """Open the pools (embedded Qdrant under the run dir by default) and wire the agents.

        Operators, the embedder and the selection policy come from ``runtime`` (built-ins and
        plugins alike; :func:`nader.plugins.builtin_runtime` for the built-ins alone).
        ``image_size`` (an int for square images, or (H, W)): the dataset's images, so that the
        Reflector probes blocks at the shape they will see. ``scorer``: the zero-cost proxy
        that picks among ``config.prescreen_k`` cells (:mod:`nader.agents.prescreen`).
        """
        config = config or AgentsConfig()
        embedder = runtime.embedders.get(config.embedder)(config.embedder_options)
        policy = runtime.search_policies.get(config.policy)(**config.policy_options)
        pools = open_pools(config, embedder, run_dir)
        return cls(
            llm=llm,
            runtime=runtime,
            config=config,
            pools=pools,
            policy=policy,
            known=known,
            image_size=image_size,
            scorer=scorer,
        )

    @property
    def ledger(self) -> UsageLedger:
        """The run's usage ledger, as this team's LLM books it."""
        return self.caller.ledger

    @property
    def knowledge(self) -> KnowledgePool:
        return self.pools.knowledge

    @property
    def experience(self) -> ExperiencePool:
        return self.pools.experience

    def close(self) -> None:
        self.pools.close()

    def __enter__(self) -> DesignTeam:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def prepare_knowledge(self) -> KnowledgeReport:
        """Fill the pools from the configured sources (idempotent: known keys are skipped)."""
        return fill_pools(self.config, self.pools, self.reader)

    # ------------------------------------------------------------------------------ the loop
    def _cell_of(self, tree: ModificationTree, node_id: int) -> tuple[Block, str]:
        if node_id not in self._cell_texts:
            network = tree[node_id].network
            if network is None:
                raise ConfigError(f"tree node {node_id} has no network to modify")
            cell = network_parts(network).cell
            self._cell_texts[node_id] = (cell, block_text(cell, self.registry))
        return self._cell_texts[node_id]

    def propose(self, tree: ModificationTree) -> Proposal:
        """Pick a node (policy) and an inspiration (retrieval + LLM ranking)."""
        architecture_id = max([tree.next_id(), *(i + 1 for i in self._issued_ids)])
        self._issued_ids.add(architecture_id)
        mark = self.ledger.mark()
        node_id, inspiration, candidates = self.proposer.propose(
            tree,
            self.rng,
            architecture_id=architecture_id,
            cell_of=lambda node: self._cell_of(tree, node),
        )
        network = tree[node_id].network
        assert network is not None  # _cell_of refused a node without one
        return Proposal(
            parent_id=node_id,
            inspiration=inspiration,
            architecture_id=architecture_id,
            parent_network=network,
            candidates=candidates,
            usage_by_call=self.ledger.since(mark),
        )

    def design(self, proposal: Proposal) -> DesignOutcome:
        """Modifier dialogue checked by the Reflector; experience recorded afterwards."""
        mark = self.ledger.mark()
        architecture = proposal.architecture
        suggestion = proposal.inspiration.text
        parent = network_parts(proposal.parent_network)
        tips = (
            [tip.text for tip in self.reflector.tips_for(suggestion)]
            if self.config.design_experience
            else []
        )
        default_name = safe_cell_name(
            f"{parent.cell_name}_v{proposal.architecture_id}", f"Cell{proposal.architecture_id}"
        )
        cell_stages = [
            self.modifier.modify_cell(
                cell=block_text(parent.cell, self.registry),
                inspiration=suggestion,
                tips=tips,
                architecture=architecture,
                default_name=default_name,
                check=lambda blocks: self.reflector.check_cell(blocks, default_name),
                variant=(candidate, self.config.prescreen_k),
            )
            for candidate in range(self.config.prescreen_k)
        ]
        chosen, screened = self._prescreen(cell_stages, parent)
        cell_stage = cell_stages[chosen]
        others = [stage for index, stage in enumerate(cell_stages) if index != chosen]
        stages: list[StageResult] = [cell_stage]
        notes: list[str] = (
            [_prescreen_note(screened, self.config.prescreen_proxy)] if screened else []
        )
        reports: tuple[BlockReport, ...] = ()
        status: DesignStatus = "failed"
        if cell_stage.ok:
            reports = self._with_stem_downsample(cell_stage, parent, proposal, stages, notes)
            status = "new" if reports else "failed"
        elif cell_stage.feedback.duplicate_of is not None:
            status = "duplicate"

        learned: list[Tip] = []
        if self.config.design_experience:
            befores = [parent.cell, parent.downsample]
            records = [
                record_from_attempts(
                    suggestion, stage.stage, stage.attempts, self._stage_change(stage, before)
                )
                for stage, before in zip(stages, befores, strict=False)
            ]
            records += [  # the screened-out candidates' dialogues teach as much
                record_from_attempts(
                    suggestion, stage.stage, stage.attempts, self._stage_change(stage, parent.cell)
                )
                for stage in others
            ]
            learned = self.reflector.learn_from_design(records, architecture)

        all_attempts = [a for s in stages for a in s.attempts]
        screened_out_tries = sum(len(stage.attempts) for stage in others)
        cell_report = cell_stage.feedback.reports[0] if cell_stage.feedback.reports else None
        outcome = DesignOutcome(
            status=status,
            architecture_id=proposal.architecture_id,
            parent_id=proposal.parent_id,
            suggestion=suggestion,
            network=_network_of(reports) if reports else None,
            network_text=_text_of(reports) if reports else None,
            block_reports=reports,
            hash=cell_stage.feedback.hash,
            network_hash=network_hash(reports) if reports else None,
            params=cell_report.params if cell_report is not None and reports else None,
            flops=cell_report.flops if cell_report is not None and reports else None,
            tries=len(all_attempts) + screened_out_tries,
            cell_tries=len(cell_stage.attempts) + screened_out_tries,
            stem_downsample_tries=len(stages[1].attempts) if len(stages) > 1 else 0,
            errors=tuple(p.message for a in all_attempts for p in a.problems),
            duplicate_of=cell_stage.feedback.duplicate_of,
            tips_used=tuple(tips),
            tips_learned=tuple(t.text for t in learned),
            notes=tuple(notes),
            prescreen=screened,
            usage_by_call=proposal.usage_by_call + self.ledger.since(mark),
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

    def _prescreen(
        self, stages: list[StageResult], parent: NetworkParts
    ) -> tuple[int, tuple[PrescreenCandidate, ...]]:
        """Which cell stage goes on (the best by proxy), and the screen's view of every one."""
        if len(stages) == 1 or self.scorer is None:
            return 0, ()
        return screen(
            stages,
            parent,
            self.scorer,
            lambda stage: block_text(stage.feedback.verified[0], self.registry),
        )

    def _with_stem_downsample(
        self,
        cell_stage: StageResult,
        parent: NetworkParts,
        proposal: Proposal,
        stages: list[StageResult],
        notes: list[str],
    ) -> tuple[BlockReport, ...]:
        """Reports of the whole network: the new cell plus a new (or, as a fallback, the
        parent's) stem and downsample; empty when they never verified and the fallback is off."""
        cell_report = cell_stage.feedback.reports[0]
        if parent.stem is None or parent.downsample is None:
            return (cell_report,)  # a cell-only network stays cell-only
        cell_name = cell_report.name
        stem_scale = verify_block(parent.stem, self.registry, role=Role.STEM).stem_scale
        stage = self.modifier.write_stem_downsample(
            cell_stage=cell_stage,
            inspiration=proposal.inspiration.text,
            name=cell_name,
            stem=block_text(parent.stem, self.registry),
            downsample=block_text(parent.downsample, self.registry),
            stem_scale=stem_scale,
            architecture=proposal.architecture,
            check=lambda blocks: self.reflector.check_stem_downsample(
                blocks, stem_scale, cell_name
            ),
        )
        stages.append(stage)
        if stage.ok:
            return (cell_report, *stage.feedback.reports)
        if not self.config.fallback_to_parent_blocks:
            return ()
        notes.append("stem and downsample kept from the parent: the new ones never verified")
        kept = (
            verify_block(
                replace(parent.stem, name=f"{cell_name}_stem"),
                self.registry,
                role=Role.STEM,
                stem_scale=stem_scale,
            ),
            verify_block(
                replace(parent.downsample, name=f"{cell_name}_downsample"),
                self.registry,
                role=Role.DOWNSAMPLE,
            ),
        )
        return (cell_report, *kept)

    def _stage_change(self, stage: StageResult, before: Block | None) -> str:
        """What a successful stage changed: the cell, or (for stem/downsample) the downsample."""
        verified = stage.feedback.verified
        if not stage.ok or not verified or before is None:
            return ""
        return describe_change(before, verified[-1], self.registry)

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
            or outcome.network is None
            or valid_acc >= parent_valid_acc
        ):
            return []
        parent_cell = network_parts(proposal.parent_network).cell
        child_cell = network_parts(outcome.network).cell
        return self.reflector.learn_from_accuracy_drop(
            suggestion=proposal.inspiration.text,
            parent_cell=block_text(parent_cell, self.registry),
            child_cell=block_text(child_cell, self.registry),
            parent_acc=parent_valid_acc,
            child_acc=valid_acc,
            change=describe_change(parent_cell, child_cell, self.registry),
            architecture=proposal.architecture,
        )


def _prescreen_note(candidates: tuple[PrescreenCandidate, ...], proxy: str) -> str:
    """One line: which of the k candidate cells went on, and each one's score or fate."""
    parts = []
    for candidate in candidates:
        if candidate.score is not None:
            fate = f"{proxy} {candidate.score:.3f}"
        else:
            fate = candidate.error or candidate.status
        parts.append(f"{candidate.index + 1}: {fate}" + (" (chosen)" if candidate.chosen else ""))
    return f"pre-screen of {len(candidates)} cells by {proxy}: " + "; ".join(parts)


def _network_of(reports: tuple[BlockReport, ...]) -> Network:
    """The verified blocks as one network (cell, stem, downsample: roles read from names)."""
    blocks = []
    for report in reports:
        assert report.structure is not None  # a valid report always carries its structure
        blocks.append(report.structure.block)
    return Network(tuple(blocks))


def _text_of(reports: tuple[BlockReport, ...]) -> str:
    """Canonical text of the verified blocks, printed from their structures (no re-analysis)."""
    return "".join(print_structure(r.structure) for r in reports if r.structure is not None)


__all__ = ["DesignOutcome", "DesignTeam", "KnowledgeReport"]
