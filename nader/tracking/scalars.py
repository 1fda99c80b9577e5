"""Which numbers of a record become scalars: shared by the TensorBoard and MLflow trackers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

#: per-epoch fields of the history contract that are plotted
EPOCH_FIELDS = ("train_loss", "train_acc", "valid_acc", "lr", "images_per_second", "seconds")
#: per-architecture fields plotted against the architecture's index in the run
ARCH_FIELDS = ("valid_acc", "test_acc", "params", "flops")


def numbers(record: Mapping[str, Any], fields: tuple[str, ...]) -> Iterator[tuple[str, float]]:
    """``(field, value)`` for each field of ``record`` that holds a finite number."""
    for name in fields:
        value = record.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
            yield name, float(value)


def history(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The per-epoch history of a ``summary.json`` record (``extra["history"]``), if any."""
    extra = record.get("extra") or {}
    items = extra.get("history") if isinstance(extra, Mapping) else None
    return [item for item in items or [] if isinstance(item, Mapping) and "epoch" in item]
