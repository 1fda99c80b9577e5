"""The error a dataset raises when its files are missing, corrupt, unsafe or inconsistent.

Lives here rather than in :mod:`nader.errors` so the data package owns its one failure type; it
still derives from :class:`~nader.errors.NaderError`, so "anything nader rejected" stays one catch.
"""

from __future__ import annotations

from nader.errors import NaderError


class DatasetError(NaderError):
    """A dataset could not be loaded; the message names the file or setting at fault."""
