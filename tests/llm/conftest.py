"""Fixtures for the LLM tests: a fake vendor server on 127.0.0.1, the fake key, a sleep recorder."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_llm_server import FAKE_API_KEY, DripServer, FakeLLMServer, RecordingSleep, Vendor

from nader.llm.client import LLMClient
from nader.llm.config import LLMConfig


@pytest.fixture
def fake_server() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api_key_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """Sets both vendors' key variables (and a custom one) to the fake key; returns the key."""
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "NADER_TEST_LLM_KEY"):
        monkeypatch.setenv(name, FAKE_API_KEY)
    for name in (
        "ANTHROPIC_BASE_URL",
        "OPENAI_BASE_URL",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    return FAKE_API_KEY


@pytest.fixture
def drip_server() -> Iterator[Callable[[Vendor, float], DripServer]]:
    """``drip_server(vendor, interval_s)``: a started server dripping ``vendor``'s answer."""
    started: list[DripServer] = []

    def start(vendor: Vendor, interval_s: float) -> DripServer:
        server = DripServer(vendor.answer("dripped"), interval_s)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def make_client(
    fake_server: FakeLLMServer,
    api_key_env: str,
    sleeps: RecordingSleep,
    runtime: Any,
    tmp_path: Path,
) -> Callable[..., LLMClient]:
    """``make_client(vendor, **config_overrides)``: a client for ``vendor`` aimed at the fake
    server, recording into ``tmp_path / "run"``, waiting through ``sleeps``. ``run_deadline``
    and ``on_failure`` go to the client, everything else to the ``[llm]`` config."""

    def build(
        vendor: Vendor,
        *,
        run_dir: Path | None = None,
        run_deadline: float | None = None,
        on_failure: Callable[[str], None] | None = None,
        **overrides: Any,
    ) -> LLMClient:
        settings: dict[str, Any] = {
            "provider": vendor.provider,
            "model": vendor.model,
            "base_url": vendor.base_url(fake_server),
            # the fake server stands in for the vendor: name the vendor's key variable, as a
            # user of a gateway or proxy would (openai sends no key to a base_url otherwise)
            "api_key_env": f"{vendor.provider.upper()}_API_KEY",
            "temperature": 0.3,
            "max_tokens": 512,
            "timeout_s": 5.0,
            "max_retries": 2,
            "retry_initial_s": 1.0,
            "retry_max_s": 8.0,
        }
        settings.update(overrides)
        config = LLMConfig(**settings)
        return LLMClient.from_config(
            config,
            runtime,
            run_dir=run_dir or tmp_path / "run",
            sleep=sleeps,
            rng=random.Random(7),
            run_deadline=run_deadline,
            on_failure=on_failure,
        )

    return build
