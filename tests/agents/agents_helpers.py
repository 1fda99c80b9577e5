"""Helpers for agent tests that talk to the offline designer in text, as a model is talked to."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from typing import Any

from nader.agents.blocks import block_text, layer_counts, network_parts
from nader.agents.offline.designer import OfflineDesigner
from nader.agents.outcome import DesignOutcome
from nader.agents.proposer import Proposal
from nader.agents.team import DesignTeam
from nader.agents.tree import ModificationTree, TreeNode
from nader.ir import OperatorRegistry, Role, parse_block, parse_network, verify_block
from nader.llm.usage import CompletesRequests
from nader.plugins.manager import builtin_runtime
from nader.plugins.registries import Runtime


@dataclass(frozen=True)
class PartsText:
    cell: str
    stem: str | None
    downsample: str | None


def parts_text(network_text: str, registry: OperatorRegistry) -> PartsText:
    """A network file's blocks as canonical prompt text (what the team sends a model)."""
    parts = network_parts(parse_network(network_text))

    def text(block):  # noqa: ANN001, ANN202
        return None if block is None else block_text(block, registry)

    return PartsText(block_text(parts.cell, registry), text(parts.stem), text(parts.downsample))


def layers_of(block_source: str, registry: OperatorRegistry) -> Counter[str]:
    return layer_counts(parse_block(block_source), registry)


def start_tree(network_text: str) -> ModificationTree:
    """A tree whose root is ``network_text``, trained."""
    tree = ModificationTree()
    tree.add_root(parse_network(network_text), status="trained", valid_acc=70.0)
    return tree


def add_outcome(tree: ModificationTree, proposal: Proposal, outcome: DesignOutcome) -> TreeNode:
    """Put a design into the tree as a session would (pending when new, else its status)."""
    return tree.add_child(
        proposal.parent_id,
        outcome.network,
        suggestion=proposal.inspiration.text,
        inspiration_key=proposal.inspiration.key,
        node_id=proposal.architecture_id,
        hash=outcome.hash,
        params=outcome.params,
        flops=outcome.flops,
        status="pending" if outcome.status == "new" else outcome.status,
    )


@functools.cache
def _builtins() -> Runtime:
    return builtin_runtime()


def build_team(
    *, llm: CompletesRequests, runtime: Runtime | None = None, **kwargs: Any
) -> DesignTeam:
    """``DesignTeam.build`` on the built-in runtime unless a test passes its own."""
    return DesignTeam.build(llm=llm, runtime=runtime or _builtins(), **kwargs)


def offline(seed: int = 0) -> OfflineDesigner:
    """The offline designer on the built-in operators."""
    return OfflineDesigner(_builtins().operators, seed=seed)


def observe(team: DesignTeam, tree: ModificationTree) -> None:
    """Tell the team's duplicate index about the tree's architectures, as a session's records
    do for stored ones (nodes that failed are not known designs)."""
    for node in tree:
        if node.network is None or node.status == "failed":
            continue
        cell = network_parts(node.network).cell
        digest = node.hash or verify_block(cell, team.registry, role=Role.CELL).hash
        team.known.add(str(node.id), network=None, cell=digest)
