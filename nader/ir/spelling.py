"""Closest known spellings of an unknown name, for "did you mean" hints in diagnostics.

Names are compared without regard to case first (``relu`` means ``ReLU``), then by
:func:`difflib.get_close_matches` on the lower-cased names.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.6


def closest(name: str, known: Iterable[str], n: int = 1) -> list[str]:
    """Up to ``n`` known names that look like ``name``, best first (empty when none is close)."""
    by_lower: dict[str, str] = {}
    for candidate in known:
        by_lower.setdefault(candidate.lower(), candidate)
    lowered = name.lower()
    if lowered in by_lower and by_lower[lowered] != name:
        return [by_lower[lowered]]
    matches = difflib.get_close_matches(lowered, list(by_lower), n=n, cutoff=CUTOFF)
    return [by_lower[match] for match in matches]


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'groups'?)`` or the empty string."""
    hint = closest(name, known)
    return f" (did you mean {hint[0]!r}?)" if hint else ""
