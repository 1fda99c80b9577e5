"""Both vendors, through their real SDKs, against a fake server: answers and every fault case.

Each case checks what the client does: how many requests reached the server (our retries are
the only ones: the SDKs' are disabled), which typed error comes out, what waits were asked for,
and what the usage ledger counted.
"""

from __future__ import annotations

import json
import socket

import pytest
from fake_llm_server import VENDORS, ScriptedReply, Vendor, design_request

from nader.llm.base import (
    LLMConnectionError,
    LLMEmptyResponse,
    LLMError,
    LLMMalformedResponse,
    LLMRateLimited,
    LLMRefusal,
    LLMRequestRejected,
    LLMServerError,
    LLMTimeout,
    LLMTruncated,
)

by_vendor = pytest.mark.parametrize("vendor", VENDORS, ids=lambda v: v.provider)


def error_body(status: int) -> dict[str, object]:
    return {"type": "error", "error": {"type": "api_error", "message": f"scripted {status}"}}


@by_vendor
def test_answer_carries_text_usage_model_latency_and_request_id(
    vendor: Vendor, fake_server, make_client, api_key_env
):
    fake_server.script(
        ScriptedReply(
            vendor.answer("##Cell##\n0:input", input_tokens=111, output_tokens=22),
            headers=vendor.request_id_header("req-abc-1"),
        )
    )
    client = make_client(vendor)

    response = client.complete(design_request())

    assert response.text == "##Cell##\n0:input"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (111, 22)
    assert response.model == vendor.model
    assert response.provider == vendor.provider
    assert response.request_id == "req-abc-1"
    assert response.latency_s > 0
    [received] = fake_server.received
    assert received.path == vendor.path
    assert received.headers["authorization"] == f"Bearer {api_key_env}"
    assert received.body["model"] == vendor.model
    assert 512 in (received.body.get("max_tokens"), received.body.get("max_completion_tokens"))


@by_vendor
def test_429_waits_exactly_the_retry_after_the_server_asked_for(
    vendor: Vendor, fake_server, make_client, sleeps
):
    fake_server.script(
        ScriptedReply(error_body(429), status=429, headers={"retry-after": "7"}),
        ScriptedReply(vendor.answer("ok after waiting")),
    )
    client = make_client(vendor)

    response = client.complete(design_request())

    assert response.text == "ok after waiting"
    assert sleeps.waits == [7.0]
    assert len(fake_server.received) == 2
    assert client.usage.retries == 1 and client.usage.failures == 0


@by_vendor
def test_429_asking_for_more_than_max_retry_after_is_reported_not_waited(
    vendor: Vendor, fake_server, make_client, sleeps
):
    fake_server.script(ScriptedReply(error_body(429), status=429, headers={"retry-after": "900"}))
    client = make_client(vendor, max_retry_after_s=60)

    with pytest.raises(LLMRateLimited) as caught:
        client.complete(design_request())

    assert caught.value.retry_after_s == 900
    assert sleeps.waits == []
    assert len(fake_server.received) == 1


@by_vendor
def test_5xx_is_retried_with_jittered_exponential_backoff(
    vendor: Vendor, fake_server, make_client, sleeps
):
    fake_server.script(
        ScriptedReply(error_body(500), status=500),
        ScriptedReply(error_body(503), status=503),
        ScriptedReply(vendor.answer("third time lucky")),
    )
    client = make_client(vendor, retry_initial_s=1.0, max_retries=2)

    assert client.complete(design_request()).text == "third time lucky"

    first, second = sleeps.waits
    assert 0.5 <= first <= 1.0  # 50-100 % of the initial delay
    assert 1.0 <= second <= 2.0  # doubled, jittered
    assert len(fake_server.received) == 3


@by_vendor
def test_5xx_on_every_attempt_raises_after_max_retries_and_the_next_call_still_works(
    vendor: Vendor, fake_server, make_client, sleeps
):
    fake_server.script(*[ScriptedReply(error_body(500), status=500) for _ in range(3)])
    fake_server.script(ScriptedReply(vendor.answer("the run goes on")))
    client = make_client(vendor, max_retries=2)

    with pytest.raises(LLMServerError) as caught:
        client.complete(design_request())

    error = caught.value
    assert error.retryable and error.status == 500 and error.attempts == 3
    assert len(fake_server.received) == 3  # 1 + max_retries: the SDK did not retry on its own
    assert len(sleeps.waits) == 2
    assert client.complete(design_request("another idea")).text == "the run goes on"
    assert client.usage.failures == 1 and client.usage.calls == 2 and client.usage.retries == 2


@by_vendor
def test_529_overloaded_counts_as_a_server_error(vendor: Vendor, fake_server, make_client):
    fake_server.script(ScriptedReply(error_body(529), status=529))
    with pytest.raises(LLMServerError):
        make_client(vendor, max_retries=0).complete(design_request())


@by_vendor
def test_timeout_when_the_server_answers_later_than_the_client_waits(
    vendor: Vendor, fake_server, make_client, sleeps
):
    slow = vendor.answer("too late")
    fake_server.script(ScriptedReply(slow, delay_s=5.0), ScriptedReply(slow, delay_s=5.0))
    client = make_client(vendor, timeout_s=0.3, max_retries=1)

    with pytest.raises(LLMTimeout) as caught:
        client.complete(design_request())

    assert caught.value.retryable and caught.value.attempts == 2
    assert len(fake_server.received) == 2
    assert len(sleeps.waits) == 1


@by_vendor
def test_connection_refused_is_a_retryable_connection_error(vendor: Vendor, make_client, sleeps):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = make_client(
        vendor, base_url=f"http://127.0.0.1:{closed_port}{vendor.api_root_suffix}", max_retries=1
    )

    with pytest.raises(LLMConnectionError) as caught:
        client.complete(design_request())

    assert caught.value.retryable and caught.value.attempts == 2
    assert len(sleeps.waits) == 1


@by_vendor
def test_malformed_json_body_is_retried(vendor: Vendor, fake_server, make_client):
    fake_server.script(
        ScriptedReply(raw=b'{"id": "msg_1", "content": ['), ScriptedReply(vendor.answer("fine now"))
    )
    client = make_client(vendor)

    assert client.complete(design_request()).text == "fine now"
    assert client.usage.retries == 1


@pytest.mark.parametrize(
    "raw",
    [b"", b"[1, 2, 3]", b'{"unexpected": "shape"}'],
    ids=["empty-body", "json-list", "wrong-object"],
)
@by_vendor
def test_bodies_that_are_not_answers_raise_malformed_response(
    vendor: Vendor, raw: bytes, fake_server, make_client
):
    fake_server.script(*[ScriptedReply(raw=raw) for _ in range(2)])

    with pytest.raises(LLMMalformedResponse) as caught:
        make_client(vendor, max_retries=1).complete(design_request())

    assert caught.value.attempts == 2


@by_vendor
def test_empty_content_is_retried_and_its_tokens_are_still_counted(
    vendor: Vendor, fake_server, make_client
):
    fake_server.script(ScriptedReply(vendor.empty()), ScriptedReply(vendor.empty()))
    client = make_client(vendor, max_retries=1)

    with pytest.raises(LLMEmptyResponse) as caught:
        client.complete(design_request())

    assert caught.value.retryable and caught.value.attempts == 2
    per_answer = caught.value.usage
    assert per_answer.output_tokens > 0
    assert (
        client.usage.total.tokens.output_tokens == 2 * per_answer.output_tokens
    )  # both attempts billed
    assert client.usage.failures == 1


@by_vendor
def test_refusal_is_reported_at_once_not_retried(vendor: Vendor, fake_server, make_client, sleeps):
    fake_server.script(ScriptedReply(vendor.refusal()))
    client = make_client(vendor)

    with pytest.raises(LLMRefusal) as caught:
        client.complete(design_request())

    assert not caught.value.retryable and caught.value.attempts == 1
    assert len(fake_server.received) == 1 and sleeps.waits == []
    assert client.usage.failures == 1
    assert client.usage.total.tokens.input_tokens == caught.value.usage.input_tokens > 0


@by_vendor
def test_truncated_answer_is_reported_with_its_partial_text(
    vendor: Vendor, fake_server, make_client, sleeps
):
    fake_server.script(ScriptedReply(vendor.truncated("##Cell##\n0:input\n1:Conv2d(out_chan")))

    with pytest.raises(LLMTruncated) as caught:
        make_client(vendor).complete(design_request())

    assert caught.value.partial_text == "##Cell##\n0:input\n1:Conv2d(out_chan"
    assert not caught.value.retryable
    assert len(fake_server.received) == 1 and sleeps.waits == []


@pytest.mark.parametrize("status", [400, 401, 404])
@by_vendor
def test_rejected_requests_are_not_retried(
    vendor: Vendor, status: int, fake_server, make_client, sleeps
):
    fake_server.script(ScriptedReply(error_body(status), status=status))

    with pytest.raises(LLMRequestRejected) as caught:
        make_client(vendor).complete(design_request())

    assert caught.value.status == status and not caught.value.retryable
    assert len(fake_server.received) == 1 and sleeps.waits == []
    if status == 401:
        assert "api_key_env" in str(caught.value)


@by_vendor
def test_every_failed_call_is_recorded_with_its_attempts(
    vendor: Vendor, fake_server, make_client, tmp_path
):
    fake_server.script(ScriptedReply(error_body(500), status=500), ScriptedReply(vendor.refusal()))
    client = make_client(vendor, max_retries=3)

    with pytest.raises(LLMError):
        client.complete(design_request())

    lines = (tmp_path / "run" / "llm" / "recordings.jsonl").read_text().splitlines()
    [record] = [json.loads(line) for line in lines]
    assert record["error"]["type"] == "LLMRefusal"
    assert record["attempts"] == 2
    assert [f["type"] for f in record["failed_attempts"]] == ["LLMServerError"]
    assert record["response"] is None
