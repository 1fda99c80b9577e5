"""The provider boundary against servers that misbehave the way real ones do (issue 12, items
4-8): dripping bytes, a dead or refusing endpoint, huge answers, nonsense token counts, and a
server that echoes the key. Every case runs the real SDKs against a real HTTP server on
127.0.0.1."""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fake_llm_server import (
    OPENAI,
    VENDORS,
    ScriptedReply,
    Stopwatch,
    Vendor,
    closed_port,
    design_request,
    files_containing,
)
from forward_proxy import ForwardProxy

from nader.agents import tasks
from nader.agents.calls import AgentCaller
from nader.agents.experience import Problem
from nader.agents.modifier import Modifier
from nader.agents.prompts import PromptBook
from nader.agents.reflector import Feedback
from nader.llm.base import (
    BudgetExhausted,
    LLMAnswerTooLarge,
    LLMConnectionError,
    LLMError,
    LLMMalformedResponse,
    LLMRequestRejected,
    LLMServerError,
    LLMTimeout,
    LLMTruncated,
    Message,
    ProviderUnavailable,
    Usage,
)
from nader.llm.config import LLMConfig
from nader.llm.pricing import estimate_input_tokens, estimate_tokens
from nader.llm.recording import RECORDINGS_FILE
from nader.llm.redaction import RedactingFilter, Redactor, redactor_for

by_vendor = pytest.mark.parametrize("vendor", VENDORS, ids=lambda v: v.provider)


def error_body(status: int, message: str = "") -> dict[str, Any]:
    return {"type": "error", "error": {"type": "api_error", "message": message or f"{status}"}}


# --- 4. hard deadlines --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval_s", "timeout_s"), [(2.0, 2.5), (0.2, 1.0)], ids=["byte-every-2s", "byte-every-0.2s"]
)
@by_vendor
def test_a_dripping_server_cannot_hold_a_call_past_timeout_s(
    vendor: Vendor, interval_s: float, timeout_s: float, drip_server, make_client
):
    # every byte arrives inside the per-read timeout: only a deadline on the whole call ends it
    server = drip_server(vendor, interval_s)
    client = make_client(
        vendor,
        base_url=server.root_url + vendor.api_root_suffix,
        timeout_s=timeout_s,
        max_retries=0,
    )
    watch = Stopwatch()

    with pytest.raises(LLMTimeout):
        client.complete(design_request())

    assert watch.elapsed() < timeout_s + 1.0
    assert server.requests == 1


@by_vendor
def test_the_runs_wall_clock_end_cuts_a_call_and_refuses_the_next(
    vendor: Vendor, drip_server, make_client, sleeps
):
    server = drip_server(vendor, 0.2)
    client = make_client(
        vendor,
        base_url=server.root_url + vendor.api_root_suffix,
        timeout_s=60.0,
        max_retries=3,
        run_deadline=time.monotonic() + 1.0,
    )
    watch = Stopwatch()

    with pytest.raises(LLMTimeout, match="wall-clock"):
        client.complete(design_request())
    assert watch.elapsed() < 2.0
    assert server.requests == 1 and sleeps.waits == []  # no retry past the run's end

    with pytest.raises(BudgetExhausted, match="wall-clock"):
        client.complete(design_request("the next idea"))
    assert server.requests == 1


@pytest.fixture
def forward_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    """A started forward proxy named in HTTP_PROXY (and HTTPS_PROXY), NO_PROXY cleared."""
    proxy = ForwardProxy().start()
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    yield proxy
    proxy.stop()


@by_vendor
def test_calls_go_through_the_proxy_the_environment_names(
    vendor: Vendor, fake_server, make_client, forward_proxy: ForwardProxy, monkeypatch
):
    """The deadline transport replaced httpx's, and with it httpx's reading of HTTP_PROXY: behind
    a proxy every call went straight to the endpoint (and failed where only the proxy gets out)."""
    fake_server.script(ScriptedReply(vendor.answer("##Cell##\n0:input\n1:output\n0->1\n")))
    response = make_client(vendor).complete(design_request())
    assert "##Cell##" in response.text
    assert forward_proxy.urls == [fake_server.root_url + fake_server.received[0].path]
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # NO_PROXY is honoured as httpx honours it
    fake_server.script(ScriptedReply(vendor.answer("direct")))
    assert make_client(vendor).complete(design_request("again")).text == "direct"
    assert len(forward_proxy.urls) == 1


@by_vendor
def test_a_dripping_server_behind_the_proxy_cannot_hold_a_call_past_timeout_s(
    vendor: Vendor, drip_server, make_client, forward_proxy: ForwardProxy
):
    server = drip_server(vendor, 0.2)
    client = make_client(
        vendor, base_url=server.root_url + vendor.api_root_suffix, timeout_s=1.0, max_retries=0
    )
    watch = Stopwatch()
    with pytest.raises(LLMTimeout):
        client.complete(design_request())
    assert watch.elapsed() < 2.0
    assert len(forward_proxy.urls) == 1 and forward_proxy.urls[0].startswith(server.root_url)


# --- 5. a dead or refusing provider -------------------------------------------------------------


@by_vendor
def test_consecutive_connection_failures_stop_naming_provider_endpoint_and_last_error(
    vendor: Vendor, make_client, sleeps
):
    port = closed_port()
    notes: list[str] = []
    client = make_client(
        vendor,
        base_url=f"http://127.0.0.1:{port}{vendor.api_root_suffix}",
        max_retries=1,
        max_connection_failures=2,
        on_failure=notes.append,
    )

    with pytest.raises(LLMConnectionError):
        client.complete(design_request())
    with pytest.raises(ProviderUnavailable) as caught:
        client.complete(design_request("second"))

    stop = caught.value
    assert not isinstance(stop, LLMError)  # no agent's per-call handler may swallow it
    text = str(stop)
    assert vendor.provider in text and f"127.0.0.1:{port}" in text
    assert "LLMConnectionError" in text and "2 calls in a row" in text
    assert len(sleeps.waits) == 2
    # the failures were reported as they happened, each naming where
    assert len(notes) >= 2 and all(f"127.0.0.1:{port}" in note for note in notes)

    with pytest.raises(ProviderUnavailable):  # stopped: nothing more is sent or waited for
        client.complete(design_request("third"))
    assert len(sleeps.waits) == 2


@by_vendor
def test_a_refused_key_counts_as_a_refusing_provider(vendor: Vendor, fake_server, make_client):
    fake_server.script(*[ScriptedReply(error_body(401), status=401) for _ in range(2)])
    client = make_client(vendor, max_connection_failures=2)

    with pytest.raises(LLMRequestRejected):
        client.complete(design_request())
    with pytest.raises(ProviderUnavailable, match="401"):
        client.complete(design_request("again"))


def test_an_answer_in_between_resets_the_count(fake_server, make_client):
    fake_server.script(
        ScriptedReply(error_body(503), status=503),
        ScriptedReply(OPENAI.answer("fine")),
        ScriptedReply(error_body(503), status=503),
    )
    client = make_client(OPENAI, max_retries=0, max_connection_failures=2)

    with pytest.raises(LLMServerError):
        client.complete(design_request("a"))
    assert client.complete(design_request("b")).text == "fine"
    with pytest.raises(LLMServerError):
        client.complete(design_request("c"))


# --- 6. bounded answers -------------------------------------------------------------------------


@by_vendor
def test_a_10_mb_answer_is_a_typed_error_recorded_truncated(
    vendor: Vendor, fake_server, make_client, tmp_path, sleeps
):
    fake_server.script(ScriptedReply(vendor.answer("x" * 10_000_000)))
    client = make_client(vendor)  # the default llm.max_answer_chars

    with pytest.raises(LLMAnswerTooLarge) as caught:
        client.complete(design_request())

    error = caught.value
    assert not error.retryable and sleeps.waits == []
    assert "10000000" in str(error)
    assert len(error.partial_text or "") <= 2_000
    assert (tmp_path / "run" / RECORDINGS_FILE).stat().st_size < 20_000


def test_a_10_mb_answer_never_reaches_the_next_request(fake_server, make_client, registry):
    fake_server.script(
        ScriptedReply(OPENAI.answer("##Cell##\n0:input\n" + "x" * 10_000_000)),
        ScriptedReply(OPENAI.answer("##Cell##\n0:input\n1:output\n0->1")),
    )
    modifier = Modifier(
        AgentCaller(make_client(OPENAI)), PromptBook(registry), max_try=2, immediate_feedback=True
    )

    modifier.converse(
        stage="cell",
        task=tasks.MODIFY_BLOCK,
        messages=[Message("user", "Add a residual connection.")],
        fields={},
        architecture="1",
        default_names=("Cell",),
        check=lambda blocks: Feedback(problems=(Problem("format", "try again"),)),
    )

    assert len(fake_server.received) == 2
    second = json.dumps(fake_server.received[1].body)
    assert len(second) < 100_000 and "x" * 1_000 not in second


# --- 7. honest usage ----------------------------------------------------------------------------

#: (vendor, where the count sits in the body)
COUNT_FIELDS = [
    (VENDORS[0], ("usage", "input_tokens")),
    (VENDORS[0], ("usage", "cache_read_input_tokens")),
    (VENDORS[1], ("usage", "prompt_tokens")),
    (VENDORS[1], ("usage", "completion_tokens")),
    (VENDORS[1], ("usage", "prompt_tokens_details", "cached_tokens")),
]


def _with_count(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    target = body
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    return body


# (`true` is not here: both SDKs already read it as 1 before nader sees it)
@pytest.mark.parametrize("bad", ["lots", -250_000_000, 1.5, [3]], ids=repr)
@pytest.mark.parametrize(
    ("vendor", "path"), COUNT_FIELDS, ids=lambda p: p.provider if isinstance(p, Vendor) else p[-1]
)
def test_token_counts_that_are_not_non_negative_integers_are_malformed_and_retried(
    vendor: Vendor, path: tuple[str, ...], bad: Any, fake_server, make_client
):
    fake_server.script(
        ScriptedReply(_with_count(vendor.answer("first"), path, bad)),
        ScriptedReply(vendor.answer("second", input_tokens=100, output_tokens=10)),
    )
    client = make_client(vendor)
    request = design_request()

    response = client.complete(request)

    assert response.text == "second"
    assert client.usage.retries == 1
    totals = client.usage.total.tokens
    # the bad answer is billed at what was sent, since the server did not say
    assert totals.input_tokens == 100 + estimate_input_tokens(request)
    assert totals.output_tokens >= 10
    assert min(totals.to_dict().values()) >= 0


def test_negative_counts_never_lower_the_total_and_the_budget_still_stops(fake_server, make_client):
    bad = OPENAI.answer("x", input_tokens=-250_000_000, output_tokens=-1)
    fake_server.responder = lambda received: ScriptedReply(bad)
    request = design_request()
    client = make_client(OPENAI, max_retries=0, budget_tokens=estimate_input_tokens(request) * 4)

    with pytest.raises(BudgetExhausted):
        for _ in range(25):
            with pytest.raises(LLMMalformedResponse):
                client.complete(request)
    assert len(fake_server.received) < 5
    assert client.usage.total.tokens.input_tokens > 0


def test_an_answer_without_usage_is_counted_at_what_was_sent(fake_server, make_client):
    body = OPENAI.answer("##Cell##\n0:input")
    del body["usage"]
    fake_server.script(ScriptedReply(body))
    client = make_client(OPENAI)
    request = design_request()

    response = client.complete(request)

    assert response.usage.input_tokens == estimate_input_tokens(request)
    assert response.usage.output_tokens == estimate_tokens("##Cell##\n0:input")
    assert client.usage.total.tokens.input_tokens == estimate_input_tokens(request)


# --- 8. no secret persisted ---------------------------------------------------------------------


@by_vendor
def test_a_key_the_server_echoes_is_redacted_before_anything_keeps_it(
    vendor: Vendor, fake_server, make_client, api_key_env, tmp_path, caplog
):
    fake_server.script(
        ScriptedReply(vendor.answer(f"##Cell##\n0:input\n# you sent {api_key_env}")),
        ScriptedReply(error_body(401, f"invalid x-api-key: {api_key_env}"), status=401),
        *[
            ScriptedReply(
                error_body(500, f"crash; Authorization: Bearer {api_key_env}"), status=500
            )
            for _ in range(2)
        ],
        ScriptedReply(vendor.truncated(f"##Cell##\n# {api_key_env}")),
    )
    with caplog.at_level(logging.DEBUG):  # every logger, the SDKs' and httpx's included
        client = make_client(vendor, max_retries=1)
        response = client.complete(design_request())
        errors: list[LLMError] = []
        for expected in (LLMRequestRejected, LLMServerError, LLMTruncated):
            with pytest.raises(expected) as caught:
                client.complete(design_request("again"))
            errors.append(caught.value)

    assert fake_server.received[0].headers["authorization"].endswith(api_key_env)  # it was used
    assert api_key_env not in response.text and "[REDACTED]" in response.text
    for error in errors:
        shown = "".join(traceback.format_exception(error))  # the SDK's exception, chained, too
        assert api_key_env not in shown and api_key_env not in (error.partial_text or "")
        assert "[REDACTED]" in shown or "[REDACTED]" in (error.partial_text or "")
    assert files_containing(tmp_path, api_key_env) == []
    assert "[REDACTED]" in (tmp_path / "run" / RECORDINGS_FILE).read_text()
    assert api_key_env not in caplog.text


def _masked(key: str, shown_prefix: int, shown_suffix: int, mask: str = "*") -> str:
    """A key as OpenAI's 401 shows it: a prefix, a run of mask characters, the last few."""
    return (
        key[:shown_prefix] + mask * (len(key) - shown_prefix - shown_suffix) + key[-shown_suffix:]
    )


@by_vendor
def test_a_masked_echo_of_the_key_is_redacted_too(
    vendor: Vendor, fake_server, make_client, api_key_env, tmp_path
):
    """OpenAI answers a bad key with "Incorrect API key provided: sk-proj-****...abcd": the
    prefix and last characters of the key, which the exact-value redaction did not catch."""
    masked = _masked(api_key_env, 8, 4)
    fake_server.script(
        ScriptedReply(
            error_body(401, f"Incorrect API key provided: {masked}. You can find your API key at"),
            status=401,
        ),
        ScriptedReply(vendor.answer(f"##Cell##\n0:input\n# key {_masked(api_key_env, 3, 2, '•')}")),
    )
    client = make_client(vendor, max_retries=1)
    with pytest.raises(LLMRequestRejected) as caught:
        client.complete(design_request())
    response = client.complete(design_request("again"))
    shown = "".join(traceback.format_exception(caught.value))
    assert masked not in shown and "Incorrect API key provided: [REDACTED]." in shown
    assert "# key [REDACTED]" in response.text
    recorded = (tmp_path / "run" / RECORDINGS_FILE).read_text()
    assert masked not in recorded and api_key_env[-4:] + "." not in recorded


def test_masked_spellings_of_other_keys_and_plain_asterisks_stay():
    redact = Redactor(["sk-proj-abcdefghijklmnop1234"])
    assert redact("sk-proj-************1234") == "[REDACTED]"
    assert redact("(sk-p…) sk-pr******34!") == "(sk-p…) [REDACTED]!"
    for text in (
        "sk-proj-************9999",  # another key: its last characters differ
        "a ***** b, **bold**, x*****y",
        "sk-************",  # nothing of the key's end is shown: no secret in it
    ):
        assert redact(text) == text


def test_the_log_filter_redacts_messages_arguments_and_tracebacks(api_key_env, tmp_path):
    log_file = tmp_path / "session.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.addFilter(RedactingFilter(redactor_for(LLMConfig(provider="openai", model="m"))))
    logger = logging.getLogger("nader.test_redaction")
    logger.addHandler(handler)
    try:
        logger.warning("server said %s", f"bad key {api_key_env}")
        logger.warning(f"url-quoted {quote(api_key_env, safe='')}")
        try:
            raise RuntimeError(f"boom {api_key_env}")
        except RuntimeError:
            logger.exception("a crash")
    finally:
        logger.removeHandler(handler)
        handler.close()

    written = log_file.read_text()
    assert api_key_env not in written and quote(api_key_env, safe="") not in written
    assert written.count("[REDACTED]") == 3 and "RuntimeError" in written


def test_a_provider_stop_passes_through_the_modifier(make_client, registry):
    client = make_client(
        OPENAI,
        base_url=f"http://127.0.0.1:{closed_port()}/v1",
        max_retries=0,
        max_connection_failures=2,
    )
    modifier = Modifier(
        AgentCaller(client), PromptBook(registry), max_try=5, immediate_feedback=True
    )

    with pytest.raises(ProviderUnavailable):  # the Modifier absorbs an LLMError per turn, not this
        modifier.converse(
            stage="cell",
            task=tasks.MODIFY_BLOCK,
            messages=[Message("user", "Add a residual connection.")],
            fields={},
            architecture="1",
            default_names=("Cell",),
            check=lambda blocks: Feedback(),
        )
    assert client.usage.calls == 2


@pytest.mark.parametrize("bad", [-1, "lots", 2.5, None])
def test_a_usage_with_a_bad_count_cannot_be_built(bad: Any):
    with pytest.raises(ValueError, match="non-negative integer"):
        Usage(input_tokens=bad)


@by_vendor
def test_a_10_mb_error_body_is_cut_in_the_error_and_the_recording(
    vendor: Vendor, fake_server, make_client, tmp_path
):
    fake_server.script(ScriptedReply(error_body(400, "y" * 10_000_000), status=400))

    with pytest.raises(LLMRequestRejected) as caught:
        make_client(vendor).complete(design_request())

    assert len(str(caught.value)) < 3_000 and "more characters" in str(caught.value)
    assert (tmp_path / "run" / RECORDINGS_FILE).stat().st_size < 20_000
