"""The modification tree: architectures as nodes, applied suggestions as edges.

A node holds what is known about one architecture — its network (IR), canonical hash, costs,
status, validation and test accuracy — and the edge into it is the suggestion that produced it.
Selection policies read ``valid_acc`` only; ``test_acc`` is stored for reporting and never used to
choose. The tree also remembers, per node, which inspirations were already proposed for it, so
the Proposer never proposes one twice for the same node.

In a session the tree is a *view*: :mod:`nader.session.records` builds it from the run store's
records and applies every change the store takes. It has no persistence of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from nader.errors import ConfigError
from nader.ir.graph import Network

Status = Literal["pending", "trained", "failed", "duplicate"]
STATUSES: tuple[str, ...] = ("pending", "trained", "failed", "duplicate")


@dataclass
class TreeNode:
    """One architecture and the edge that led to it."""

    id: int
    parent: int | None
    #: None for a design that never produced a verified network
    network: Network | None
    suggestion: str | None = None
    inspiration_key: str | None = None
    hash: str | None = None
    params: int | None = None
    flops: int | None = None
    status: Status = "pending"
    valid_acc: float | None = None
    test_acc: float | None = None
    depth: int = 0
    used_inspirations: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def trained(self) -> bool:
        return self.status == "trained" and self.valid_acc is not None

    @property
    def stopped_early(self) -> bool:
        """An early-termination rule stopped its training part-way (``notes["stopped_early"]``
        holds the epoch and the rule): its ``valid_acc`` is a partial one, from fewer epochs."""
        return "stopped_early" in self.notes


class ModificationTree:
    """Nodes by id and children lists."""

    def __init__(self) -> None:
        self._nodes: dict[int, TreeNode] = {}
        self._children: dict[int, list[int]] = {}
        self.root_id: int | None = None

    # -- building
    def add_root(self, network: Network | None, **metrics: Any) -> TreeNode:
        if self.root_id is not None:
            raise ConfigError("the tree already has a root")
        node = TreeNode(id=0, parent=None, network=network, **metrics)
        self._insert(node)
        self.root_id = node.id
        return node

    def next_id(self) -> int:
        return max(self._nodes, default=-1) + 1

    def add_child(
        self,
        parent: int,
        network: Network | None,
        *,
        suggestion: str | None,
        inspiration_key: str | None = None,
        node_id: int | None = None,
        **metrics: Any,
    ) -> TreeNode:
        if parent not in self._nodes:
            raise ConfigError(f"no tree node {parent} to add a child to")
        ident = self.next_id() if node_id is None else node_id
        if ident in self._nodes:
            raise ConfigError(f"tree node {ident} exists already")
        node = TreeNode(
            id=ident,
            parent=parent,
            network=network,
            suggestion=suggestion,
            inspiration_key=inspiration_key,
            depth=self._nodes[parent].depth + 1,
            **metrics,
        )
        self._insert(node)
        return node

    def _insert(self, node: TreeNode) -> None:
        self._nodes[node.id] = node
        self._children.setdefault(node.id, [])
        if node.parent is not None:
            self._children.setdefault(node.parent, []).append(node.id)

    def update(self, node_id: int, **values: Any) -> TreeNode:
        """Set metrics or status after training (unknown names are errors)."""
        node = self[node_id]
        known = {f.name for f in fields(TreeNode)} - {"id", "parent", "depth"}
        for name, value in values.items():
            if name not in known:
                raise ConfigError(f"tree nodes have no field {name!r}")
            if name == "status" and value not in STATUSES:
                raise ConfigError(f"unknown status {value!r}")
            setattr(node, name, value)
        return node

    def mark_used(self, node_id: int, inspiration_key: str) -> None:
        used = self[node_id].used_inspirations
        if inspiration_key not in used:
            used.append(inspiration_key)

    # -- reading
    def __getitem__(self, node_id: int) -> TreeNode:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise ConfigError(f"no tree node {node_id}") from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __iter__(self) -> Iterator[TreeNode]:
        return iter(sorted(self._nodes.values(), key=lambda n: n.id))

    def __len__(self) -> int:
        return len(self._nodes)

    def children(self, node_id: int) -> list[TreeNode]:
        return [self._nodes[c] for c in self._children.get(node_id, [])]

    def parent_of(self, node_id: int) -> TreeNode | None:
        parent = self[node_id].parent
        return None if parent is None else self._nodes[parent]

    def path_to(self, node_id: int) -> list[TreeNode]:
        """Root ... node."""
        path = [self[node_id]]
        while path[-1].parent is not None:
            path.append(self._nodes[path[-1].parent])
        return path[::-1]

    def trained(self) -> list[TreeNode]:
        return [node for node in self if node.trained]

    def best(self) -> TreeNode | None:
        """The fully trained node with the highest validation accuracy (ties: earliest); a node
        stopped early is never the best, as in the run's summary."""
        finished = [node for node in self.trained() if not node.stopped_early]
        return max(finished, key=lambda n: (n.valid_acc, -n.id)) if finished else None
