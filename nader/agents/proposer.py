"""The Proposer: which architecture to modify next, and with which inspiration.

A selection policy (plugin) picks a tree node by validation accuracy. Candidate inspirations are
retrieved from the knowledge pool by embedding (top ``retrieve_k``, a random ``rank_k`` of them
kept for variety), excluding those already proposed for that node; the LLM ranks them, with
research tips (earlier accuracy drops on similar suggestions) in the prompt. With the LLM switched
off (the paper's ablation) a random unused inspiration is taken instead. The chosen inspiration is
marked as used on the node, whatever happens to the design.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from nader.agents import tasks
from nader.agents.calls import AgentCaller
from nader.agents.knowledge import Inspiration, KnowledgePool
from nader.agents.policies import SelectionPolicy
from nader.agents.prompts import PromptBook
from nader.agents.reflector import Reflector
from nader.agents.tree import ModificationTree
from nader.errors import NaderError
from nader.ir.graph import Block, Network, NodeKind
from nader.llm.base import BudgetExhausted, LLMError
from nader.llm.usage import UsageEntry

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"\b\d+\b")


class ProposalError(NaderError):
    """No inspiration is left to propose for the chosen node."""


@dataclass(frozen=True)
class Proposal:
    """The next modification to try: a parent node and an inspiration."""

    parent_id: int
    inspiration: Inspiration
    architecture_id: int
    parent_network: Network
    candidates: tuple[Inspiration, ...] = ()
    usage_by_call: tuple[UsageEntry, ...] = ()

    @property
    def architecture(self) -> str:
        return str(self.architecture_id)


def parse_ranking(answer: str, count: int) -> list[int]:
    """0-based candidate indices in the answer's order, from the line that names a ranking."""
    lines = [line for line in answer.splitlines() if not line.lstrip().startswith("#")]
    ordered = [line for line in lines if "rank" in line.lower()] + lines
    for line in ordered:
        seen: list[int] = []
        for number in _NUMBER.findall(line):
            index = int(number) - 1
            if 0 <= index < count and index not in seen:
                seen.append(index)
        if seen:
            return seen
    return []


def retrieval_query(cell: Block, suggestion: str | None) -> str:
    """What to look for: block design, the operators the cell uses, and how it came to be."""
    ops = sorted({node.op for node in cell.nodes if node.kind is NodeKind.OPERATOR})
    parts = [
        "improve the structure of a convolutional neural network block for image classification",
        " ".join(ops),
    ]
    if suggestion:
        parts.append(suggestion)
    return ". ".join(parts)


class Proposer:
    def __init__(
        self,
        caller: AgentCaller,
        prompts: PromptBook,
        knowledge: KnowledgePool,
        reflector: Reflector,
        policy: SelectionPolicy,
        *,
        use_llm: bool = True,
        retrieve_k: int = 30,
        rank_k: int = 8,
    ) -> None:
        self.caller = caller
        self.prompts = prompts
        self.knowledge = knowledge
        self.reflector = reflector
        self.policy = policy
        self.use_llm = use_llm
        self.retrieve_k = retrieve_k
        self.rank_k = rank_k

    def candidates(
        self, tree: ModificationTree, node_id: int, cell: Block, rng: random.Random
    ) -> list[Inspiration]:
        node = tree[node_id]
        hits = self.knowledge.search(
            retrieval_query(cell, node.suggestion),
            self.retrieve_k,
            exclude_keys=node.used_inspirations,
        )
        if len(hits) > self.rank_k:
            keep = sorted(rng.sample(range(len(hits)), self.rank_k))
            hits = [hits[i] for i in keep]
        return [inspiration for inspiration, _ in hits]

    def rank(
        self, candidates: Sequence[Inspiration], cell_text: str, architecture: str
    ) -> Inspiration:
        research = self.reflector.research_tips([c.text for c in candidates])
        research_text = ""
        if research:
            research_text = "Lessons from earlier accuracy drops:\n" + "\n".join(
                f"- {t.text}" for t in research
            )
        listing = "\n".join(f"{i}. {c.text}" for i, c in enumerate(candidates, 1))
        try:
            response = self._ask_ranking(
                candidates, cell_text, research, research_text, listing, architecture
            )
        except BudgetExhausted:
            raise
        except LLMError as err:
            log.warning("Proposer: ranking call failed (%s); taking the closest candidate", err)
            return candidates[0]
        order = parse_ranking(response.text, len(candidates))
        if not order:
            log.warning("Proposer: no ranking in the answer; taking the closest candidate")
            return candidates[0]
        return candidates[order[0]]

    def _ask_ranking(
        self,
        candidates: Sequence[Inspiration],
        cell_text: str,
        research: Sequence[Any],
        research_text: str,
        listing: str,
        architecture: str,
    ) -> Any:
        return self.caller.ask(
            task=tasks.RANK_INSPIRATIONS,
            role=tasks.PROPOSER,
            messages=[
                self.prompts.system(tasks.PROPOSER),
                self.prompts.user(
                    "inspiration_ranking",
                    cell=cell_text.strip(),
                    research_tips=research_text,
                    candidates=listing,
                ),
            ],
            fields={
                "cell": cell_text,
                "candidates": [c.text for c in candidates],
                "candidate_keys": [c.key for c in candidates],
                "research_tips": [t.text for t in research],
            },
            architecture=architecture,
        )

    def propose(
        self,
        tree: ModificationTree,
        rng: random.Random,
        *,
        architecture_id: int,
        cell_of: Callable[[int], tuple[Block, str]],
    ) -> tuple[int, Inspiration, tuple[Inspiration, ...]]:
        """(node id, chosen inspiration, candidates shown) — and marks the inspiration used.

        ``cell_of(node_id)`` gives a node's cell and its prompt text."""
        node_id = self.policy.select(tree, rng)
        cell, cell_text = cell_of(node_id)
        node = tree[node_id]
        candidates: list[Inspiration] = []
        if self.use_llm:
            candidates = self.candidates(tree, node_id, cell, rng)
            chosen = self.rank(candidates, cell_text, str(architecture_id)) if candidates else None
        else:
            chosen = self.knowledge.random(rng, node.used_inspirations)
        if chosen is None:
            raise ProposalError(
                f"every inspiration in the knowledge pool was already proposed for node {node_id}"
            )
        tree.mark_used(node_id, chosen.key)
        return node_id, chosen, tuple(candidates)
