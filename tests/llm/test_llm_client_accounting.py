"""LLMClient bookkeeping over real wire calls: budgets, per-role/per-architecture usage, resume
from the run directory, and API keys never written anywhere."""

from __future__ import annotations

import json
import logging

import pytest
from fake_llm_server import (
    ANTHROPIC,
    OPENAI,
    VENDORS,
    ScriptedReply,
    design_request,
    files_containing,
)

from nader.llm.base import BudgetExhausted, LLMRefusal, LLMRequestRejected, LLMServerError
from nader.llm.config import LLMConfig, ModelPrice, read_api_key
from nader.llm.pricing import estimate_input_tokens
from nader.llm.recording import RECORDINGS_FILE


def test_token_budget_stops_before_the_call_that_would_reach_it(fake_server, make_client):
    fake_server.script(ScriptedReply(OPENAI.answer(input_tokens=300, output_tokens=100)))
    request = design_request()
    estimate = estimate_input_tokens(request)
    client = make_client(OPENAI, budget_tokens=400 + estimate + 1)  # room for exactly one more

    client.complete(request)
    assert client.usage.total.tokens.total_tokens == 400

    fake_server.script(ScriptedReply(OPENAI.answer(input_tokens=300, output_tokens=100)))
    with pytest.raises(BudgetExhausted, match="token budget"):
        client.complete(design_request("a longer request " * 10))
    assert len(fake_server.received) == 1  # the refused call never left the machine


def test_dollar_budget_counts_priced_usage(fake_server, make_client):
    price = ModelPrice(input=10.0, output=30.0)
    fake_server.script(ScriptedReply(OPENAI.answer(input_tokens=10_000, output_tokens=1_000)))
    client = make_client(OPENAI, prices={OPENAI.model: price}, budget_usd=0.13)

    first = client.complete(design_request())
    assert first.cost_usd == pytest.approx(0.13)  # 10k * $10/M + 1k * $30/M

    with pytest.raises(BudgetExhausted, match="dollar budget"):
        client.complete(design_request())
    assert len(fake_server.received) == 1


def test_budget_exhausted_is_not_a_call_and_is_not_recorded(fake_server, make_client, tmp_path):
    client = make_client(OPENAI, budget_tokens=10)
    with pytest.raises(BudgetExhausted):
        client.complete(design_request())
    assert client.usage.calls == 0
    assert not (tmp_path / "run" / RECORDINGS_FILE).exists()


def test_usage_is_split_by_role_and_architecture(fake_server, make_client):
    fake_server.script(
        ScriptedReply(OPENAI.answer(input_tokens=100, output_tokens=10)),
        ScriptedReply(OPENAI.answer(input_tokens=200, output_tokens=20)),
        ScriptedReply(OPENAI.answer(input_tokens=400, output_tokens=40)),
    )
    client = make_client(OPENAI)
    client.complete(design_request("a", role="modifier", architecture="arch-1"))
    client.complete(design_request("b", role="modifier", architecture="arch-2"))
    client.complete(design_request("c", role="proposer", architecture=None))

    usage = client.usage.to_dict()
    assert (usage["input_tokens"], usage["output_tokens"], usage["calls"]) == (700, 70, 3)
    assert usage["by_role"]["modifier"]["input_tokens"] == 300
    assert usage["by_role"]["proposer"]["calls"] == 1
    assert set(usage["by_architecture"]) == {"arch-1", "arch-2"}
    assert usage["by_architecture"]["arch-2"]["output_tokens"] == 20
    assert usage["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in usage["by_role"].values()))
    assert usage["failures"] == 0 and "cached_input_tokens" in usage
    json.dumps(usage)  # summary.json material


def test_unknown_model_costs_nothing_and_warns_once(fake_server, make_client, caplog):
    fake_server.script(*[ScriptedReply(OPENAI.answer()) for _ in range(2)])
    client = make_client(OPENAI, model="my-finetune-v3")
    with caplog.at_level(logging.WARNING, logger="nader.llm"):
        client.complete(design_request("x"))
        client.complete(design_request("y"))
    assert client.usage.total.cost_usd == 0.0
    assert sum("my-finetune-v3" in r.getMessage() for r in caplog.records) == 1


def test_a_new_client_on_the_same_run_dir_resumes_totals_and_occurrences(
    fake_server, make_client, tmp_path
):
    fake_server.script(
        ScriptedReply(OPENAI.answer("first", input_tokens=100, output_tokens=10)),
        ScriptedReply(OPENAI.answer(input_tokens=50, output_tokens=5), status=500),
        ScriptedReply(OPENAI.refusal()),
    )
    first = make_client(OPENAI, max_retries=1)
    first.complete(design_request())
    with pytest.raises(LLMRefusal):
        first.complete(design_request())
    before = first.usage.to_dict()

    resumed = make_client(OPENAI)
    assert resumed.usage.to_dict() == before
    assert before["failures"] == 1 and before["retries"] == 1 and before["calls"] == 2

    fake_server.script(ScriptedReply(OPENAI.answer("third")))
    resumed.complete(design_request())
    records = [
        json.loads(line) for line in (tmp_path / "run" / RECORDINGS_FILE).read_text().splitlines()
    ]
    assert [r["occurrence"] for r in records] == [
        0,
        1,
        2,
    ]  # the same request, counted across the restart
    assert len({r["key"] for r in records}) == 1


def test_a_torn_last_line_from_a_killed_run_is_dropped_on_resume(
    fake_server, make_client, tmp_path
):
    fake_server.script(ScriptedReply(OPENAI.answer(input_tokens=100, output_tokens=10)))
    make_client(OPENAI).complete(design_request())
    path = tmp_path / "run" / RECORDINGS_FILE
    with path.open("a") as handle:
        handle.write('{"key": "abc", "occurrence": 0, "provi')  # killed mid-write

    resumed = make_client(OPENAI)

    assert resumed.usage.calls == 1
    fake_server.script(ScriptedReply(OPENAI.answer()))
    resumed.complete(design_request("next"))
    assert [json.loads(line)["occurrence"] for line in path.read_text().splitlines()] == [0, 0]


@pytest.mark.parametrize("vendor", VENDORS, ids=lambda v: v.provider)
def test_the_api_key_is_never_written_to_the_run_dir_logs_or_reprs(
    vendor, fake_server, make_client, api_key_env, tmp_path, caplog
):
    fake_server.script(
        ScriptedReply(vendor.answer()),
        ScriptedReply(
            {"error": {"type": "authentication_error", "message": "bad key"}}, status=401
        ),
        *[ScriptedReply({"error": "boom"}, status=500) for _ in range(2)],
        ScriptedReply(vendor.refusal()),
    )
    with caplog.at_level(logging.DEBUG):  # every logger, the SDKs' and httpx's included
        client = make_client(vendor, max_retries=1)
        client.complete(design_request())
        for expected in (LLMRequestRejected, LLMServerError, LLMRefusal):
            with pytest.raises(expected):
                client.complete(design_request("again"))

    assert fake_server.received[0].headers["authorization"].endswith(api_key_env)  # it was used
    assert files_containing(tmp_path, api_key_env) == []
    assert (tmp_path / "run" / RECORDINGS_FILE).stat().st_size > 0
    assert api_key_env not in caplog.text
    for shown in (
        repr(client),
        str(client),
        repr(client.provider),
        repr(client.config),
        client.config.model_dump_json(),
    ):
        assert api_key_env not in shown


def test_secret_str_hides_the_key_in_repr_str_and_json(api_key_env):
    key = read_api_key("ANTHROPIC_API_KEY")
    assert key is not None and key.get_secret_value() == api_key_env
    assert api_key_env not in repr(key) and api_key_env not in str(key)
    assert api_key_env not in json.dumps({"key": str(key)})


def test_the_config_refuses_a_key_pasted_where_the_variable_name_goes(api_key_env):
    with pytest.raises(ValueError) as caught:
        LLMConfig(provider="anthropic", model=ANTHROPIC.model, api_key_env=api_key_env)
    assert api_key_env not in str(caught.value)
