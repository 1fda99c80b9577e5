"""Where test data lives: the read-only shared corpus beside the repository (or $NADER_CORPUS)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def corpus_dir() -> Path:
    """``$NADER_CORPUS`` or ``../shared/corpus`` beside the repository."""
    env = os.environ.get("NADER_CORPUS")
    return Path(env) if env else REPO.parent / "shared" / "corpus"


def official_dir() -> Path:
    """The authors' data files (``nader-official``)."""
    return corpus_dir() / "nader-official"


def blocks_dir() -> Path:
    return official_dir() / "blocks"


def nader_command(*args: str) -> list[str]:
    """``python -m nader ARGS`` with this interpreter."""
    return [sys.executable, "-m", "nader", *args]


def nader_env() -> dict[str, str]:
    """The environment for a nader subprocess: this checkout first, no third-party plugins."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env["NADER_LOAD_PLUGINS"] = ""
    return env
