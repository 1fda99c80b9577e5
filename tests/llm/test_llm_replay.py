"""Record a short exchange with a live provider (real SDK, fake server), then replay it offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_llm_server import ANTHROPIC, OPENAI, ScriptedReply, design_request

from nader.errors import ConfigError
from nader.llm.base import LLMRefusal, LLMRequest, LLMResponse, ReplayMiss
from nader.llm.client import LLMClient
from nader.llm.config import LLMConfig
from nader.llm.recording import RECORDINGS_FILE
from nader.llm.replay import ReplayProvider

SESSION = (
    design_request("Add an SE branch.", task="modify_block", role="modifier", architecture="a1"),
    design_request(
        "Rank these 3 inspirations.", task="rank_inspirations", role="proposer", architecture=None
    ),
    design_request(
        "Add an SE branch.", task="modify_block", role="modifier", architecture="a1"
    ),  # again
    design_request(
        "Summarise this failure.", task="write_tip", role="reflector", architecture="a1"
    ),
)


def play(client: LLMClient, requests: tuple[LLMRequest, ...]) -> list[LLMResponse | str]:
    """Each answer, or the type of the error it raised."""
    outcomes: list[LLMResponse | str] = []
    for request in requests:
        try:
            outcomes.append(client.complete(request))
        except LLMRefusal as err:
            outcomes.append(type(err).__name__)
    return outcomes


def replay_client(runtime, source: Path, run_dir: Path, **overrides) -> LLMClient:
    settings = {
        "provider": "replay",
        "model": ANTHROPIC.model,
        "replay_from": source,
        "temperature": 0.3,
        "max_tokens": 512,
    }
    settings.update(overrides)
    return LLMClient.from_config(LLMConfig(**settings), runtime, run_dir=run_dir)


@pytest.fixture
def recorded_run(fake_server, make_client, tmp_path) -> tuple[Path, list[LLMResponse | str], dict]:
    fake_server.script(
        ScriptedReply(ANTHROPIC.answer("cell v1", input_tokens=900, output_tokens=80)),
        ScriptedReply({"error": "overloaded"}, status=529),
        ScriptedReply(ANTHROPIC.answer("2, 0, 1", input_tokens=300, output_tokens=5)),
        ScriptedReply(
            ANTHROPIC.answer("cell v2 (a different sample)", input_tokens=900, output_tokens=90)
        ),
        ScriptedReply(ANTHROPIC.refusal()),
    )
    run_dir = tmp_path / "recorded"
    client = make_client(ANTHROPIC, run_dir=run_dir)
    outcomes = play(client, SESSION)
    assert len(fake_server.received) == 5
    return run_dir, outcomes, client.usage.to_dict()


def test_a_recorded_run_replays_to_the_same_answers_and_usage(
    recorded_run, fake_server, runtime, tmp_path
):
    source, live_outcomes, live_usage = recorded_run
    fake_server.stop()  # nothing may be sent during a replay

    replayed = replay_client(runtime, source, tmp_path / "replayed")
    outcomes = play(replayed, SESSION)

    texts = [o.text if isinstance(o, LLMResponse) else o for o in outcomes]
    assert texts == ["cell v1", "2, 0, 1", "cell v2 (a different sample)", "LLMRefusal"]
    assert texts == [o.text if isinstance(o, LLMResponse) else o for o in live_outcomes]
    assert replayed.usage.to_dict() == live_usage
    assert [o.usage for o in outcomes if isinstance(o, LLMResponse)] == [
        o.usage for o in live_outcomes if isinstance(o, LLMResponse)
    ]


def test_a_replayed_run_can_itself_be_replayed(recorded_run, runtime, tmp_path):
    source, live_outcomes, _ = recorded_run
    play(replay_client(runtime, source, tmp_path / "second"), SESSION)

    third = play(replay_client(runtime, tmp_path / "second", tmp_path / "third"), SESSION)

    assert [getattr(o, "text", o) for o in third] == [getattr(o, "text", o) for o in live_outcomes]


def test_one_call_more_than_recorded_is_a_replay_miss_naming_task_and_key(
    recorded_run, runtime, tmp_path
):
    source, _, _ = recorded_run
    client = replay_client(runtime, source, tmp_path / "replayed")
    play(client, SESSION)

    with pytest.raises(ReplayMiss) as caught:
        client.complete(SESSION[0])  # a third identical call; only two were recorded

    miss = caught.value
    assert miss.task == "modify_block" and miss.occurrence == 2
    assert miss.key == client.key_for(SESSION[0])
    assert "modify_block" in str(miss) and miss.key in str(miss)


def test_a_changed_request_or_parameter_misses(recorded_run, runtime, tmp_path):
    source, _, _ = recorded_run
    with pytest.raises(ReplayMiss, match="rank_inspirations"):
        replay_client(runtime, source, tmp_path / "r1").complete(
            design_request("Rank these 4 inspirations.", task="rank_inspirations")
        )
    with pytest.raises(ReplayMiss):
        replay_client(runtime, source, tmp_path / "r2", temperature=0.9).complete(SESSION[0])
    with pytest.raises(ReplayMiss):
        replay_client(runtime, source, tmp_path / "r3", model="claude-opus-4-5").complete(
            SESSION[0]
        )


def test_a_resumed_replay_continues_with_the_next_recorded_answer(recorded_run, runtime, tmp_path):
    source, _, _ = recorded_run
    assert (
        replay_client(runtime, source, tmp_path / "replayed").complete(SESSION[0]).text == "cell v1"
    )

    resumed = replay_client(runtime, source, tmp_path / "replayed")

    assert resumed.complete(SESSION[0]).text == "cell v2 (a different sample)"


def test_recordings_hold_what_a_replay_needs(recorded_run):
    source, _, _ = recorded_run
    records = [json.loads(line) for line in (source / RECORDINGS_FILE).read_text().splitlines()]
    first = records[0]
    assert first["provider"] == "anthropic" and first["model"] == ANTHROPIC.model
    assert first["parameters"] == {"temperature": 0.3, "max_tokens": 512}
    assert first["task"] == "modify_block" and first["role"] == "modifier"
    assert first["messages"][1] == {"role": "user", "content": "Add an SE branch.", "cache": False}
    assert first["response"]["text"] == "cell v1"
    assert len(first["key"]) == 64
    assert (
        records[1]["attempts"] == 2 and records[1]["failed_attempts"][0]["type"] == "LLMServerError"
    )


def test_standalone_replay_provider_counts_occurrences_itself(recorded_run):
    source, _, _ = recorded_run
    config = LLMConfig(
        provider="replay",
        model=ANTHROPIC.model,
        replay_from=source,
        temperature=0.3,
        max_tokens=512,
    )
    provider = ReplayProvider(config)

    assert [provider.complete(SESSION[0]).text for _ in range(2)] == [
        "cell v1",
        "cell v2 (a different sample)",
    ]


def test_replay_configuration_errors(tmp_path, recorded_run, fake_server, make_client):
    with pytest.raises(ConfigError, match="replay_from"):
        ReplayProvider(LLMConfig(provider="replay", model="m"))
    with pytest.raises(ConfigError, match="no recordings"):
        ReplayProvider(LLMConfig(provider="replay", model="m", replay_from=tmp_path / "nowhere"))

    source, _, _ = recorded_run  # add calls from a second provider to the same recording
    fake_server.script(ScriptedReply(OPENAI.answer()))
    make_client(OPENAI, run_dir=source).complete(design_request())
    with pytest.raises(ConfigError, match="several providers"):
        ReplayProvider(LLMConfig(provider="replay", model="m", replay_from=source))
    chosen = ReplayProvider(
        LLMConfig(provider="replay", model="m", replay_from=source, replay_provider="openai")
    )
    assert chosen.answers_as == "openai"
