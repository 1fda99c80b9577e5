"""The Reader: papers in, inspirations out, stored in the knowledge pool.

Two LLM steps per paper, as in the paper: (1) is it relevant to block design? — a Yes/No
judgement on the abstract; (2) for relevant papers, extract short inspirations from the method
section. Answers are parsed leniently (a Yes/No anywhere on the first line; numbered, bulleted or
JSON lists) because models phrase them in many ways.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nader.agents import tasks
from nader.agents.calls import AgentCaller
from nader.agents.knowledge import Inspiration, KnowledgePool, text_key
from nader.agents.papers import Paper, read_papers
from nader.agents.prompts import PromptBook

log = logging.getLogger(__name__)

_YES_NO = re.compile(r"\b(yes|no)\b", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(.+?)\s*$")
MAX_ABSTRACT_CHARS = 3_000


def parse_yes_no(answer: str) -> bool | None:
    """True for yes, False for no, None when the answer says neither."""
    lines = [
        line for line in answer.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    for line in lines:  # the first line that says yes or no decides
        match = _YES_NO.search(line)
        if match:
            return match.group(1).lower() == "yes"
    return None


def parse_inspirations(answer: str, limit: int) -> list[str]:
    """Inspiration sentences from a numbered/bulleted list or a JSON list of strings."""
    start, end = answer.find("["), answer.rfind("]")
    if 0 <= start < end:
        try:
            data = json.loads(answer[start : end + 1])
        except json.JSONDecodeError:
            data = None
        if isinstance(data, list):
            items = [
                str(item.get("inspiration", "")) if isinstance(item, dict) else str(item)
                for item in data
            ]
            cleaned = [" ".join(i.split()) for i in items if len(i.split()) >= 4]
            if cleaned:
                return cleaned[:limit]
    items = []
    for line in answer.splitlines():
        match = _LIST_ITEM.match(line)
        if match and len(match.group(1).split()) >= 4:
            items.append(" ".join(match.group(1).strip("*").split()))
    return items[:limit]


@dataclass
class ReaderReport:
    papers: int = 0
    relevant: list[str] = field(default_factory=list)
    irrelevant: list[str] = field(default_factory=list)
    unclear: list[str] = field(default_factory=list)
    inspirations: list[Inspiration] = field(default_factory=list)
    added: int = 0


class Reader:
    """Keeps relevant papers and stores what can be learnt from them."""

    def __init__(
        self,
        caller: AgentCaller,
        prompts: PromptBook,
        knowledge: KnowledgePool,
        *,
        max_inspirations_per_paper: int = 5,
    ) -> None:
        self.caller = caller
        self.prompts = prompts
        self.knowledge = knowledge
        self.max_items = max_inspirations_per_paper

    def is_relevant(self, paper: Paper) -> bool | None:
        abstract = paper.abstract[:MAX_ABSTRACT_CHARS]
        response = self.caller.ask(
            task=tasks.PAPER_RELEVANCE,
            role=tasks.READER,
            messages=[
                self.prompts.system(tasks.READER),
                self.prompts.user("paper_relevance", title=paper.title, abstract=abstract),
            ],
            fields={"title": paper.title, "abstract": abstract, "paper_id": paper.paper_id},
            architecture=None,
        )
        return parse_yes_no(response.text)

    def extract(self, paper: Paper) -> list[Inspiration]:
        response = self.caller.ask(
            task=tasks.EXTRACT_INSPIRATIONS,
            role=tasks.READER,
            messages=[
                self.prompts.system(tasks.READER),
                self.prompts.user(
                    "inspiration_extraction",
                    title=paper.title,
                    method=paper.method,
                    max_items=str(self.max_items),
                ),
            ],
            fields={
                "title": paper.title,
                "method": paper.method,
                "max_items": self.max_items,
                "paper_id": paper.paper_id,
            },
            architecture=None,
        )
        texts = parse_inspirations(response.text, self.max_items)
        source = "reader"
        return [
            Inspiration(
                text_key(f"{source}:{paper.paper_id}", text),
                text,
                source,
                paper.paper_id,
                paper.title,
            )
            for text in texts
        ]

    def read(self, papers: Sequence[Paper]) -> ReaderReport:
        report = ReaderReport(papers=len(papers))
        for paper in papers:
            verdict = self.is_relevant(paper)
            if verdict is None:
                log.warning(
                    "Reader: no yes/no in the relevance answer for %s; skipping it", paper.source
                )
                report.unclear.append(paper.paper_id)
                continue
            if not verdict:
                report.irrelevant.append(paper.paper_id)
                continue
            report.relevant.append(paper.paper_id)
            if not paper.method:
                continue
            report.inspirations.extend(self.extract(paper))
        report.added = self.knowledge.add(report.inspirations)
        log.info(
            "Reader: %d papers, %d relevant, %d inspirations (%d new)",
            report.papers,
            len(report.relevant),
            len(report.inspirations),
            report.added,
        )
        return report

    def read_folder(self, folder: str | Path) -> ReaderReport:
        return self.read(read_papers(folder))
