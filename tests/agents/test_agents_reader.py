"""Reading papers (PDF, text, Markdown, JSON) and the Reader's two LLM steps."""

from __future__ import annotations

import json

import pytest

from nader.agents import tasks
from nader.agents.calls import AgentCaller
from nader.agents.embedders import HashingEmbedder
from nader.agents.knowledge import KnowledgePool
from nader.agents.memory import VectorPool, open_qdrant
from nader.agents.offline.designer import OfflineDesigner
from nader.agents.papers import read_paper, read_papers, split_sections
from nader.agents.prompts import PromptBook
from nader.agents.reader import Reader, parse_inspirations, parse_yes_no
from nader.errors import ConfigError


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with real text objects (what pypdf reads in published papers)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    content = (
        "BT /F1 11 Tf 14 TL 50 780 Td "
        + " ".join(f"({escape(line)}) Tj T*" for line in lines)
        + " ET"
    )
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    data = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(data))
        data += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(data)
    data += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    data += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    data += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return data


GATED = [
    "Gated Convolution Blocks for Image Recognition",
    "Abstract",
    "We propose a gated convolution block with channel attention for image classification backbones.",
    "1. Introduction",
    "Convolutional networks are everywhere.",
    "3. Method",
    "We add a sigmoid gate computed from globally pooled features to rescale each channel of the convolution output.",
    "The gate uses a bottleneck of two 1x1 convolutions with a ReLU in between.",
    "4. Experiments",
    "We train on CIFAR-100.",
]


def write_papers(folder):
    folder.mkdir()
    (folder / "gated.pdf").write_bytes(make_pdf(GATED))
    (folder / "dataset.txt").write_text(
        "Title: A New Dataset of Street Signs\n"
        "Abstract: We collect twenty thousand photographs of street signs and release labels.\n"
        "Method: We drove around cities with a camera.\n"
    )
    (folder / "dilated.json").write_text(
        json.dumps(
            {
                "title": "Dilated Residual Blocks",
                "abstract": "Dilated convolution layers in residual blocks enlarge the receptive field of the backbone.",
                "method": "Each residual block uses a dilated convolution with dilation two. "
                "A skip connection adds the block input to the output of the convolution branch.",
            }
        )
    )
    (folder / "notes.csv").write_text("ignored")


def test_papers_from_every_format(tmp_path):
    write_papers(tmp_path / "papers")
    papers = {p.paper_id: p for p in read_papers(tmp_path / "papers")}
    assert set(papers) == {"gated", "dataset", "dilated"}
    gated = papers["gated"]
    assert gated.title == "Gated Convolution Blocks for Image Recognition"
    assert gated.abstract.startswith("We propose a gated convolution block")
    assert "sigmoid gate" in gated.method and "CIFAR-100" not in gated.method
    assert papers["dataset"].method == "We drove around cities with a camera."
    assert papers["dilated"].abstract.startswith("Dilated convolution layers")


def test_markdown_sections():
    text = "# Wide Blocks\n\n## Abstract\nWider blocks help.\n\n## Introduction\nx\n\n## Method\nWe double the channels.\n\n## Experiments\ny\n"
    assert split_sections(text) == ("Wide Blocks", "Wider blocks help.", "We double the channels.")


def test_broken_papers_are_reported(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"title": "only a title"}))
    with pytest.raises(ConfigError, match="needs 'title' and 'abstract'"):
        read_paper(bad)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    assert read_papers(tmp_path) == []  # both skipped with a warning


def test_answer_parsing_is_lenient():
    assert parse_yes_no("Yes. The paper proposes a new block.") is True
    assert parse_yes_no("**No** - it is about datasets.") is False
    assert parse_yes_no("# offline designer: relevance\nNo. nothing") is False
    assert parse_yes_no("Maybe.") is None
    listing = "Here are the inspirations:\n1. Use a sigmoid gate to rescale channels.\n2) Put a bottleneck inside the gate branch.\n- short\n"
    assert parse_inspirations(listing, 5) == [
        "Use a sigmoid gate to rescale channels.",
        "Put a bottleneck inside the gate branch.",
    ]
    as_json = 'Sure:\n["Use dilated convolutions in every block.", "Add a skip connection around the branch."]'
    assert parse_inspirations(as_json, 1) == ["Use dilated convolutions in every block."]


@pytest.fixture()
def knowledge():
    return KnowledgePool(VectorPool(open_qdrant(), "knowledge", HashingEmbedder(dimension=128)))


def test_reader_with_recorded_model_answers(tmp_path, registry, scripted, knowledge):
    write_papers(tmp_path / "papers")
    provider = scripted(
        [
            (
                tasks.PAPER_RELEVANCE,
                "No. The paper is about a dataset, not about network structure.",
            ),
            (
                tasks.PAPER_RELEVANCE,
                "Yes — dilated residual blocks change the block structure directly.",
            ),
            (
                tasks.EXTRACT_INSPIRATIONS,
                "1. Use dilated convolutions inside residual blocks to enlarge the receptive field without extra parameters.\n"
                "2. Keep an identity skip connection around the dilated convolution branch to ease optimization.",
            ),
            (tasks.PAPER_RELEVANCE, "Yes, it introduces a gated convolution block."),
            (
                tasks.EXTRACT_INSPIRATIONS,
                "Inspirations:\n1. Rescale channels with a sigmoid gate computed from globally pooled features.",
            ),
        ]
    )
    reader = Reader(AgentCaller(provider), PromptBook(registry), knowledge)
    report = reader.read_folder(tmp_path / "papers")
    assert report.relevant == ["dilated", "gated"] and report.irrelevant == ["dataset"]
    assert report.added == 3 and len(knowledge) == 3
    assert not provider.queue
    for request in provider.requests:
        assert request.role == tasks.READER and request.architecture is None
        assert request.messages[0].cache
    assert "Dilated convolution layers" in provider.requests[1].fields["abstract"]
    assert "dilation two" in provider.requests[2].messages[-1].content
    top, _ = knowledge.search("sigmoid gate rescale channels", k=1)[0]
    assert top.paper_id == "gated" and top.source == "reader"


def test_reader_with_the_offline_designer(tmp_path, registry, knowledge):
    write_papers(tmp_path / "papers")
    reader = Reader(
        AgentCaller(OfflineDesigner(registry)),
        PromptBook(registry),
        knowledge,
        max_inspirations_per_paper=2,
    )
    report = reader.read_folder(tmp_path / "papers")
    assert sorted(report.relevant) == ["dilated", "gated"]
    assert report.irrelevant == ["dataset"]
    texts = [i.text for i in report.inspirations]
    assert any("sigmoid gate" in t for t in texts) and any(
        "dilated convolution" in t for t in texts
    )
