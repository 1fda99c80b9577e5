"""Keeping API keys out of everything a run writes, even when a server echoes them back.

A key is read from the environment and sent to the provider; nader itself never writes it. But a
server may send it back — in a 401 body ("invalid x-api-key sk-..."), a proxy's 500 page
showing the request headers, or an answer — and from there it would reach error messages,
recordings, the store, the memory and the logs. So every text that crosses the boundary inward
(answers, partial answers, error messages, the SDKs' own exception text) goes through a
:class:`Redactor` built from the key values the configuration can reach, and the session's log
handler has a :class:`RedactingFilter` as a safety net for anything logged directly.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from urllib.parse import quote

from nader.llm.config import LLMConfig

REDACTED = "[REDACTED]"
#: the variables nader's own providers read keys from, redacted whatever the provider
KNOWN_KEY_VARIABLES = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY")
#: shorter values are not redacted: replacing "abc" everywhere would shred ordinary text, and a
#: real key is far longer
MIN_SECRET_LENGTH = 8
#: characters servers mask a key with ("sk-proj-****...abcd", "sk-an••••••xyz")
MASK_CHARACTERS = "*•●"
#: a masked spelling: visible start, at least 4 mask characters, at least 2 visible end characters
_MASKED = re.compile(
    rf"(?<![A-Za-z0-9_-])([A-Za-z0-9_-]*)[{MASK_CHARACTERS}]{{4,}}([A-Za-z0-9_-]{{2,}})"
    r"(?![A-Za-z0-9_-])"
)


class Redactor:
    """Replaces every secret value, and its URL- and JSON-escaped spellings, with ``[REDACTED]``;
    also a masked spelling of one (a start of the key, mask characters, the key's last
    characters), as OpenAI's "Incorrect API key provided: sk-proj-****...abcd" shows it. A
    masked text whose visible ends are not those of a configured key is left alone."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        spellings: set[str] = set()
        self._secrets: list[str] = []
        for secret in secrets:
            if len(secret) < MIN_SECRET_LENGTH:
                continue
            self._secrets.append(secret)
            spellings.update({secret, quote(secret, safe=""), json.dumps(secret)[1:-1]})
        # longest first, so a spelling that contains another is replaced whole
        self._spellings = sorted(spellings, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._spellings)

    def __repr__(self) -> str:
        return f"Redactor({len(self._spellings)} spellings)"

    def __call__(self, text: str) -> str:
        for spelling in self._spellings:
            if spelling in text:
                text = text.replace(spelling, REDACTED)
        if self._secrets and any(mask in text for mask in MASK_CHARACTERS):
            text = _MASKED.sub(self._masked, text)
        return text

    def _masked(self, match: re.Match[str]) -> str:
        start, end = match.group(1), match.group(2)
        for secret in self._secrets:
            if (
                secret.startswith(start)
                and secret.endswith(end)
                and len(start) + len(end) < len(secret)
            ):
                return REDACTED
        return match.group(0)

    def optional(self, text: str | None) -> str | None:
        return None if text is None else self(text)


def redactor_for(config: LLMConfig) -> Redactor:
    """A redactor for the keys ``config`` may use: its ``api_key_env`` and the vendors' variables."""
    names = {*KNOWN_KEY_VARIABLES, *([config.api_key_env] if config.api_key_env else [])}
    return Redactor(value.strip() for name in names if (value := os.environ.get(name, "")).strip())


class RedactingFilter(logging.Filter):
    """A log-handler filter that redacts secrets from each record's final message."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if self.redactor:
            message = record.getMessage()
            cleaned = self.redactor(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            if record.exc_info and record.exc_info[1] is not None:
                import traceback

                record.exc_text = self.redactor(
                    "".join(traceback.format_exception(*record.exc_info))
                )
                record.exc_info = None
        return True
