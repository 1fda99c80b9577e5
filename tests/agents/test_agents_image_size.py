"""The Reflector probes blocks at the run's image shape and tells the model about unread lines."""

from __future__ import annotations

from agents_helpers import build_team

from nader.agents.extraction import extract_blocks

#: x @ x: correct for square feature maps only
SELF_PRODUCT = "```\n##Gram##\n0:input\n1:output\n2:multiply\n0,0->2\n2->1\n```\n"


def test_square_data_accepts_a_square_only_cell_with_a_note(scripted):
    blocks = extract_blocks(SELF_PRODUCT, ["Cell"])
    feedback = build_team(llm=scripted([]), image_size=16).reflector.check_cell(blocks, "Cell")
    assert feedback.ok, feedback.text
    (report,) = feedback.reports
    assert (report.probe.height, report.probe.width) == (16, 16)
    assert report.square_only == (2,) and "node 2" in report.notes[0]


def test_non_square_data_rejects_it(scripted):
    blocks = extract_blocks(SELF_PRODUCT, ["Cell"])
    team = build_team(llm=scripted([]), image_size=(16, 24))
    feedback = team.reflector.check_cell(blocks, "Cell")
    assert not feedback.ok and feedback.problems[0].code == "shape-mismatch"
    assert feedback.reports == () or feedback.reports[0].probe.width == 24


def test_lines_left_out_by_extraction_are_named_in_the_feedback(scripted):
    answer = "```\n##Gate##\n0:input\n1:output\n2:ReLU  // gate\n0->2\n2->1\n```\n"
    blocks = extract_blocks(answer, ["Cell"])
    feedback = build_team(llm=scripted([])).reflector.check_cell(blocks, "Cell")
    codes = [p.code for p in feedback.problems]
    assert "unread-lines" in codes and codes[0] != "unread-lines"
    assert "'2:ReLU  // gate'" in feedback.text
