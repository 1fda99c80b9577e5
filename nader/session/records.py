"""The run's records: the store is the one source of truth, the tree and the duplicate index are
views built from it, and this module alone keeps them in step.

Every change goes to the :class:`~nader.session.store.RunStore` first; the
:class:`~nader.agents.tree.ModificationTree` node and the
:class:`~nader.agents.known.KnownDesigns` entry are then derived from the stored
:class:`~nader.session.store.Architecture` (one translation, :func:`tree_fields`). On resume the
views are rebuilt from the store, each stored network parsed once.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import ValidationError

from nader.agents.known import KnownDesigns
from nader.agents.outcome import DesignOutcome
from nader.agents.proposer import Proposal
from nader.agents.tree import ModificationTree, Status
from nader.errors import ConfigError, NaderError
from nader.ir.graph import Network
from nader.ir.parser import parse_network
from nader.session.store import PENDING_STATUSES, Architecture, RunStore
from nader.training.job import EpochHistory, JobOutcome

#: store status → modification-tree status (everything else is "failed"); a candidate stopped
#: early takes part in the tree like a trained one, flagged in its notes
_TREE_STATUS: dict[str, Status] = {
    "trained": "trained",
    "stopped_early": "trained",
    "queued": "pending",
    "training": "pending",
    "duplicate": "duplicate",
}
#: statuses of architectures that never had a verified network of their own
_NOT_KNOWN = frozenset({"duplicate", "invalid"})
#: longest error text kept with an architecture
MAX_ERROR = 4000
#: most bytes of an epoch log read per poll (thousands of epoch lines)
MAX_EPOCH_BYTES = 1 << 20


def tree_fields(arch: Architecture) -> dict[str, Any]:
    """What the tree node of ``arch`` shows (the one store → tree translation). A candidate an
    early-termination rule stopped carries ``notes["stopped_early"] = {"epoch", "rule"}`` so a
    search policy can tell its partial accuracy from a finished one."""
    fields: dict[str, Any] = {
        "hash": arch.hash,
        "params": arch.params,
        "flops": arch.flops,
        "status": _TREE_STATUS.get(arch.status, "failed"),
        "valid_acc": arch.valid_acc,
        "test_acc": arch.test_acc,
    }
    if arch.status == "stopped_early":
        fields["notes"] = {"stopped_early": arch.extra.get("stopped_early", {})}
    return fields


class RunRecords:
    """The store, with the tree and the duplicate index as views of it."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.tree = ModificationTree()
        self.known = KnownDesigns()
        self._epoch_offsets: dict[str, int] = {}
        for arch in store.all():
            self._show(arch, _stored_network(arch))

    def _show(self, arch: Architecture, network: Network | None) -> None:
        fields = tree_fields(arch)
        if arch.parent is None:
            self.tree.add_root(network, **fields)
        else:
            key = arch.extra.get("inspiration_key")
            self.tree.add_child(
                int(arch.parent),
                network,
                suggestion=arch.suggestion,
                inspiration_key=key,
                node_id=int(arch.id),
                **fields,
            )
            if key:
                self.tree.mark_used(int(arch.parent), key)
        if arch.status not in _NOT_KNOWN:
            self.known.add(arch.id, network=arch.extra.get("network_hash"), cell=arch.hash)

    # ---------------------------------------------------------------- changes

    def add(self, arch: Architecture, network: Network | None) -> Architecture:
        """Store a new architecture, then show it in the views (``network`` as verified)."""
        self.store.add(arch)
        self._show(arch, network)
        return arch

    def update(self, arch_id: str, **changes: Any) -> Architecture:
        arch = self.store.update(arch_id, **changes)
        self.tree.update(int(arch.id), **tree_fields(arch))
        return arch

    def add_design(
        self,
        proposal: Proposal,
        outcome: DesignOutcome | None,
        status: str,
        *,
        error: str | None = None,
        width: int | None = None,
        params: int | None = None,
        flops: int | None = None,
    ) -> Architecture:
        """Store what a design produced (``outcome`` None: the design itself failed)."""
        extra: dict[str, Any] = {"inspiration_key": proposal.inspiration.key}
        fields: dict[str, Any] = {}
        if outcome is not None:
            usage = outcome.usage
            fields = {
                "hash": outcome.hash,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cost_usd": outcome.cost_usd,
                "tries": outcome.tries,
            }
            extra.update(
                cell_tries=outcome.cell_tries,
                stem_downsample_tries=outcome.stem_downsample_tries,
                notes=list(outcome.notes),
                tips_used=list(outcome.tips_used),
            )
            if outcome.network_hash is not None:
                extra["network_hash"] = outcome.network_hash
            if outcome.prescreen:  # every candidate cell, the screened-out ones too
                extra["prescreen"] = [candidate.to_dict() for candidate in outcome.prescreen]
        arch = Architecture(
            str(proposal.architecture_id),
            self.store.next_seq(),
            str(proposal.parent_id),
            proposal.inspiration.text,
            status,
            error=error[:MAX_ERROR] if error else None,
            network_text=outcome.network_text if outcome is not None else None,
            width=width,
            params=params,
            flops=flops,
            extra=extra,
            **fields,
        )
        return self.add(arch, outcome.network if outcome is not None else None)

    def ingest_epochs(self) -> list[tuple[str, EpochHistory]]:
        """Read the epochs that training candidates appended to ``arch/<id>/epochs.jsonl`` since
        the last call and record each once (history, event, metrics.json); returns them.

        Only whole lines count (a line being written is read next time); a malformed line is
        skipped, never trusted. On resume the offsets start at 0 and epochs already in the
        history are ignored by the store.
        """
        fresh: list[tuple[str, EpochHistory]] = []
        for arch in self.store.all():
            if arch.status not in PENDING_STATUSES:
                continue
            path = self.store.root / "arch" / arch.id / "epochs.jsonl"
            offset = self._epoch_offsets.get(arch.id, 0)
            try:
                with open(path, "rb") as handle:
                    handle.seek(offset)
                    chunk = handle.read(MAX_EPOCH_BYTES)
            except FileNotFoundError:
                continue
            whole = chunk[: chunk.rfind(b"\n") + 1]
            self._epoch_offsets[arch.id] = offset + len(whole)
            known = {row.get("epoch") for row in arch.extra.get("history", [])}
            for line in whole.splitlines():
                try:
                    record = EpochHistory.model_validate_json(line)
                except ValidationError:
                    continue
                if record.epoch in known:
                    continue
                known.add(record.epoch)
                self.store.record_epoch(arch.id, record.model_dump(mode="json"))
                fresh.append((arch.id, record))
        return fresh

    def record_training(self, outcome: JobOutcome) -> Architecture:
        """Store how a candidate's training ended: its metrics, its zero-cost proxies, and any
        epoch of the worker's history not yet recorded. Epochs already recorded (and published
        as events) stay as they were: after a resume the worker may train again an epoch that
        its checkpoint missed, and the history keeps the one the events announced."""
        arch = self.store.get(outcome.arch_id)
        recorded = {row.get("epoch") for row in arch.extra.get("history", [])}
        for row in outcome.history:  # epochs the log did not deliver (no shared disk, a race)
            if row.epoch not in recorded:
                arch = self.store.record_epoch(arch.id, row.model_dump(mode="json"))
        extra = dict(arch.extra)
        extra["train"] = outcome.training_metrics()
        if outcome.phases:
            extra["train"]["phases"] = dict(outcome.phases)
        if outcome.proxies:
            extra["proxies"] = dict(outcome.proxies)
        if outcome.status == "stopped_early":
            rule = (outcome.error or "").split(" ", 1)[0]
            extra["stopped_early"] = {"epoch": outcome.epochs, "rule": rule}
        return self.update(
            outcome.arch_id,
            status=outcome.status,
            valid_acc=outcome.valid_acc,
            test_acc=outcome.test_acc,
            epochs=outcome.epochs,
            error=outcome.error[:MAX_ERROR] if outcome.error else None,
            finished=time.time(),
            extra=extra,
        )


def _stored_network(arch: Architecture) -> Network | None:
    if arch.network_text is None:
        return None
    try:
        return parse_network(arch.network_text, f"architecture {arch.id}")
    except NaderError as err:
        raise ConfigError(
            f"the stored network of architecture {arch.id} (state.db) does not parse: {err}"
        ) from err
