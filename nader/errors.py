"""The one error hierarchy of nader.

Every error a user (or an LLM) can cause derives from :class:`NaderError`, so a caller that
wants "anything nader rejected" catches one type. Errors carry enough location data (file,
block, node id, line) that the Reflector can send them back to the Modifier verbatim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class NaderError(Exception):
    """Root of every error nader raises on purpose."""


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a block: what, where, and what was expected.

    ``code`` is a stable kebab-case identifier (e.g. ``shape-mismatch``) that tools and the
    Reflector's experience categories key on; ``message`` is a sentence a person or an LLM can
    act on.
    """

    code: str
    message: str
    block: str | None = None
    node: int | None = None
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "line": self.line, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        where = []
        if self.block is not None:
            where.append(f"block {self.block!r}")
        if self.node is not None:
            where.append(f"node {self.node}")
        if self.line is not None:
            where.append(f"line {self.line}")
        prefix = ", ".join(where)
        return f"[{self.code}] {prefix + ': ' if prefix else ''}{self.message}"


class BlockSyntaxError(NaderError):
    """The block text does not follow the format; carries line, column, excerpt and expectations."""

    def __init__(
        self,
        message: str,
        *,
        line: int,
        column: int,
        excerpt: str = "",
        expected: Sequence[str] = (),
        source: str | None = None,
        block: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.excerpt = excerpt
        self.expected = tuple(expected)
        self.source = source
        self.block = block
        super().__init__(str(self))

    @property
    def diagnostic(self) -> Diagnostic:
        text = self.message
        if self.expected:
            text += f" (expected one of: {', '.join(self.expected)})"
        return Diagnostic("syntax", text, block=self.block, line=self.line, column=self.column)

    def __str__(self) -> str:
        where = f"{self.source}:" if self.source else "line "
        head = f"{where}{self.line}:{self.column}: {self.message}"
        if self.expected:
            head += f"\nexpected one of: {', '.join(self.expected)}"
        if self.excerpt:
            head += f"\n{self.excerpt}"
        return head


class ExpressionError(NaderError):
    """A symbolic size expression is malformed, too large, or cannot be evaluated."""


class VerifyError(NaderError):
    """A block (or network) failed verification; holds every diagnostic found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics) or "verification failed")


class PluginError(NaderError):
    """A plugin failed to load, crashed in a hook, or registered something invalid."""


class ConfigError(NaderError):
    """A configuration file or value is invalid; names the key."""


class BackendError(NaderError):
    """Lowering, compiling, exporting or width search failed."""


class WidthSearchError(BackendError):
    """No width satisfies the requested budget and divisibility constraints."""
