"""What differs between the vendors: prompt caching on the wire, cache usage fields, request
parameters, keys, and local OpenAI-compatible servers."""

from __future__ import annotations

import logging

import pytest
from fake_llm_server import (
    ANTHROPIC,
    OPENAI,
    STATIC_PREFIX,
    ScriptedReply,
    anthropic_message,
    design_request,
    openai_completion,
)

from nader.errors import ConfigError
from nader.llm.anthropic_api import AnthropicProvider
from nader.llm.base import LLMRequest, Message
from nader.llm.config import LLMConfig, ModelPrice
from nader.llm.openai_api import LOCAL_SERVER_PLACEHOLDER_KEY, OpenAIProvider

PRICE = ModelPrice(input=3.0, output=15.0, cached_input=0.3, cache_write=3.75)


def test_anthropic_sends_cached_prefix_with_cache_control_and_system_as_blocks(
    fake_server, make_client
):
    fake_server.script(ScriptedReply(anthropic_message(model=ANTHROPIC.model)))
    request = LLMRequest(
        task="modify_block",
        messages=(
            Message("system", STATIC_PREFIX, cache=True),
            Message("system", "Today's candidate is arch-7."),
            Message("user", "Operator catalogue ...", cache=True),
            Message("user", "Apply inspiration 12."),
        ),
    )

    make_client(ANTHROPIC).complete(request)

    body = fake_server.received[0].body
    assert body["system"] == [
        {"type": "text", "text": STATIC_PREFIX, "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Today's candidate is arch-7."},
    ]
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": "Operator catalogue ...",
                    "cache_control": {"type": "ephemeral"},
                }
            ],
        },
        {"role": "user", "content": [{"type": "text", "text": "Apply inspiration 12."}]},
    ]
    assert fake_server.received[0].headers["anthropic-version"]


def test_anthropic_marks_at_most_four_cache_breakpoints_the_last_four(fake_server, make_client):
    fake_server.script(ScriptedReply(anthropic_message(model=ANTHROPIC.model)))
    messages = tuple(
        Message("user" if i % 2 == 0 else "assistant", f"part {i}", cache=True) for i in range(6)
    )
    make_client(ANTHROPIC).complete(
        LLMRequest(task="t", messages=messages + (Message("user", "go"),))
    )

    sent = fake_server.received[0].body["messages"]
    marked = [m["content"][0]["text"] for m in sent if "cache_control" in m["content"][0]]
    assert marked == ["part 2", "part 3", "part 4", "part 5"]


def test_anthropic_cache_read_and_creation_tokens_are_counted_and_priced(fake_server, make_client):
    fake_server.script(
        ScriptedReply(
            anthropic_message(
                model=ANTHROPIC.model,
                input_tokens=100,
                output_tokens=50,
                cache_read=1000,
                cache_creation=200,
            )
        )
    )
    client = make_client(ANTHROPIC, prices={ANTHROPIC.model: PRICE})

    response = client.complete(design_request())

    assert response.usage.input_tokens == 1300  # uncached + read + written
    assert response.usage.cached_input_tokens == 1000
    assert response.usage.cache_creation_tokens == 200
    expected = (100 * 3.0 + 1000 * 0.3 + 200 * 3.75 + 50 * 15.0) / 1e6
    assert response.cost_usd == pytest.approx(expected)
    summary = client.usage.to_dict()
    assert summary["cached_input_tokens"] == 1000
    assert summary["cost_usd"] == pytest.approx(expected, abs=1e-6)


def test_anthropic_temperature_is_dropped_with_one_warning_on_the_current_api(
    fake_server, make_client, caplog
):
    fake_server.script(*[ScriptedReply(anthropic_message(model=ANTHROPIC.model)) for _ in range(2)])
    client = make_client(ANTHROPIC, temperature=0.2)
    assert not client.provider.sends_temperature  # anthropic SDK 2.x: API 2026-10-21

    with caplog.at_level(logging.WARNING, logger="nader.llm"):
        client.complete(design_request("one"))
        client.complete(design_request("two"))

    assert all("temperature" not in r.body for r in fake_server.received)
    assert sum("temperature" in r.getMessage() for r in caplog.records) == 1


def test_openai_cached_prompt_tokens_are_counted_and_priced(fake_server, make_client):
    fake_server.script(
        ScriptedReply(
            openai_completion(
                model=OPENAI.model, prompt_tokens=2000, completion_tokens=100, cached_tokens=1536
            )
        )
    )
    price = ModelPrice(input=2.5, output=10.0, cached_input=1.25)
    client = make_client(OPENAI, prices={OPENAI.model: price})

    response = client.complete(design_request())

    assert (response.usage.input_tokens, response.usage.cached_input_tokens) == (2000, 1536)
    assert response.cost_usd == pytest.approx(
        ((2000 - 1536) * 2.5 + 1536 * 1.25 + 100 * 10.0) / 1e6
    )


def test_openai_sends_temperature_and_messages_in_order(fake_server, make_client):
    fake_server.script(ScriptedReply(openai_completion(model=OPENAI.model)))
    make_client(OPENAI, temperature=0.3).complete(design_request("idea", temperature=1.1))

    body = fake_server.received[0].body
    assert body["temperature"] == 1.1  # the request's own temperature wins over the config's
    assert body["messages"] == [
        {"role": "system", "content": STATIC_PREFIX},
        {"role": "user", "content": "idea"},
    ]


@pytest.mark.parametrize(
    ("setting", "sent"),
    [
        (None, "max_tokens"),
        ("max_completion_tokens", "max_completion_tokens"),
        ("max_tokens", "max_tokens"),
    ],
)
def test_openai_token_limit_parameter_name(setting, sent, fake_server, make_client):
    fake_server.script(ScriptedReply(openai_completion(model=OPENAI.model)))
    make_client(OPENAI, max_tokens_param=setting, max_tokens=321).complete(design_request())

    body = fake_server.received[0].body
    assert body[sent] == 321
    assert {"max_tokens", "max_completion_tokens"} - {sent} & body.keys() == set()


def test_openai_compatible_local_server_gets_no_key_not_even_openais(fake_server, api_key_env):
    fake_server.script(ScriptedReply(openai_completion(model="qwen2.5-coder-7b")))
    config = LLMConfig(
        provider="openai", model="qwen2.5-coder-7b", base_url=OPENAI.base_url(fake_server)
    )

    response = OpenAIProvider(config).complete(design_request())

    assert response.text
    headers = fake_server.received[0].headers
    assert headers["authorization"] == f"Bearer {LOCAL_SERVER_PLACEHOLDER_KEY}"
    assert api_key_env not in str(headers)  # OPENAI_API_KEY is set but stayed home


def test_custom_key_variable_is_read_by_name(fake_server, api_key_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    fake_server.script(ScriptedReply(openai_completion(model=OPENAI.model)))
    config = LLMConfig(
        provider="openai",
        model=OPENAI.model,
        base_url=OPENAI.base_url(fake_server),
        api_key_env="NADER_TEST_LLM_KEY",
    )

    OpenAIProvider(config).complete(design_request())

    assert fake_server.received[0].headers["authorization"] == f"Bearer {api_key_env}"


@pytest.mark.parametrize(
    ("provider", "variable"),
    [(AnthropicProvider, "ANTHROPIC_API_KEY"), (OpenAIProvider, "OPENAI_API_KEY")],
)
def test_missing_key_is_a_config_error_naming_the_variable(provider, variable, monkeypatch):
    monkeypatch.delenv(variable, raising=False)
    config = LLMConfig(provider=provider.name, model="m")

    with pytest.raises(ConfigError, match=variable):
        provider(config)
