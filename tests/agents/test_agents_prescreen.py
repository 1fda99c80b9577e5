"""Pre-screening (``agents.prescreen_k``): the Modifier designs k cells for one proposal, the
best by a zero-cost proxy goes on, the others are kept in the outcome.

The scorer here is the real thing at test size: the candidate network planned on NAS-Bench-201's
skeleton, built as an fx module and scored by NASWOT on seeded images.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agents_helpers import build_team, offline, start_tree  # noqa: E402

from nader.agents import tasks  # noqa: E402
from nader.agents.blocks import assemble_network, network_parts  # noqa: E402
from nader.agents.config import AgentsConfig  # noqa: E402
from nader.backends.fx_build import build_network  # noqa: E402
from nader.backends.plan import NetworkPlanner  # noqa: E402
from nader.backends.presets import dataset_preset  # noqa: E402
from nader.backends.skeletons import skeleton_named  # noqa: E402
from nader.errors import ConfigError  # noqa: E402
from nader.ir import parse_network  # noqa: E402
from nader.ir.graph import Network  # noqa: E402
from nader.llm.base import LLMRequest, LLMResponse  # noqa: E402
from nader.plugins.manager import builtin_runtime  # noqa: E402
from nader.training.loop import build_seeded  # noqa: E402
from nader.training.proxies import naswot_score  # noqa: E402

RUNTIME = builtin_runtime()
IMAGES = torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(0))


class NaswotScorer:
    """NASWOT of the network at width 8 on cifar10's shape; counts its calls."""

    def __init__(self) -> None:
        self.calls: list[Network] = []

    def __call__(self, network: Network) -> float:
        self.calls.append(network)
        planner = NetworkPlanner(
            network, RUNTIME.operators, skeleton_named("nb201-mini"), dataset_preset("cifar10")
        )
        plan = planner.plan(8)
        model = build_seeded(lambda: build_network(plan, RUNTIME.lowerings), 0)
        return naswot_score(model, IMAGES)


class Recording:
    """The offline designer, keeping every request it was sent."""

    name = "offline"

    def __init__(self) -> None:
        self.designer = offline(seed=3)
        self.requests: list[LLMRequest] = []

    def complete(self, request: LLMRequest) -> LLMResponse:
        self.requests.append(request)
        return self.designer.complete(request)


def _design(resnet_network: str, k: int, scorer=None, **config):  # noqa: ANN001, ANN003, ANN202
    llm = Recording()
    team = build_team(
        llm=llm,
        config=AgentsConfig(seed=3, prescreen_k=k, reader=False, **config),
        scorer=scorer,
    )
    team.prepare_knowledge()
    tree = start_tree(resnet_network)
    proposal = team.propose(tree)
    outcome = team.design(proposal)
    team.close()
    return proposal, outcome, llm.requests


def test_the_best_of_k_cells_by_proxy_goes_on_and_the_others_are_kept(resnet_network):
    scorer = NaswotScorer()
    proposal, outcome, requests = _design(resnet_network, 3, scorer)
    assert outcome.status == "new", outcome.errors
    screened = outcome.prescreen
    assert [c.index for c in screened] == [0, 1, 2]
    assert all(c.status == "new" and c.score is not None for c in screened), screened
    assert len({c.cell_text for c in screened}) == 3  # three different rewrites of the cell
    assert len(scorer.calls) == 3  # each distinct cell scored once
    best = max(screened, key=lambda c: c.score)  # type: ignore[arg-type,return-value]
    assert [c.chosen for c in screened] == [c.index == best.index for c in screened]
    assert outcome.hash == best.hash  # the chosen cell is the one that went on
    # the score is the chosen cell's, in its parent's stem and downsample, and repeats
    parent = network_parts(proposal.parent_network)
    cell = parse_network(best.cell_text or "").blocks[0]
    again = NaswotScorer()(assemble_network(cell, parent.stem, parent.downsample))
    assert again == best.score
    # k cell dialogues, one stem/downsample dialogue (for the winner only)
    cell_first_turns = [
        r for r in requests if r.task == tasks.MODIFY_BLOCK and r.fields.get("attempt") == 0
    ]
    assert [r.fields["candidate"] for r in cell_first_turns] == [0, 1, 2]
    assert "variant 2 of 3" in cell_first_turns[1].messages[-1].content
    stem_turns = [r for r in requests if r.task == tasks.WRITE_STEM_DOWNSAMPLE]
    assert len(stem_turns) == outcome.stem_downsample_tries >= 1
    assert outcome.cell_tries == sum(
        1
        for r in requests
        if r.task in (tasks.MODIFY_BLOCK, tasks.FIX_BLOCK) and r.fields.get("stage") == "cell"
    )
    assert any("pre-screen of 3 cells by naswot" in note for note in outcome.notes)
    assert [c["chosen"] for c in outcome.to_dict()["prescreen"]].count(True) == 1


def test_without_a_prescreen_the_first_candidate_asks_exactly_what_it_always_asked(
    resnet_network,
):
    """k = 1 sends the same request bytes as k = 3's first candidate: recordings stay valid."""
    _, plain, plain_requests = _design(resnet_network, 1)
    _, _, screened_requests = _design(resnet_network, 3, NaswotScorer())
    first = next(r for r in plain_requests if r.task == tasks.MODIFY_BLOCK)
    first_screened = next(r for r in screened_requests if r.task == tasks.MODIFY_BLOCK)
    assert [m.content for m in first.messages] == [m.content for m in first_screened.messages]
    assert "candidate" not in first.fields and plain.prescreen == ()


def test_a_candidate_that_cannot_be_scored_is_ranked_last_with_its_reason(resnet_network):
    def scorer(network: Network) -> float:
        calls.append(network)
        return [math.nan, 1.0, 2.0][len(calls) - 1] if len(calls) != 3 else _raise()

    def _raise() -> float:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    calls: list[Network] = []
    _, outcome, _ = _design(resnet_network, 3, scorer)
    first, second, third = outcome.prescreen
    assert first.score is None and "nan" in (first.error or "")
    assert third.score is None and "RuntimeError: mat1" in (third.error or "")
    assert second.chosen and second.score == 1.0 and outcome.hash == second.hash


def test_a_prescreen_needs_a_scorer():
    with pytest.raises(ConfigError, match="prescreen_k = 2 needs a proxy scorer"):
        build_team(llm=offline(), config=AgentsConfig(prescreen_k=2))
    with pytest.raises(ValueError):
        AgentsConfig(prescreen_proxy="gradnorm")
