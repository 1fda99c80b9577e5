"""Job functions for end-to-end tests (importable by spawned worker processes)."""

from __future__ import annotations

from typing import Any

from nader.session.job import train_candidate


def faulty_training(payload: dict[str, Any]) -> dict[str, Any]:
    """Architecture 1 raises in training; architecture 2 exhausts its memory; others train."""
    if payload["arch_id"] == "1":
        raise RuntimeError("loss exploded in the first step")
    if payload["arch_id"] == "2":
        hoard = [bytearray(256 * 1024 * 1024) for _ in range(64)]  # 16 GiB: beyond the limit
        return {"status": "trained", "valid_acc": float(len(hoard))}
    return train_candidate(payload)
