"""Fixtures for the agent tests: the corpus, a registry, and a scripted provider.

The scripted provider is a real provider (it implements ``complete(request)``) that answers
with texts given in advance — recordings shaped like real model output — and keeps every
request, so a test can check what the agents asked.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from pathlib import Path

import pytest

from nader.llm.base import LLMError, LLMRequest, LLMResponse, Usage
from nader.llm.pricing import estimate_tokens


@pytest.fixture(scope="session")
def resnet_network(corpus_blocks: Path) -> str:
    return (corpus_blocks / "nas-bench-201" / "resnet_basic.txt").read_text()


class ScriptedProvider:
    """Answers each request with the next scripted text for its task (or in strict order)."""

    name = "scripted"

    def __init__(self, answers: Iterable[tuple[str, str]], *, strict_order: bool = True) -> None:
        self.strict_order = strict_order
        self.queue: deque[tuple[str, str]] = deque(answers)
        self.requests: list[LLMRequest] = []

    def complete(self, request: LLMRequest) -> LLMResponse:
        self.requests.append(request)
        if self.strict_order:
            if not self.queue:
                raise LLMError(f"no scripted answer left for task {request.task!r}")
            task, text = self.queue.popleft()
            if task != request.task:
                raise LLMError(f"expected a {task!r} request, got {request.task!r}")
        else:
            match = next((item for item in self.queue if item[0] == request.task), None)
            if match is None:
                raise LLMError(f"no scripted answer left for task {request.task!r}")
            self.queue.remove(match)
            text = match[1]
        prompt = sum(estimate_tokens(m.content) for m in request.messages)
        return LLMResponse(
            text=text,
            usage=Usage(input_tokens=prompt, output_tokens=estimate_tokens(text)),
            model="scripted",
            provider=self.name,
        )


@pytest.fixture()
def scripted() -> type[ScriptedProvider]:
    return ScriptedProvider
