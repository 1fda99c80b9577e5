"""The agents: Reader, Proposer, Modifier and Reflector, their memory and the modification tree.

The session runner drives :class:`DesignTeam`; everything else is here for tests, notebooks and
plugins. No LLM SDK is imported: the team talks to any object with ``complete(request)``.

Names are imported on first use (PEP 562): the built-in plugin module
:mod:`nader.agents.plugin` is loaded by every ``nader`` command, and it must not pay for
qdrant-client's import when all the command does is check a file.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "AgentCaller": "nader.agents.calls",
    "KnownDesigns": "nader.agents.known",
    "AgentsConfig": "nader.agents.config",
    "HashingEmbedder": "nader.agents.embedders",
    "OpenAIEmbedder": "nader.agents.embedders",
    "SentenceTransformerEmbedder": "nader.agents.embedders",
    "ExperiencePool": "nader.agents.experience",
    "Tip": "nader.agents.experience",
    "load_experience_file": "nader.agents.experience",
    "ExtractedBlock": "nader.agents.extraction",
    "extract_blocks": "nader.agents.extraction",
    "Inspiration": "nader.agents.knowledge",
    "KnowledgePool": "nader.agents.knowledge",
    "expert_inspirations": "nader.agents.knowledge",
    "load_inspiration_file": "nader.agents.knowledge",
    "VectorPool": "nader.agents.memory",
    "open_qdrant": "nader.agents.memory",
    "OfflineDesigner": "nader.agents.offline.designer",
    "Paper": "nader.agents.papers",
    "read_paper": "nader.agents.papers",
    "read_papers": "nader.agents.papers",
    "POLICIES": "nader.agents.policies",
    "PromptBook": "nader.agents.prompts",
    "block_format_definition": "nader.agents.prompts",
    "render": "nader.agents.prompts",
    "Proposal": "nader.agents.proposer",
    "ProposalError": "nader.agents.proposer",
    "Reader": "nader.agents.reader",
    "DesignOutcome": "nader.agents.outcome",
    "DesignTeam": "nader.agents.team",
    "KnowledgeReport": "nader.agents.pools",
    "ModificationTree": "nader.agents.tree",
    "TreeNode": "nader.agents.tree",
}

__all__ = [
    "AgentCaller",
    "AgentsConfig",
    "DesignOutcome",
    "DesignTeam",
    "ExperiencePool",
    "ExtractedBlock",
    "HashingEmbedder",
    "Inspiration",
    "KnowledgePool",
    "KnownDesigns",
    "KnowledgeReport",
    "ModificationTree",
    "OfflineDesigner",
    "OpenAIEmbedder",
    "POLICIES",
    "Paper",
    "PromptBook",
    "Proposal",
    "ProposalError",
    "Reader",
    "SentenceTransformerEmbedder",
    "Tip",
    "TreeNode",
    "VectorPool",
    "block_format_definition",
    "expert_inspirations",
    "extract_blocks",
    "load_experience_file",
    "load_inspiration_file",
    "open_qdrant",
    "read_paper",
    "read_papers",
    "render",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nader.agents' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from nader.agents.calls import AgentCaller
    from nader.agents.config import AgentsConfig
    from nader.agents.embedders import HashingEmbedder, OpenAIEmbedder, SentenceTransformerEmbedder
    from nader.agents.experience import ExperiencePool, Tip, load_experience_file
    from nader.agents.extraction import ExtractedBlock, extract_blocks
    from nader.agents.knowledge import (
        Inspiration,
        KnowledgePool,
        expert_inspirations,
        load_inspiration_file,
    )
    from nader.agents.known import KnownDesigns
    from nader.agents.memory import VectorPool, open_qdrant
    from nader.agents.offline.designer import OfflineDesigner
    from nader.agents.outcome import DesignOutcome
    from nader.agents.papers import Paper, read_paper, read_papers
    from nader.agents.policies import POLICIES
    from nader.agents.pools import KnowledgeReport
    from nader.agents.prompts import PromptBook, block_format_definition, render
    from nader.agents.proposer import Proposal, ProposalError
    from nader.agents.reader import Reader
    from nader.agents.team import DesignTeam
    from nader.agents.tree import ModificationTree, TreeNode
