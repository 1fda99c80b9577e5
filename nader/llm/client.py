"""The agents' one door to a model: budgets, retries, recording and accounting around a provider.

``LLMClient.complete(request)``:

1. checks the budget *before* sending (spent + this request's estimated input reaching the
   token or dollar ceiling, or the run's wall-clock end passed, raises :class:`BudgetExhausted`);
2. asks the provider, retrying retryable errors (timeouts, connection errors, 429, 5xx,
   malformed or empty bodies) with exponential backoff and jitter, honouring ``retry-after``,
   at most ``max_retries`` times; refusals, truncations and rejected requests are not retried.
   Each attempt runs under a total deadline (:mod:`nader.llm.deadline`): ``timeout_s``, or less
   when the run's wall-clock budget ends sooner; no wait reaches past the run's end;
3. redacts the key from the answer or error (:mod:`nader.llm.redaction`), then appends the call
   — answer or final error, tokens billed over all attempts, dollars — to
   ``RUN_DIR/llm/recordings.jsonl`` and adds it to :attr:`usage`;
4. returns the answer, or raises the final typed error for the agent layer to record, and
   reports it through ``on_failure`` as it happens.

The two errors meant to end a run are :class:`BudgetExhausted` and
:class:`~nader.llm.base.ProviderUnavailable`, raised once ``max_connection_failures`` calls in a
row could not reach the provider or were refused by it (:data:`PROVIDER_DOWN_STATUSES`); after
that every call raises it again at once, without touching the network.

Built on a run directory that already holds records, the client reloads them: totals, failure
counts and per-key occurrence counters continue where the killed run stopped. With
``provider = "replay"`` the same steps run, answering from the recording instead of a model.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from nader.llm.base import (
    BudgetExhausted,
    LLMConnectionError,
    LLMError,
    LLMProvider,
    LLMProviderError,
    LLMRequest,
    LLMRequestRejected,
    LLMResponse,
    LLMServerError,
    LLMTimeout,
    ProviderUnavailable,
)
from nader.llm.config import LLMConfig, effective_parameters
from nader.llm.deadline import deadline_at
from nader.llm.pricing import PriceTable, estimate_input_tokens
from nader.llm.recording import (
    RECORDINGS_FILE,
    CallRecord,
    RecordingLog,
    error_to_dict,
    request_key,
    utc_now,
)
from nader.llm.redaction import redactor_for
from nader.llm.replay import ReplayProvider
from nader.llm.sdk_errors import bounded
from nader.llm.usage import Budget, UsageEntry, UsageLedger

log = logging.getLogger("nader.llm")

#: rejections that mean the endpoint will not serve us at all: a refused key, no permission,
#: no such API or model there
PROVIDER_DOWN_STATUSES = frozenset({401, 403, 404})


def is_provider_down(error: LLMError) -> bool:
    """``error`` says the provider could not be reached or refuses us, not that one answer was
    bad: a connection error, a timeout, a 5xx left after the retries, or a 401/403/404."""
    if isinstance(error, (LLMConnectionError, LLMTimeout, LLMServerError)):
        return True
    return isinstance(error, LLMRequestRejected) and error.status in PROVIDER_DOWN_STATUSES


class LLMClient:
    """Wraps one provider with budgets, bounded retries, recording and usage accounting.

    :param sleep: how to wait between retries (tests pass a recorder instead of ``time.sleep``)
    :param rng: jitter source (seed it for reproducible waits)
    :param run_dir: where ``llm/recordings.jsonl`` lives; None keeps nothing on disk
    :param run_deadline: the ``time.monotonic()`` at which the run's wall-clock budget ends: no
        call or wait goes past it
    :param on_failure: told one line for every call that failed, as it happens (the session
        shows it on the console)
    """

    def __init__(
        self,
        provider: LLMProvider,
        config: LLMConfig,
        *,
        run_dir: Path | str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        run_deadline: float | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.provider = provider
        self.config = config
        self.prices = PriceTable(config.prices)
        self.budget = Budget(tokens=config.budget_tokens, usd=config.budget_usd)
        self.usage = UsageLedger()
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._occurrences: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.run_deadline = run_deadline
        self._on_failure = on_failure
        self._redact = redactor_for(config)
        self._provider_failures = 0
        self._stopped: ProviderUnavailable | None = None
        self._log = (
            RecordingLog(Path(run_dir) / RECORDINGS_FILE, redact=self._redact)
            if run_dir is not None
            else None
        )
        if self._log is not None:
            for record in self._log.read():
                self._account(record)
                self._occurrences[record.key] = max(
                    self._occurrences[record.key], record.occurrence + 1
                )

    @classmethod
    def from_config(
        cls,
        config: LLMConfig,
        runtime: Any,
        *,
        run_dir: Path | str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        run_deadline: float | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> LLMClient:
        """Build the provider named by ``config.provider`` from the runtime's registry."""
        factory = runtime.llm_providers.get(config.provider)
        return cls(
            factory(config, runtime),
            config,
            run_dir=run_dir,
            sleep=sleep,
            rng=rng,
            run_deadline=run_deadline,
            on_failure=on_failure,
        )

    def __repr__(self) -> str:
        return f"LLMClient(provider={self.provider!r}, model={self.config.model!r})"

    def key_for(self, request: LLMRequest) -> str:
        """The recording key of ``request`` (what a replay of this run would look up)."""
        if isinstance(self.provider, ReplayProvider):
            return self.provider.key_for(request)
        parameters = effective_parameters(request, self.config)
        return request_key(self.provider.name, self.config.model, parameters, request.messages)

    def complete(self, request: LLMRequest) -> LLMResponse:
        """Answer ``request``, or raise a typed :class:`LLMError` (see the module docstring)."""
        key = self.key_for(request)
        if isinstance(self.provider, ReplayProvider):
            return self._replay(request, key, self.provider)
        with self._lock:
            if self._stopped is not None:
                raise self._stopped
            self._check_budget(request)
            occurrence = self._occurrences[key]
            self._occurrences[key] += 1
        outcome, failed = self._attempt(request)
        billed = sum((f.usage for f in failed), outcome.usage)
        cost = self.prices.cost_usd(self.config.model, billed)
        if isinstance(outcome, LLMResponse):
            outcome = replace(outcome, cost_usd=cost)
        record = CallRecord(
            key=key,
            occurrence=occurrence,
            provider=self.provider.name,
            model=self.config.model,
            parameters=effective_parameters(request, self.config),
            task=request.task,
            role=request.role,
            architecture=request.architecture,
            messages=tuple(request.messages),
            usage=billed,
            cost_usd=cost,
            attempts=len(failed) + 1,
            response=outcome if isinstance(outcome, LLMResponse) else None,
            error=error_to_dict(outcome) if isinstance(outcome, LLMError) else None,
            failed_attempts=tuple({"type": type(f).__name__, "message": f.message} for f in failed),
        )
        with self._lock:
            self._commit(record)
            stop = self._count_provider_failure(outcome)
        if isinstance(outcome, LLMError):
            self._report(outcome, request)
            if stop is not None:
                raise stop from outcome
            raise outcome
        return outcome

    @property
    def endpoint(self) -> str:
        """Where the provider sends requests, as far as it says."""
        shown = getattr(self.provider, "endpoint", None) or self.config.base_url
        return str(shown) if shown else f"the {self.provider.name} provider's default endpoint"

    def _redacted(self, outcome: Any) -> Any:
        """The answer or error with the key taken out of every text a server could have sent
        (the providers redact too; this covers plugin providers)."""
        redact = self._redact
        if not redact:
            return outcome
        if isinstance(outcome, LLMResponse):
            return replace(outcome, text=redact(outcome.text))
        outcome.message = redact(outcome.message)
        outcome.args = (outcome.message,)
        outcome.partial_text = redact.optional(outcome.partial_text)
        return outcome

    def _count_provider_failure(
        self, outcome: LLMResponse | LLMError
    ) -> ProviderUnavailable | None:
        """Count calls in a row that found the provider down; the stop, once there are enough."""
        if not isinstance(outcome, LLMError) or not is_provider_down(outcome):
            self._provider_failures = 0
            return None
        self._provider_failures += 1
        if self._provider_failures < self.config.max_connection_failures:
            return None
        self._stopped = ProviderUnavailable(
            f"the LLM provider {self.provider.name!r} at {self.endpoint} failed "
            f"{self._provider_failures} calls in a row (llm.max_connection_failures = "
            f"{self.config.max_connection_failures}); last error: "
            f"{type(outcome).__name__}: {outcome}",
            provider=self.provider.name,
            endpoint=self.endpoint,
            last_error=outcome,
        )
        return self._stopped

    def _report(self, error: LLMError, request: LLMRequest) -> None:
        if self._on_failure is not None:
            self._on_failure(
                f"LLM call failed ({self.provider.name} at {self.endpoint}, task "
                f"{request.task}): {type(error).__name__}: {bounded(str(error), 300)}"
            )

    def _replay(self, request: LLMRequest, key: str, provider: ReplayProvider) -> LLMResponse:
        with self._lock:
            self._check_budget(request)
            recorded = provider.lookup(request, key, self._occurrences[key])
            self._occurrences[key] += 1
            cost = self.prices.cost_usd(self.config.model, recorded.usage)
            record = replace(
                recorded,
                cost_usd=cost,
                task=request.task,
                role=request.role,
                architecture=request.architecture,
                response=replace(recorded.response, cost_usd=cost) if recorded.response else None,
                recorded_at=utc_now(),
            )
            self._commit(record)
        return record.outcome()

    def _check_budget(self, request: LLMRequest) -> None:
        if self.run_deadline is not None and time.monotonic() >= self.run_deadline:
            raise BudgetExhausted("wall-clock budget reached: no LLM call is started past it")
        estimated_tokens = estimate_input_tokens(request)
        estimated_usd = self.prices.input_cost_usd(self.config.model, estimated_tokens)
        self.budget.check(self.usage.total, estimated_tokens, estimated_usd)

    def _attempt(self, request: LLMRequest) -> tuple[LLMResponse | LLMError, list[LLMError]]:
        """Call the provider until it answers, fails for good, or retries run out.

        Returns the answer or the final error, and the errors of the attempts that were retried.
        """
        failed: list[LLMError] = []
        for attempt in range(self.config.max_retries + 1):
            try:
                return self._ask_provider(request), failed
            except LLMError as err:
                err.attempts = attempt + 1
                wait = self._retry_wait(err, attempt)
                if self._run_ended(within=wait or 0.0):
                    if isinstance(err, LLMTimeout):
                        err.message = "the run's wall-clock budget ended the call"
                        err.args = (err.message,)
                    wait = None
                if wait is None:
                    log.warning("LLM call for task %r failed: %s", request.task, err)
                    return err, failed
                log.warning(
                    "LLM call for task %r failed (%s); retry %d of %d in %.1f s",
                    request.task,
                    type(err).__name__,
                    attempt + 1,
                    self.config.max_retries,
                    wait,
                )
                failed.append(err)
                self._sleep(wait)
        raise AssertionError("unreachable: the last attempt never retries")

    def _run_ended(self, *, within: float) -> bool:
        """The run's wall-clock end comes within ``within`` seconds from now."""
        return self.run_deadline is not None and time.monotonic() + within >= self.run_deadline

    def _ask_provider(self, request: LLMRequest) -> LLMResponse:
        deadline = time.monotonic() + self.config.timeout_s
        if self.run_deadline is not None:
            deadline = min(deadline, self.run_deadline)
        try:
            with deadline_at(deadline):
                return self._redacted(self.provider.complete(request))
        except LLMError as err:
            raise self._redacted(err)  # noqa: B904 - the same exception, its texts redacted
        except Exception as err:  # noqa: BLE001 - a provider bug must not end the run
            raise self._redacted(
                LLMProviderError(
                    f"provider raised {type(err).__name__}: {bounded(str(err))}",
                    provider=self.provider.name,
                    task=request.task,
                )
            ) from err

    def _retry_wait(self, error: LLMError, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``error`` on attempt ``attempt`` (0-based),
        or None to give up."""
        if not error.retryable or attempt >= self.config.max_retries:
            return None
        if error.retry_after_s is not None:
            if error.retry_after_s > self.config.max_retry_after_s:
                log.warning(
                    "server asked to wait %.0f s, more than llm.max_retry_after_s = %.0f s",
                    error.retry_after_s,
                    self.config.max_retry_after_s,
                )
                return None
            return error.retry_after_s
        ceiling = min(self.config.retry_max_s, self.config.retry_initial_s * 2**attempt)
        return ceiling * (0.5 + 0.5 * self._rng.random())

    def _commit(self, record: CallRecord) -> None:
        self._account(record)
        if self._log is not None:
            self._log.append(record)

    def _account(self, record: CallRecord) -> None:
        self.usage.add(
            UsageEntry(
                task=record.task,
                role=record.role,
                architecture=record.architecture,
                provider=record.provider,
                model=record.model,
                usage=record.usage,
                cost_usd=record.cost_usd,
                latency_s=record.response.latency_s if record.response is not None else 0.0,
                failed=record.error is not None,
                retries=len(record.failed_attempts),
            )
        )
