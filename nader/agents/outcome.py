"""What came of one proposal: :class:`DesignOutcome`.

A new design carries its verified :class:`~nader.ir.graph.Network` with the verifier's reports
(shapes, costs, canonical hashes), so nothing downstream parses or analyses it again; its text is
printed once, from the verified structures, for the run directory and the training worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from nader.agents.prescreen import PrescreenCandidate
from nader.ir.graph import Network
from nader.ir.verify import BlockReport
from nader.llm.base import Usage
from nader.llm.usage import UsageEntry, total_usage

DesignStatus = Literal["new", "duplicate", "failed"]


@dataclass(frozen=True)
class DesignOutcome:
    """What came of a proposal: a new verified network, a known one, or nothing."""

    status: DesignStatus
    architecture_id: int
    parent_id: int
    suggestion: str
    #: the verified network (cell first; stem and downsample when the parent had them)
    network: Network | None = None
    #: the network as canonical block text (printed from the verified structures)
    network_text: str | None = None
    block_reports: tuple[BlockReport, ...] = ()
    #: canonical hash of the cell, and of the whole network (blocks by role)
    hash: str | None = None
    network_hash: str | None = None
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
    #: the k candidate cells of a pre-screen (``agents.prescreen_k`` > 1), the chosen one marked
    prescreen: tuple[PrescreenCandidate, ...] = ()
    #: the ledger's entries of this design's calls (proposal included)
    usage_by_call: tuple[UsageEntry, ...] = ()

    @property
    def cell_name(self) -> str | None:
        return self.network.blocks[0].name if self.network is not None else None

    @property
    def usage(self) -> Usage:
        return total_usage(self.usage_by_call)

    @property
    def cost_usd(self) -> float:
        return sum(entry.cost_usd for entry in self.usage_by_call)

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
            "network_hash": self.network_hash,
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
            "prescreen": [candidate.to_dict() for candidate in self.prescreen],
            "usage_by_call": [entry.to_dict() for entry in self.usage_by_call],
        }
