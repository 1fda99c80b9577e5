"""Knowledge and experience pools on real Qdrant (embedded folder and in-memory)."""

from __future__ import annotations

import json
import random

import pytest

from nader.agents.embedders import HashingEmbedder
from nader.agents.experience import (
    ExperiencePool,
    Tip,
    category_of_author_error,
    load_experience_file,
)
from nader.agents.knowledge import (
    Inspiration,
    KnowledgePool,
    expert_inspirations,
    load_inspiration_file,
)
from nader.agents.memory import VectorPool, open_qdrant
from nader.errors import ConfigError

IDEAS = [
    Inspiration("t:1", "Add squeeze and excitation channel attention after the convolution.", "t"),
    Inspiration("t:2", "Use dilated convolutions to enlarge the receptive field.", "t"),
    Inspiration("t:3", "Add a residual skip connection around the two convolutions.", "t"),
    Inspiration("t:4", "Replace ReLU with GELU activation.", "t"),
]


def test_embedded_pool_persists_across_clients_and_ignores_known_keys(tmp_path):
    embedder = HashingEmbedder(dimension=64)
    client = open_qdrant(path=tmp_path / "memory")
    pool = KnowledgePool(VectorPool(client, "knowledge", embedder))
    assert pool.add(IDEAS) == 4
    assert pool.add(IDEAS[:2]) == 0
    client.close()

    reopened = open_qdrant(path=tmp_path / "memory")
    pool = KnowledgePool(VectorPool(reopened, "knowledge", embedder))
    assert len(pool) == 4
    best, score = pool.search("channel attention like squeeze excitation", k=1)[0]
    assert best == IDEAS[0] and 0 < score <= 1.0
    reopened.close()


def test_search_excludes_keys_and_random_draws_only_unused():
    pool = KnowledgePool(VectorPool(open_qdrant(), "k", HashingEmbedder(dimension=64)))
    pool.add(IDEAS)
    found = [i.key for i, _ in pool.search("residual skip connection", k=4, exclude_keys=["t:3"])]
    assert "t:3" not in found and len(found) == 3
    rng = random.Random(0)
    draws = {pool.random(rng, exclude_keys=["t:1", "t:2"]).key for _ in range(30)}  # type: ignore[union-attr]
    assert draws == {"t:3", "t:4"}
    assert pool.random(rng, exclude_keys=[i.key for i in IDEAS]) is None


def test_collections_are_separate_per_embedder():
    client = open_qdrant()
    small = VectorPool(client, "knowledge", HashingEmbedder(dimension=32))
    large = VectorPool(client, "knowledge", HashingEmbedder(dimension=48))
    assert small.collection != large.collection
    KnowledgePool(small).add(IDEAS)
    assert large.count() == 0


def test_experience_pool_keys_tips_by_suggestion_and_filters_kind():
    pool = ExperiencePool(VectorPool(open_qdrant(), "experience", HashingEmbedder(dimension=128)))
    tips = [
        Tip(
            "Make out_channels divisible by groups.",
            "grouped convolution with many groups",
            "shape",
            "development",
        ),
        Tip(
            "Keep the SE reduction at C/4 or above.",
            "squeeze and excitation attention",
            "shape",
            "development",
        ),
        Tip(
            "SE after the final add lowered accuracy.",
            "squeeze and excitation attention",
            "accuracy drop",
            "research",
        ),
    ]
    assert pool.add(tips) == 3
    found = pool.similar("add squeeze and excitation to the block", k=1, kind="development")
    assert [t.text for t in found] == ["Keep the SE reduction at C/4 or above."]
    assert found[0].category == "shape"
    research = pool.similar("squeeze and excitation", k=5, kind="research")
    assert [t.kind for t in research] == ["research"]


def test_expert_list_is_a_usable_knowledge_source():
    experts = expert_inspirations()
    assert len(experts) >= 15
    assert len({e.key for e in experts}) == len(experts)


def test_inspiration_file_formats(tmp_path):
    authors = tmp_path / "inspirations.json"
    authors.write_text(json.dumps([{"id": 7, "paper_id": 3, "inspiration": "  Use   SE blocks. "}]))
    assert load_inspiration_file(authors) == [
        Inspiration("inspirations:7", "Use SE blocks.", "inspirations", "3")
    ]
    manual = tmp_path / "manual.json"
    manual.write_text(
        json.dumps({"mutate": {"residual": {"reason": "r", "operation": "Add x to F(x)."}}})
    )
    (item,) = load_inspiration_file(manual)
    assert item.text == "residual: Add x to F(x)." and item.key == "manual:mutate:residual"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps([{"id": 1}]))
    with pytest.raises(ConfigError, match="no 'inspiration'"):
        load_inspiration_file(broken)


@pytest.mark.corpus
def test_authors_inspirations_import_and_retrieve(official):
    items = load_inspiration_file(official / "knowledge" / "inspirations.json")
    assert len(items) == 5411
    assert len({i.key for i in items}) == 5411
    pool = KnowledgePool(VectorPool(open_qdrant(), "knowledge", HashingEmbedder()))
    assert pool.add(items) == 5411
    assert pool.add(items[:100]) == 0
    hits = pool.search("channel attention squeeze excitation", k=5)
    assert len(hits) == 5
    assert any("channel" in i.text.lower() for i, _ in hits)
    manual = load_inspiration_file(official / "knowledge" / "manual_v1.json")
    assert {i.key.split(":")[-1] for i in manual} >= {
        "residual",
        "bottleneck",
        "squeeze_and_excitation",
    }


@pytest.mark.corpus
def test_authors_experience_files(official):
    develop = load_experience_file(official / "experiences" / "develop_experience.json")
    research = load_experience_file(official / "experiences" / "research_experience.json")
    assert len(develop) == 153  # every {"error", "experience"} record of the 55 designs
    assert {t.kind for t in develop} == {"development"} and {t.kind for t in research} == {
        "research"
    }
    categories = {t.category for t in develop}
    assert {"shape", "invalid connection"} <= categories
    assert all(len(t.text) <= 402 for t in develop)
    pool = ExperiencePool(VectorPool(open_qdrant(), "experience", HashingEmbedder()))
    pool.add(develop + research)
    tips = pool.similar("Integrate spatial attention mechanisms to focus on relevant features", k=5)
    assert 1 <= len(tips) <= 5 and len({t.text for t in tips}) == len(tips)


def test_author_error_categories():
    assert category_of_author_error("out_channels must be divisible by groups") == "shape"
    assert category_of_author_error("BN can receive only one input.") == "invalid connection"
    assert category_of_author_error("Node reshape(1,C,1,1) is not defined.") == "unknown operator"
    assert category_of_author_error("something else entirely") == "general"
