"""The design team end to end: a recorded session, the offline designer, the ablation switches."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from agents_helpers import add_outcome, build_team, offline, start_tree
from pydantic import ValidationError

from nader.agents import tasks
from nader.agents.config import AgentsConfig
from nader.agents.knowledge import Inspiration
from nader.agents.proposer import ProposalError, parse_ranking
from nader.agents.tree import ModificationTree
from nader.hookspecs import hookimpl
from nader.ir import check_text, parse_network
from nader.llm.pricing import estimate_tokens
from nader.plugins.manager import build_runtime

SESSION = Path(__file__).parent / "data" / "recorded_session.json"


def test_recorded_session_replays_and_reports_tokens_per_architecture(
    tmp_path, resnet_network, scripted, capsys
):
    session = json.loads(SESSION.read_text())
    (tmp_path / "papers").mkdir()
    for name, text in session["papers"].items():
        (tmp_path / "papers" / name).write_text(text)
    provider = scripted([(c["task"], c["text"]) for c in session["calls"]])
    config = AgentsConfig(papers_dir=tmp_path / "papers", max_inspirations_per_paper=3)
    team = build_team(llm=provider, config=config, run_dir=tmp_path / "run")
    report = team.prepare_knowledge()
    assert report.reader is not None and report.reader.irrelevant == ["b_street_signs"]
    tree = start_tree(resnet_network)
    outcomes = []
    for valid_acc in session["valid_acc"]:
        proposal = team.propose(tree)
        outcome = team.design(proposal)
        node = add_outcome(tree, proposal, outcome)
        tree.update(node.id, status="trained", valid_acc=valid_acc)
        team.reflect_on_result(
            proposal,
            outcome,
            parent_valid_acc=tree[proposal.parent_id].valid_acc or 0.0,
            valid_acc=valid_acc,
        )
        outcomes.append((proposal, outcome))
    assert not provider.queue  # every recorded answer was asked for, in order

    parents = [p.parent_id for p, _ in outcomes]
    assert parents == [0, 1, 1]  # improved -> go deeper; dropped -> back to the parent
    assert (
        "RoI" in outcomes[0][0].inspiration.text and "dilation" in outcomes[1][0].inspiration.text
    )
    assert [o.status for _, o in outcomes] == ["new", "new", "new"]
    assert [(o.cell_tries, o.stem_downsample_tries) for _, o in outcomes] == [
        (2, 1),
        (1, 2),
        (2, 1),
    ]
    assert outcomes[1][1].cell_name == "ResNetRegionGate_v2"  # the answer had no header
    codes = [o.errors[0].split("]")[0][1:] for _, o in outcomes]
    assert codes == ["undefined-operator", "shape-mismatch", "dangling-branch"]
    assert len({o.hash for _, o in outcomes}) == 3
    for _, outcome in outcomes:
        assert check_text(outcome.network_text or "", team.registry).valid

    # accounting: every call carries its architecture; the outcome holds all but post-training reflection
    reader_calls = [r for r in team.ledger.entries if r.architecture is None]
    assert {r.task for r in reader_calls} == {tasks.PAPER_RELEVANCE, tasks.EXTRACT_INSPIRATIONS}
    rows = []
    for proposal, outcome in outcomes:
        calls = team.ledger.for_architecture(proposal.architecture)
        after_training = [r for r in calls if r.task == tasks.REFLECT_ACCURACY_DROP]
        assert list(outcome.usage_by_call) + after_training == list(calls)
        prompt = sum(r.usage.input_tokens for r in calls)
        answer = sum(r.usage.output_tokens for r in calls)
        assert prompt == sum(
            estimate_tokens(m.content)
            for r in provider.requests
            if r.architecture == proposal.architecture
            for m in r.messages
        )
        rows.append((proposal.architecture, len(calls), prompt, answer))
    assert [n for _, n, _, _ in rows] == [
        6,
        7,
        6,
    ]  # architecture 2 also had an accuracy-drop reflection
    with capsys.disabled():
        print("\nrecorded session, tokens per designed architecture (estimated from characters):")
        for arch, n, prompt, answer in rows:
            print(f"  architecture {arch}: {n} calls, {prompt} input, {answer} output")
        print(
            f"  mean: {sum(r[2] for r in rows) / len(rows):.0f} input, {sum(r[3] for r in rows) / len(rows):.0f} output"
        )
    team.close()


def test_offline_session_designs_new_verified_architectures(tmp_path, resnet_network):
    team = build_team(llm=offline(seed=7), config=AgentsConfig(seed=7), run_dir=tmp_path)
    team.prepare_knowledge()
    tree = start_tree(resnet_network)
    rng = random.Random(0)
    for _ in range(6):
        proposal = team.propose(tree)
        outcome = team.design(proposal)
        assert outcome.status == "new", outcome.errors
        node = add_outcome(tree, proposal, outcome)
        tree.update(node.id, status="trained", valid_acc=70.0 + rng.uniform(-1, 1))
        assert all(r.provider == "offline" for r in outcome.usage_by_call)
        assert {r.task for r in outcome.usage_by_call} >= {
            tasks.RANK_INSPIRATIONS,
            tasks.MODIFY_BLOCK,
            tasks.WRITE_STEM_DOWNSAMPLE,
        }
    hashes = [node.hash for node in tree if node.id != 0]
    assert len(set(hashes)) == 6
    assert (tmp_path / "memory").is_dir()
    team.close()


def test_proposer_never_repeats_an_inspiration_for_a_node(resnet_network):
    team = build_team(llm=offline(), config=AgentsConfig(reader=False, policy="greedy", rank_k=4))
    team.prepare_knowledge()
    tree = start_tree(resnet_network)
    seen = []
    with pytest.raises(ProposalError, match="already proposed for node 0"):
        for _ in range(40):
            seen.append(team.propose(tree).inspiration.key)
    assert len(seen) == len(set(seen)) == len(team.knowledge)
    assert tree[0].used_inspirations == seen


def test_proposer_without_llm_picks_randomly_and_makes_no_call(resnet_network, scripted):
    provider = scripted([])
    team = build_team(llm=provider, config=AgentsConfig(reader=False, proposer_llm=False))
    team.prepare_knowledge()
    proposal = team.propose(start_tree(resnet_network))
    assert proposal.inspiration.key.startswith("expert:") and proposal.candidates == ()
    assert provider.requests == []


def test_research_tips_inform_the_ranking(resnet_network, scripted):
    provider = scripted(
        [
            (
                tasks.REFLECT_ACCURACY_DROP,
                "- Dilated convolutions hurt on small 32x32 inputs here.",
            ),
            (tasks.RANK_INSPIRATIONS, "Ranking: 2, 1"),
        ],
    )
    team = build_team(llm=provider, config=AgentsConfig(reader=False, rank_k=2, retrieve_k=2))
    team.knowledge.add(
        [
            Inspiration("x:dil", "Use dilated convolutions to enlarge the receptive field.", "x"),
            Inspiration("x:se", "Add squeeze and excitation channel attention.", "x"),
        ]
    )
    tree = start_tree(resnet_network)
    team.reflector.learn_from_accuracy_drop(
        suggestion="Use dilated convolutions in the block to enlarge the receptive field.",
        parent_cell="a",
        child_cell="b",
        parent_acc=70.0,
        child_acc=69.0,
        change="+1 Conv2d",
        architecture="1",
    )
    proposal = team.propose(tree)
    prompt = provider.requests[-1].messages[-1].content
    assert "Lessons from earlier accuracy drops:\n- Dilated convolutions hurt" in prompt
    chosen_second = provider.requests[-1].fields["candidates"][1]
    assert proposal.inspiration.text == chosen_second


def test_ranking_answers_are_parsed_leniently():
    assert parse_ranking("Ranking: 3, 1, 2", 3) == [2, 0, 1]
    assert parse_ranking("I think suggestion 2 is best.\nRanking: 2 > 3 > 1", 3) == [1, 2, 0]
    assert parse_ranking("Best is number 7, then 2", 3) == [1]
    assert parse_ranking("No numbers here", 3) == []


def test_agents_config_rejects_unknown_switches():
    with pytest.raises(ValidationError):
        AgentsConfig(immediate_feedbak=False)  # type: ignore[call-arg]
    config = AgentsConfig.model_validate(
        {
            "reader": False,
            "proposer_llm": False,
            "immediate_feedback": False,
            "design_experience": False,
        }
    )
    assert not (
        config.reader
        or config.proposer_llm
        or config.immediate_feedback
        or config.design_experience
    )
    with pytest.raises(ValidationError):
        AgentsConfig(max_try=0)


def test_knowledge_sources_follow_the_reader_switch(official, tmp_path):
    files = [official / "knowledge" / "manual_v1.json"]
    on = build_team(
        llm=offline(), config=AgentsConfig(inspiration_files=files), run_dir=tmp_path / "a"
    )
    assert on.prepare_knowledge().added == {str(files[0]): 10}
    off = build_team(
        llm=offline(),
        config=AgentsConfig(reader=False, inspiration_files=files),
        run_dir=tmp_path / "b",
    )
    report = off.prepare_knowledge()
    assert list(report.added) == ["expert"] and off.knowledge.pool.collection.startswith(
        "expert_knowledge"
    )
    experience = [
        official / "experiences" / "develop_experience.json",
        official / "experiences" / "research_experience.json",
    ]
    with_experience = build_team(llm=offline(), config=AgentsConfig(experience_files=experience))
    assert with_experience.prepare_knowledge().experience_size > 150
    for team in (on, off, with_experience):
        team.close()


def test_pools_persist_in_the_run_directory(tmp_path, resnet_network):
    config = AgentsConfig(reader=False)
    team = build_team(llm=offline(), config=config, run_dir=tmp_path)
    team.prepare_knowledge()
    tree = start_tree(resnet_network)
    outcome = team.design(team.propose(tree))
    assert outcome.tips_learned
    team.close()
    again = build_team(llm=offline(), config=config, run_dir=tmp_path)
    assert len(again.experience) == len(set(outcome.tips_learned))  # type: ignore[arg-type]
    assert again.prepare_knowledge().added == {"expert": 0}
    again.close()


class NewestPolicy:
    name = "newest"

    def __init__(self, **options: object) -> None:
        pass

    def select(self, tree: ModificationTree, rng: random.Random) -> int:
        return max(node.id for node in tree)


class NewestPlugin:
    @hookimpl
    def register_search_policies(self, register):
        register("newest", NewestPolicy)


def test_build_uses_the_plugin_runtime(resnet_network):
    runtime = build_runtime(
        load_entry_points=False, extra_plugins=[("newest-plugin", NewestPlugin())]
    )
    assert "offline" in runtime.llm_providers and {
        "nader",
        "greedy",
        "bfs",
        "dfs",
        "random",
    } <= set(runtime.search_policies)
    assert {"hashing", "openai", "sentence-transformers"} <= set(runtime.embedders)
    designer = runtime.llm_providers.get("offline")(None, runtime)
    team = build_team(
        llm=designer, config=AgentsConfig(reader=False, policy="newest"), runtime=runtime
    )
    team.prepare_knowledge()
    tree = start_tree(resnet_network)
    tree.add_child(
        0, parse_network(resnet_network), suggestion="same", status="trained", valid_acc=60.0
    )
    assert team.propose(tree).parent_id == 1
    with pytest.raises(Exception, match="no search policy named 'missing'"):
        build_team(llm=designer, config=AgentsConfig(policy="missing"), runtime=runtime)
