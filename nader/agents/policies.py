"""Candidate selection policies for the Proposer (registered as plugins).

A policy picks the tree node to modify next: ``select(tree, rng) -> node_id``. Policies see only
*validation* accuracy (``TreeNode.valid_acc``) — choosing by test accuracy would leak the test set
into the search, which the authors' code did. Nodes are eligible once trained; until the root is
trained, the root is chosen. ``max_children`` (optional) stops expanding a node that already has
that many children.

A node whose training an early-termination rule stopped (``TreeNode.stopped_early``) is in the
tree like a trained one, but its accuracy is partial and was judged worse than its peers' at the
same epoch: by default no policy expands it (``expand_stopped_early = true`` in
``agents.policy_options`` lifts that), unless nothing else is left.

- ``nader``: the paper's mix of depth-first and breadth-first search. Depth-first along
  improving paths: the most recently trained node is modified again if it beat its parent.
  Otherwise the search backtracks up that node's path to the nearest ancestor with room for
  another child (at most ``max_children``, default 3) — breadth at that level. When the whole
  path is full, the node with the fewest children anywhere (ties: higher validation accuracy,
  then shallower) restores coverage; when every node is full, the limit is lifted.
- ``greedy``: the highest validation accuracy.
- ``bfs``: the fewest children, then the shallowest, then the oldest.
- ``dfs``: the deepest, then the newest.
- ``random``: uniform over the eligible nodes.
"""

from __future__ import annotations

import random
from typing import Any, Protocol

from nader.agents.tree import ModificationTree, TreeNode
from nader.errors import ConfigError


class SelectionPolicy(Protocol):
    name: str

    def select(self, tree: ModificationTree, rng: random.Random) -> int: ...


class _Policy:
    name = "base"

    def __init__(
        self, max_children: int | None = None, expand_stopped_early: bool = False, **options: Any
    ) -> None:
        if options:
            raise ConfigError(f"policy {self.name!r} has no options {', '.join(sorted(options))}")
        if max_children is not None and max_children < 1:
            raise ConfigError("max_children must be at least 1")
        if not isinstance(expand_stopped_early, bool):
            raise ConfigError("expand_stopped_early must be true or false")
        self.max_children = max_children
        self.expand_stopped_early = expand_stopped_early

    def expandable(self, nodes: list[TreeNode]) -> list[TreeNode]:
        """Of ``nodes``, those a policy may modify: nodes stopped early only when allowed, or
        when they are all there is."""
        if self.expand_stopped_early:
            return nodes
        return [node for node in nodes if not node.stopped_early] or nodes

    def eligible(self, tree: ModificationTree) -> list[TreeNode]:
        if tree.root_id is None:
            raise ConfigError("the tree has no root to start from")
        trained = self.expandable(
            [
                node
                for node in tree.trained()
                if self.max_children is None or len(tree.children(node.id)) < self.max_children
            ]
        )
        if trained:
            return trained
        root = tree[tree.root_id]
        if not root.trained:
            return [root]
        raise ConfigError("every trained node has reached max_children; nothing left to expand")

    def select(self, tree: ModificationTree, rng: random.Random) -> int:
        return self.choose(tree, self.eligible(tree), rng).id

    def choose(self, tree: ModificationTree, nodes: list[TreeNode], rng: random.Random) -> TreeNode:
        raise NotImplementedError


def _acc(node: TreeNode) -> float:
    return node.valid_acc if node.valid_acc is not None else float("-inf")


class GreedyPolicy(_Policy):
    name = "greedy"

    def choose(self, tree: ModificationTree, nodes: list[TreeNode], rng: random.Random) -> TreeNode:
        return max(nodes, key=lambda n: (_acc(n), -n.id))


class BreadthFirstPolicy(_Policy):
    name = "bfs"

    def choose(self, tree: ModificationTree, nodes: list[TreeNode], rng: random.Random) -> TreeNode:
        return min(nodes, key=lambda n: (len(tree.children(n.id)), n.depth, n.id))


class DepthFirstPolicy(_Policy):
    name = "dfs"

    def choose(self, tree: ModificationTree, nodes: list[TreeNode], rng: random.Random) -> TreeNode:
        return max(nodes, key=lambda n: (n.depth, n.id))


class RandomPolicy(_Policy):
    name = "random"

    def choose(self, tree: ModificationTree, nodes: list[TreeNode], rng: random.Random) -> TreeNode:
        return rng.choice(sorted(nodes, key=lambda n: n.id))


class NaderPolicy(_Policy):
    name = "nader"

    def __init__(
        self, max_children: int | None = 3, expand_stopped_early: bool = False, **options: Any
    ) -> None:
        super().__init__(
            max_children=max_children, expand_stopped_early=expand_stopped_early, **options
        )

    def eligible(self, tree: ModificationTree) -> list[TreeNode]:
        """Width-limited nodes; when every one is full, all expandable nodes (a session goes
        on)."""
        try:
            return super().eligible(tree)
        except ConfigError:
            expandable = self.expandable(tree.trained())
            if not expandable:
                raise
            return expandable

    def choose(self, tree: ModificationTree, nodes: list[TreeNode], rng: random.Random) -> TreeNode:
        eligible = {node.id for node in nodes}
        trained = tree.trained()
        if trained:
            latest = max(trained, key=lambda n: n.id)
            parent = tree.parent_of(latest.id)
            # a partial accuracy never counts as an improvement: depth-first stops there
            improved = not latest.stopped_early and (
                parent is None or (parent.trained and _acc(latest) > _acc(parent))
            )
            path = tree.path_to(latest.id)[::-1]  # latest, its parent, ..., root
            for position, node in enumerate(path):
                if node.id not in eligible or (position == 0 and not improved):
                    continue
                return node
        return min(nodes, key=lambda n: (len(tree.children(n.id)), -_acc(n), n.depth, n.id))


POLICIES: dict[str, type[_Policy]] = {
    policy.name: policy
    for policy in (NaderPolicy, GreedyPolicy, BreadthFirstPolicy, DepthFirstPolicy, RandomPolicy)
}
