"""A run against a provider that is dead, or that echoes the key, as a user runs it: the CLI, a
real HTTP endpoint on 127.0.0.1 (or none), the run directory (issue 12, items 5 and 8)."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "llm"))

from corpus_paths import nader_command, nader_env  # noqa: E402
from fake_llm_server import (  # noqa: E402
    FAKE_API_KEY,
    OPENAI,
    DripServer,
    FakeLLMServer,
    ReceivedRequest,
    ScriptedReply,
    closed_port,
    files_containing,
    openai_completion,
)


def _run(config: Path, run_dir: Path, *settings: str, env: dict[str, str] | None = None):
    overrides = [arg for setting in settings for arg in ("--set", setting)]
    return subprocess.run(
        nader_command("run", str(config), "--run-dir", str(run_dir), "--no-live", *overrides),
        env=env or nader_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_dead_endpoint_stops_the_run_with_the_reason_on_the_console(write_config, tmp_path):
    port = closed_port()
    started = time.monotonic()

    done = _run(
        write_config(max_architectures=4),
        tmp_path / "run",
        "llm.provider=openai",
        "llm.model=gpt-4o",
        f'llm.base_url="http://127.0.0.1:{port}/v1"',
        "llm.max_retries=1",
        "llm.retry_initial_s=0.01",
        "llm.retry_max_s=0.05",
    )

    console = done.stdout + done.stderr
    assert done.returncode == 1, console[-3000:]
    # the stop names the provider, the endpoint and the last error, on stderr
    assert f"'openai' at http://127.0.0.1:{port}/v1" in done.stderr
    assert "LLMConnectionError" in done.stderr and "3 calls in a row" in done.stderr
    # and every failed call was shown as it happened
    assert console.count("LLM call failed (openai at") >= 3
    assert time.monotonic() - started < 300


def test_a_server_that_echoes_the_key_leaves_no_trace_of_it(write_config, tmp_path):
    counter = itertools.count()

    def echo_the_key(received: ReceivedRequest) -> ScriptedReply:
        key = received.headers.get("authorization", "").removeprefix("Bearer ")
        turn = next(counter) % 4
        if turn == 1:
            body = {"error": {"type": "invalid_request_error", "message": f"bad key {key}"}}
            return ScriptedReply(body, status=401)
        if turn == 3:
            body = {"error": {"message": f"upstream failed; request had Authorization: {key}"}}
            return ScriptedReply(body, status=500)
        return ScriptedReply(
            openai_completion(f"1. as asked, {key}\n##Cell##\n0:input\n1:output\n0->1  # {key}")
        )

    server = FakeLLMServer()
    server.responder = echo_the_key
    server.start()
    env = nader_env()
    env["NADER_TEST_LLM_KEY"] = FAKE_API_KEY
    run_dir = tmp_path / "run"
    try:
        done = _run(
            write_config(max_architectures=3),
            run_dir,
            "llm.provider=openai",
            "llm.model=gpt-4o",
            f'llm.base_url="{server.root_url}/v1"',
            'llm.api_key_env="NADER_TEST_LLM_KEY"',
            "llm.max_retries=1",
            "llm.retry_initial_s=0.01",
            "run.max_designs=3",
            env=env,
        )
    finally:
        server.stop()

    console = done.stdout + done.stderr
    assert len(server.received) >= 4, console[-3000:]
    assert all(r.headers["authorization"] == f"Bearer {FAKE_API_KEY}" for r in server.received)
    assert FAKE_API_KEY not in console
    assert files_containing(tmp_path, FAKE_API_KEY) == []
    # the echoes did arrive and were caught, in the recordings and the store alike
    redacted = {p.name for p in files_containing(run_dir, "[REDACTED]")}
    assert "recordings.jsonl" in redacted and any(n.startswith("state.db") for n in redacted)


def test_the_wall_clock_budget_ends_a_run_whose_provider_drips(write_config, tmp_path):
    server = DripServer(OPENAI.answer("dripped"), interval_s=0.5)
    server.start()
    started = time.monotonic()
    try:
        done = _run(
            write_config(max_architectures=4),
            tmp_path / "run",
            "llm.provider=openai",
            "llm.model=gpt-4o",
            f'llm.base_url="{server.root_url}/v1"',
            "llm.timeout_s=600",
            "run.max_wall_clock_s=10",
        )
    finally:
        server.stop()

    assert server.requests >= 1  # a call was in flight when the budget ran out
    assert "wall-clock budget reached" in done.stdout, (done.stdout + done.stderr)[-3000:]
    assert time.monotonic() - started < 60
