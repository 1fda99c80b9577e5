"""The NAD judge over real HTTP: its fixed prompt on the wire and the parsing of its verdicts."""

from __future__ import annotations

import pytest
from fake_llm_server import ANTHROPIC, OPENAI, ScriptedReply, anthropic_message, openai_completion

from nader.bench.judge import JUDGE_RUBRIC, JUDGE_TASK, judge_design, parse_verdict
from nader.llm.usage import accounted

ORIGINAL = "##Cell##\n0:input\n1:output\n2:ReLU\n0->2\n2->1\n"
MODIFIED = "##Cell_GELU##\n0:input\n1:output\n2:GELU\n0->2\n2->1\n"


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("VERDICT: YES\nThe ReLU became a GELU.", "yes"),
        ("verdict: no - nothing changed", "no"),
        ("**Verdict:** Yes, implemented.", "yes"),
        ("I think it is fine.", "unparsable"),
        ("VERDICT: YES\nVERDICT: NO", "unparsable"),
        ("The verdict is unclear", "unparsable"),
    ],
)
def test_parse_verdict(answer, verdict):
    assert parse_verdict(answer) == verdict


def test_judge_over_openai_wire_sends_rubric_and_reads_yes(fake_server, make_client):
    fake_server.script(
        ScriptedReply(openai_completion("VERDICT: YES\nGELU replaces ReLU.", model=OPENAI.model))
    )
    llm = accounted(make_client(OPENAI))
    judgement = judge_design(
        llm, suggestion="Replace ReLU with GELU.", original=ORIGINAL, modified=MODIFIED
    )
    assert judgement.verdict == "yes" and judgement.passed is True
    assert judgement.usage and judgement.usage[0].task == JUDGE_TASK
    sent = fake_server.received[0].body
    text = "\n".join(m["content"] for m in sent["messages"])
    assert "Replace ReLU with GELU." in text
    assert JUDGE_RUBRIC.splitlines()[0] in text
    assert "2:GELU" in text and "2:ReLU" in text
    assert sent["temperature"] == 0.0


def test_judge_over_anthropic_wire_reads_no_and_unparsable(fake_server, make_client):
    fake_server.script(
        ScriptedReply(anthropic_message("VERDICT: NO\nNo attention path.", model=ANTHROPIC.model)),
        ScriptedReply(anthropic_message("Looks plausible to me.", model=ANTHROPIC.model)),
    )
    llm = accounted(make_client(ANTHROPIC))
    first = judge_design(llm, suggestion="Add attention.", original=ORIGINAL, modified=MODIFIED)
    second = judge_design(llm, suggestion="Add attention.", original=ORIGINAL, modified=MODIFIED)
    assert (first.verdict, first.passed) == ("no", False)
    assert (second.verdict, second.passed) == ("unparsable", None)
    assert len(fake_server.received) == 2


def test_judge_call_failure_is_error_not_a_pass(fake_server, make_client):
    fake_server.script(ScriptedReply({"error": {"message": "bad"}}, status=400))
    llm = accounted(make_client(OPENAI, max_retries=0))
    judgement = judge_design(llm, suggestion="x", original=ORIGINAL, modified=MODIFIED)
    assert judgement.verdict == "error" and judgement.passed is None
