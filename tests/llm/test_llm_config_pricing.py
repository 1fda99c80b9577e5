"""The pieces without a server: config validation, prices, retry-after parsing, keys, plugins."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
from pydantic import ValidationError

from nader.llm.base import LLMError, LLMRequest, LLMTruncated, Message, Usage
from nader.llm.config import LLMConfig, ModelPrice, effective_parameters
from nader.llm.pricing import DEFAULT_PRICES, PriceTable, estimate_input_tokens
from nader.llm.recording import error_from_dict, error_to_dict, request_key
from nader.llm.sdk_errors import parse_retry_after
from nader.plugins.manager import build_runtime


def test_config_rejects_unknown_keys_and_out_of_range_values():
    with pytest.raises(ValidationError, match="temprature"):
        LLMConfig(provider="openai", model="gpt-4o", temprature=0.2)
    with pytest.raises(ValidationError, match="temperature"):
        LLMConfig(provider="openai", model="gpt-4o", temperature=3.5)
    with pytest.raises(ValidationError, match="cached"):
        LLMConfig(
            provider="openai", model="m", prices={"m": {"input": 1, "output": 2, "cached": 0.1}}
        )


def test_config_reads_a_toml_llm_table():
    tomllib = pytest.importorskip("tomllib")

    table = tomllib.loads(
        """
        [llm]
        provider = "openai"
        model = "qwen2.5-coder"
        base_url = "http://127.0.0.1:8000/v1"
        temperature = 0.7
        budget_usd = 2.5
        [llm.prices."qwen2.5-coder"]
        input = 0.0
        output = 0.0
        """
    )["llm"]
    config = LLMConfig.model_validate(table)
    assert config.prices["qwen2.5-coder"] == ModelPrice(input=0, output=0)
    assert config.budget_usd == 2.5 and config.max_retries == 4


def test_request_parameters_override_the_configuration():
    config = LLMConfig(provider="openai", model="gpt-4o", temperature=0.2, max_tokens=100)
    plain = LLMRequest(task="t", messages=(Message("user", "x"),))
    tuned = LLMRequest(task="t", messages=(Message("user", "x"),), temperature=0.0, max_tokens=7)
    assert effective_parameters(plain, config) == {"temperature": 0.2, "max_tokens": 100}
    assert effective_parameters(tuned, config) == {"temperature": 0.0, "max_tokens": 7}


def test_price_table_cost_formula_and_snapshot_names():
    table = PriceTable({"m": ModelPrice(input=2.0, output=8.0, cached_input=0.5, cache_write=2.5)})
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=500_000,
        cached_input_tokens=400_000,
        cache_creation_tokens=100_000,
    )
    # 500k plain input at $2, 400k cached at $0.5, 100k written at $2.5, 500k output at $8
    assert table.cost_usd("m", usage) == pytest.approx(1.0 + 0.2 + 0.25 + 4.0)
    assert table.price_for("gpt-4o-2024-08-06") is DEFAULT_PRICES["gpt-4o"]
    assert table.price_for("claude-haiku-4-5-20251001") is DEFAULT_PRICES["claude-haiku-4-5"]
    assert table.price_for("gpt-4o-mini") is DEFAULT_PRICES["gpt-4o-mini"]
    assert table.price_for("gpt-4o-turbo-special") is None  # no fuzzy matching beyond dates


def test_unset_cached_prices_fall_back_to_the_input_price():
    table = PriceTable({"m": ModelPrice(input=1.0, output=0.0)})
    assert table.cost_usd(
        "m", Usage(input_tokens=1_000_000, cached_input_tokens=600_000)
    ) == pytest.approx(1.0)


def test_unknown_model_is_free_with_a_single_warning(caplog):
    table = PriceTable()
    with caplog.at_level(logging.WARNING, logger="nader.llm"):
        costs = [table.cost_usd("local-llama", Usage(1000, 1000)) for _ in range(3)]
    assert costs == [0.0, 0.0, 0.0]
    assert len([r for r in caplog.records if "local-llama" in r.getMessage()]) == 1


def test_estimate_grows_with_the_prompt():
    short = LLMRequest(task="t", messages=(Message("user", "x" * 35),))
    long = LLMRequest(task="t", messages=(Message("user", "x" * 3500),))
    assert estimate_input_tokens(short) < estimate_input_tokens(long)
    assert 800 <= estimate_input_tokens(long) <= 1200


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers, expected):
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = datetime(2025, 1, 1, 12, 0, 30, tzinfo=timezone.utc)
    assert (
        parse_retry_after({"retry-after": format_datetime(later, usegmt=True)}, now=now.timestamp())
        == 30.0
    )


def test_request_key_depends_on_what_determines_the_answer():
    messages = (Message("system", "fmt", cache=True), Message("user", "go"))
    base = request_key("anthropic", "m", {"temperature": 0.3, "max_tokens": 10}, messages)
    assert base == request_key("anthropic", "m", {"max_tokens": 10, "temperature": 0.3}, messages)
    assert base == request_key(
        "anthropic",
        "m",
        {"temperature": 0.3, "max_tokens": 10},
        (Message("system", "fmt"), Message("user", "go")),
    )
    assert base != request_key("openai", "m", {"temperature": 0.3, "max_tokens": 10}, messages)
    assert base != request_key("anthropic", "m2", {"temperature": 0.3, "max_tokens": 10}, messages)
    assert base != request_key("anthropic", "m", {"temperature": 0.4, "max_tokens": 10}, messages)
    assert base != request_key(
        "anthropic", "m", {"temperature": 0.3, "max_tokens": 10}, messages[::-1]
    )


def test_recorded_errors_are_rebuilt_only_from_the_fixed_table():
    original = LLMTruncated(
        "cut", provider="openai", task="t", partial_text="abc", usage=Usage(5, 6)
    )
    rebuilt = error_from_dict(error_to_dict(original), provider="openai", task="t")
    assert (
        type(rebuilt) is LLMTruncated
        and rebuilt.partial_text == "abc"
        and rebuilt.usage == Usage(5, 6)
    )

    forged = error_from_dict({"type": "os.system", "message": "x"}, provider="p", task="t")
    assert type(forged) is LLMError


def test_builtin_providers_are_registered_through_the_plugin_hook():
    runtime = build_runtime(load_entry_points=False)
    assert {"anthropic", "openai", "replay"} <= set(runtime.llm_providers.names())
    assert runtime.llm_providers.owner("anthropic") == "nader"
    nader = next(p for p in runtime.plugins if p.name == "nader")
    assert {"anthropic", "openai", "replay"} <= set(nader.registered["llm_providers"])
    assert nader.errors == []
