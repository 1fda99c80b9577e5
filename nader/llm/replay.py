"""The ``replay`` provider: answers from a recorded run instead of a model.

A recorded run's ``llm/recordings.jsonl`` maps (provider, model, parameters, messages) keys to
answers in the order they were given. Replaying with the same configuration (only ``provider``
changed to ``"replay"`` and ``replay_from`` set) sends the same requests in the same order and
so gets the same answers — the n-th identical request gets the n-th recorded answer, and a
recorded error is raised again. A request the recording does not hold raises
:class:`~nader.llm.base.ReplayMiss` naming the task and the key; nothing is ever sent anywhere.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from nader.errors import ConfigError
from nader.llm.base import LLMRequest, LLMResponse, ReplayMiss
from nader.llm.config import LLMConfig, effective_parameters
from nader.llm.recording import CallRecord, read_recordings, recordings_path, request_key


class ReplayProvider:
    """Answers requests from a recordings file; the client asks it by (key, occurrence)."""

    name = "replay"

    def __init__(self, config: LLMConfig) -> None:
        if config.replay_from is None:
            raise ConfigError(
                "llm.provider = 'replay' needs llm.replay_from: a run directory or recordings.jsonl"
            )
        self.config = config
        self.source: Path = recordings_path(config.replay_from)
        if not self.source.is_file():
            raise ConfigError(f"llm.replay_from: no recordings at {self.source}")
        records = read_recordings(self.source)
        self.answers_as = _recorded_provider(records, config.replay_provider, self.source)
        self._answers: dict[str, list[CallRecord]] = defaultdict(list)
        for record in sorted(records, key=lambda r: r.occurrence):
            if record.provider == self.answers_as:
                self._answers[record.key].append(record)
        self._served: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"ReplayProvider(source={str(self.source)!r}, answers_as={self.answers_as!r})"

    def key_for(self, request: LLMRequest) -> str:
        """The recording key of ``request`` as the recorded provider would have keyed it."""
        parameters = effective_parameters(request, self.config)
        return request_key(self.answers_as, self.config.model, parameters, request.messages)

    def lookup(self, request: LLMRequest, key: str, occurrence: int) -> CallRecord:
        """The record answering the ``occurrence``-th call with ``key``, or :class:`ReplayMiss`."""
        answers = self._answers.get(key, [])
        if occurrence < len(answers):
            return answers[occurrence]
        if answers:
            reason = f"only {len(answers)} identical call(s) were recorded, this is call {occurrence + 1}"
        else:
            reason = "no recorded call has this provider, model, parameters and messages"
        raise ReplayMiss(
            f"replay miss for task {request.task!r}: {reason} (key {key}, recording {self.source})",
            key=key,
            occurrence=occurrence,
            task=request.task,
        )

    def complete(self, request: LLMRequest) -> LLMResponse:
        """Standalone use (without :class:`LLMClient`): counts occurrences itself."""
        key = self.key_for(request)
        record = self.lookup(request, key, self._served[key])
        self._served[key] += 1
        return record.outcome()


def _recorded_provider(records: list[CallRecord], wanted: str | None, source: Path) -> str:
    providers = sorted({record.provider for record in records})
    if wanted is not None:
        if wanted not in providers:
            raise ConfigError(
                f"llm.replay_provider = {wanted!r}: {source} holds calls to {providers or 'nothing'}"
            )
        return wanted
    if len(providers) == 1:
        return providers[0]
    if not providers:
        raise ConfigError(f"llm.replay_from: {source} holds no recorded calls")
    raise ConfigError(
        f"llm.replay_from: {source} holds calls to several providers {providers}; "
        "choose one with llm.replay_provider"
    )
