"""Papers from a folder: PDF (pypdf), plain text / Markdown, or JSON.

Each file becomes a :class:`Paper` with a title, an abstract (what the Reader's relevance test
reads) and a method section (what inspirations are extracted from). Section finding is
heuristic — headings such as "Abstract", "Method", "Approach", "Proposed ..." and the next
"Experiments" heading — and falls back to the whole body, so an unusual layout still yields text.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from nader.errors import ConfigError

log = logging.getLogger(__name__)

PAPER_SUFFIXES = (".pdf", ".txt", ".md", ".json")
MAX_METHOD_CHARS = 12_000

_HEADING_NUMBER = r"(?:\d+(?:\.\d+)*\.?\s+|[IVX]+\.\s+)?"
_ABSTRACT = re.compile(rf"^\s*(?:#+\s*)?{_HEADING_NUMBER}abstract\b[:.]?\s*", re.I | re.M)
_INTRO = re.compile(rf"^\s*(?:#+\s*)?{_HEADING_NUMBER}introduction\b", re.I | re.M)
_METHOD = re.compile(
    rf"^\s*(?:#+\s*)?{_HEADING_NUMBER}(?:methods?|methodology|approach|our approach|proposed method|"
    r"the proposed\b.*|method\b.*|architecture|network architecture|model)\s*:?\s*$",
    re.I | re.M,
)
_AFTER_METHOD = re.compile(
    rf"^\s*(?:#+\s*)?{_HEADING_NUMBER}(?:experiments?|experimental\b.*|results|evaluation|"
    r"conclusions?|related work|references)\s*:?\s*$",
    re.I | re.M,
)
_FIELD = re.compile(r"^\s*(title|abstract|method|body)\s*:\s*(.*)$", re.I)


@dataclass(frozen=True)
class Paper:
    paper_id: str
    title: str
    abstract: str
    method: str
    source: str


def _squash(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text).strip()


def split_sections(text: str) -> tuple[str, str, str]:
    """(title, abstract, method) from the plain text of a paper."""
    text = text.replace("\r\n", "\n")
    lines = [line.strip() for line in text.splitlines()]
    title = next((line.lstrip("# ").strip() for line in lines if line.strip("# ").strip()), "")
    abstract = ""
    abstract_match = _ABSTRACT.search(text)
    if abstract_match:
        rest = text[abstract_match.end() :]
        end = _INTRO.search(rest) or _METHOD.search(rest)
        abstract = rest[: end.start()] if end else rest[:2000]
    method = ""
    method_match = _METHOD.search(text)
    if method_match:
        rest = text[method_match.end() :]
        end = _AFTER_METHOD.search(rest)
        method = rest[: end.start()] if end else rest
    if not method:
        intro = _INTRO.search(text)
        method = text[intro.end() :] if intro else text
    if not abstract:
        paragraphs = [p for p in re.split(r"\n\s*\n", text) if len(p.split()) > 20]
        abstract = paragraphs[0] if paragraphs else text[:1500]
    return _squash(title), _squash(" ".join(abstract.split())), _squash(method)[:MAX_METHOD_CHARS]


def _fields_text(text: str) -> dict[str, str] | None:
    """``Title: ...`` / ``Abstract: ...`` / ``Method: ...`` files (a field runs to the next)."""
    fields: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = _FIELD.match(line)
        if match:
            current = match.group(1).lower()
            fields[current] = [match.group(2)]
        elif current is not None:
            fields[current].append(line)
    if "title" not in fields or "abstract" not in fields:
        return None
    return {name: "\n".join(lines).strip() for name, lines in fields.items()}


def read_pdf_text(path: Path) -> str:
    try:
        from pypdf import PdfReader
    except ImportError as err:
        raise ConfigError("reading PDF papers needs pypdf: pip install pypdf") from err
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except PyPdfError as err:
        raise ConfigError(f"{path}: cannot read PDF: {err}") from err


def read_paper(path: str | Path) -> Paper:
    """One paper file as a :class:`Paper`."""
    path = Path(path)
    suffix = path.suffix.lower()
    paper_id = path.stem
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path}: not valid JSON: {err}") from err
        if not isinstance(data, dict) or "title" not in data or "abstract" not in data:
            raise ConfigError(f"{path}: a JSON paper needs 'title' and 'abstract'")
        method = data.get("method") or data.get("body") or ""
        return Paper(
            str(data.get("id", paper_id)),
            _squash(str(data["title"])),
            _squash(" ".join(str(data["abstract"]).split())),
            _squash(str(method))[:MAX_METHOD_CHARS],
            str(path),
        )
    if suffix == ".pdf":
        text = read_pdf_text(path)
    elif suffix in (".txt", ".md"):
        text = path.read_text(encoding="utf-8", errors="replace")
        fields = _fields_text(text)
        if fields is not None:
            body = fields.get("method") or fields.get("body") or ""
            _, _, method = split_sections(body) if "method" not in fields else ("", "", body)
            return Paper(
                paper_id,
                _squash(fields["title"]),
                _squash(" ".join(fields["abstract"].split())),
                _squash(method)[:MAX_METHOD_CHARS],
                str(path),
            )
    else:
        raise ConfigError(f"{path}: papers must be {', '.join(PAPER_SUFFIXES)}")
    title, abstract, method = split_sections(text)
    return Paper(paper_id, title, abstract, method, str(path))


def read_papers(folder: str | Path) -> list[Paper]:
    """Every paper file in ``folder`` (sorted by name); unreadable files are logged and skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"papers folder {folder} does not exist")
    papers = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in PAPER_SUFFIXES or not path.is_file():
            continue
        try:
            papers.append(read_paper(path))
        except (ConfigError, OSError, ValueError) as err:
            log.warning("skipping paper %s: %s", path, err)
    return papers
