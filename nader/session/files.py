"""Reading the text files a user names (the config, the base network) with bounds and clean errors.

A path may name anything: ``/dev/zero`` (read without end), a directory, a FIFO, a file in
another encoding. Only a regular file up to ``limit`` bytes of UTF-8 is read; anything else is
one :class:`~nader.errors.ConfigError` naming the key, the file and what to do.
"""

from __future__ import annotations

from pathlib import Path

from nader.errors import ConfigError

#: largest config or network file read (the authors' largest network file is ~10 KB)
MAX_TEXT_BYTES = 1 << 20


def read_user_text(path: Path, label: str, limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of ``path``; ``label`` names it in errors (``base.network``, ``config``).

    :raises ConfigError: not a regular file, larger than ``limit``, unreadable, or not UTF-8.
    """
    try:
        if not path.is_file():
            what = "does not exist" if not path.exists() else "is not a regular file"
            raise ConfigError(f"{label}: {path} {what}; give a text file")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as err:
        raise ConfigError(f"{label}: cannot read {path}: {err.strerror or err}") from err
    if len(data) > limit:
        raise ConfigError(f"{label}: {path} is larger than {limit:,} bytes; give a smaller file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{label}: {path} is not UTF-8 text (byte {err.start} is {data[err.start]:#04x}); "
            "save it as UTF-8"
        ) from err
