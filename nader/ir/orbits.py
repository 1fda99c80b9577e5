"""A node of the canonical-labelling search tree and the orbits of its target cell.

:mod:`nader.ir.canonical` keeps these on an explicit stack (no recursion). Each frame tracks the
orbits of its cell under the automorphisms found in its subtree (every one of them fixes the
frame's individualised prefix), with a union-find over the cell's members.
"""

from __future__ import annotations


class SearchFrame:
    """One tree node on the search stack: its partition, prefix, target cell and the orbits of
    that cell under the automorphisms found below it."""

    def __init__(
        self, colors: list[int], prefix: tuple[int, ...], cell: list[int], seen: int
    ) -> None:
        self.colors = colors
        self.prefix = prefix
        self.cell = cell
        self.next = 1
        self.first_child: int | None = None
        self.first_child_colors: list[int] = []
        self.first_leaf: list[int] | None = None
        self.first_encoding: tuple | None = None  # type: ignore[type-arg]
        self.explored: list[int] = []
        self.parent = {v: v for v in cell}  # union-find over the cell
        self.seen = seen  # generators found before this frame existed do not apply

    def find(self, v: int) -> int:
        parent = self.parent
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    def absorb(self, generators: list[list[tuple[int, int]]]) -> None:
        """Unite the orbits joined by the generators found since the last call (each given by
        the pairs (v, image) it moves: the cost is their support, not the cell's size)."""
        parent = self.parent
        for moved in generators[self.seen :]:
            for v, w in moved:
                if v in parent and w in parent:
                    a, b = self.find(v), self.find(w)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
        self.seen = len(generators)

    def in_explored_orbit(self, w: int) -> bool:
        root = self.find(w)
        return any(self.find(x) == root for x in self.explored)
