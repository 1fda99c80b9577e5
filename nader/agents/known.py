"""The architectures a run already has, by canonical hash: the one duplicate index.

Owned by the session, which adds every architecture it stores (:mod:`nader.session.records`),
and read by the agents: the Reflector tells the Modifier when a new cell is isomorphic to a
known architecture's cell (immediate feedback), and the session refuses to train a network whose
blocks are all isomorphic to a known one's. Both lookups are O(1).
"""

from __future__ import annotations

from collections.abc import Sequence

from nader.ir.canonical import DedupIndex
from nader.ir.graph import Role
from nader.ir.verify import BlockReport


def network_hash(reports: Sequence[BlockReport]) -> str:
    """Blocks' canonical hashes by role: two networks are the same when all their blocks are."""
    return "+".join(f"{r.role.value}:{r.hash}" for r in sorted(reports, key=lambda r: r.role.value))


def cell_hash(reports: Sequence[BlockReport]) -> str | None:
    """The canonical hash of a network's cell (its first cell-role block)."""
    return next((r.hash for r in reports if r.role is Role.CELL), None)


class KnownDesigns:
    """Canonical hash → the first architecture stored under it, for networks and their cells."""

    def __init__(self) -> None:
        self._networks = DedupIndex()
        self._cells = DedupIndex()

    def __len__(self) -> int:
        return len(self._networks)

    def add(self, arch_id: str, *, network: str | None, cell: str | None) -> None:
        if network is not None:
            self._networks.add(network, arch_id)
        if cell is not None:
            self._cells.add(cell, arch_id)

    def network_twin(self, digest: str) -> str | None:
        return self._networks.lookup(digest)

    def cell_twin(self, digest: str) -> str | None:
        return self._cells.lookup(digest)
