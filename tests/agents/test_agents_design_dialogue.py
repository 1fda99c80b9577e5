"""The Modifier/Reflector loop against recorded answers shaped like real model output."""

from __future__ import annotations

import pytest
from agents_helpers import add_outcome, build_team, observe

from nader.agents import tasks
from nader.agents.config import AgentsConfig
from nader.agents.extraction import extract_blocks
from nader.agents.knowledge import Inspiration
from nader.agents.proposer import Proposal
from nader.agents.team import DesignTeam
from nader.agents.tree import ModificationTree
from nader.ir import Role, check_text, parse_network

RESNET = """##ResNetBasicBlock##
0:input
1:output
2:Conv2d(out_channels=C,kernel_size=3,stride=1)
3:BN
4:ReLU
5:Conv2d(out_channels=C,kernel_size=3,stride=1)
6:BN
7:ReLU
8:Add
0->2
2->3
3->4
4->5
5->6
6->8
0->8
8->7
7->1
##ResNetBasicBlock_stem##
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3,stride=1)
3:BN
4:ReLU
0->2
2->3
3->4
4->1
##ResNetBasicBlock_downsample##
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3,stride=2)
3:BN
4:ReLU
5:Conv2d(out_channels=dim,kernel_size=3,stride=1)
6:BN
7:AvgPool2d(kernel_size=2,stride=2)
8:Conv2d(out_channels=dim,kernel_size=1,stride=1)
9:Add
10:ReLU
0->2
2->3
3->4
4->5
5->6
0->7
7->8
8->9
6->9
9->10
10->1
"""

ROI_SUGGESTION = (
    "Pool region features with RoI alignment and use them to gate the residual branch, "
    "so the block emphasises the most informative regions."
)

ROI_GATE_CELL = """```
##ResNetROIGate##
0:input
1:output
2:Conv2d(out_channels=C,kernel_size=3,stride=1)
3:BN
4:ReLU
5:Conv2d(out_channels=C,kernel_size=3,stride=1)
6:BN
7:{pool}
8:Conv2d(out_channels=C,kernel_size=1)
9:Sigmoid
10:Mul
11:Add
12:ReLU
0->2
2->3
3->4
4->5
5->6
6->7
7->8
8->9
6->10
9->10
10->11
0->11
11->12
12->1
```"""

CELL_WITH_ROIALIGN = (
    "To follow the suggestion, I pool the output of the second convolution with an ROIAlign layer "
    "and turn it into a gate for the residual branch.\n\n"
    + ROI_GATE_CELL.format(pool="ROIAlign(output_size=7)")
    + "\n\nThe gate lets the block weight informative regions before the residual addition."
)

CELL_FIXED = (
    "You are right, ROIAlign is not among the available operators. I replace it with adaptive "
    "average pooling, which also summarises the region into a fixed-size descriptor:\n\n"
    + ROI_GATE_CELL.format(pool="AdaptiveAvgPool2d(output_size=1)")
)

STEM_DOWNSAMPLE = """Here are the matching stem and downsample blocks. The downsample gates its main branch the same way.

```
##ResNetROIGate_stem##
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3,stride=1)
3:BN
4:ReLU
0->2
2->3
3->4
4->1

##ResNetROIGate_downsample##
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3,stride=2)
3:BN
4:ReLU
5:Conv2d(out_channels=dim,kernel_size=3,stride=1)
6:BN
7:AdaptiveAvgPool2d(output_size=1)
8:Conv2d(out_channels=dim,kernel_size=1)
9:Sigmoid
10:Mul
11:AvgPool2d(kernel_size=2,stride=2)
12:Conv2d(out_channels=dim,kernel_size=1,stride=1)
13:Add
14:ReLU
0->2
2->3
3->4
4->5
5->6
6->7
7->8
8->9
6->10
9->10
0->11
11->12
12->13
10->13
13->14
14->1
```"""

TIPS_FAILURE = """- Only use operators from the provided list; express region pooling with AdaptiveAvgPool2d instead of ROIAlign.
- When gating features, make the gate (B, C, 1, 1) so Mul broadcasts over H and W."""
TIPS_SUCCESS = (
    "- Gate the downsample's main branch the same way as the cell, sizing layers with dim."
)


def make_team(provider, **options) -> DesignTeam:
    team = build_team(llm=provider, config=AgentsConfig(**options))
    return team


def root_tree() -> ModificationTree:
    tree = ModificationTree()
    tree.add_root(parse_network(RESNET), status="trained", valid_acc=70.0)
    return tree


def proposal(architecture_id: int = 1, text: str = ROI_SUGGESTION) -> Proposal:
    return Proposal(
        0, Inspiration("paper:roi", text, "test"), architecture_id, parse_network(RESNET)
    )


def test_paper_example_undefined_operator_is_fixed_on_the_second_try(scripted, registry):
    provider = scripted(
        [
            (tasks.MODIFY_BLOCK, CELL_WITH_ROIALIGN),
            (tasks.FIX_BLOCK, CELL_FIXED),
            (tasks.WRITE_STEM_DOWNSAMPLE, STEM_DOWNSAMPLE),
            (tasks.REFLECT_FAILURE, TIPS_FAILURE),
            (tasks.REFLECT_FAILURE, TIPS_SUCCESS),
        ]
    )
    team = make_team(provider)
    observe(team, root_tree())
    outcome = team.design(proposal())
    assert not provider.queue

    # the exact verifier message went back to the model
    expected = check_text(
        extract_blocks(CELL_WITH_ROIALIGN, ["x"])[0].text, registry, role=Role.CELL
    )
    (diagnostic,) = expected.blocks[0].errors
    assert (
        diagnostic.code == "undefined-operator"
        and "'ROIAlign' is not an operator" in diagnostic.message
    )
    fix_request = provider.requests[1]
    assert fix_request.task == tasks.FIX_BLOCK
    assert str(diagnostic) in fix_request.messages[-1].content
    assert (
        fix_request.messages[-2].role == "assistant"
        and "ROIAlign" in fix_request.messages[-2].content
    )
    assert fix_request.fields["codes"] == ["undefined-operator"]

    assert outcome.status == "new"
    assert (outcome.cell_tries, outcome.stem_downsample_tries, outcome.tries) == (2, 1, 3)
    assert outcome.errors == (str(diagnostic),)
    assert outcome.cell_name == "ResNetROIGate"
    assert check_text(outcome.network_text or "", registry).valid
    assert [r.role for r in outcome.block_reports] == [Role.CELL, Role.STEM, Role.DOWNSAMPLE]
    assert outcome.hash == outcome.block_reports[0].hash
    # every request is labelled for accounting
    for request in provider.requests:
        assert request.task and request.role and request.fields and request.architecture == "1"
    assert [r.role for r in provider.requests] == ["modifier"] * 3 + ["reflector"] * 2
    assert len(outcome.usage_by_call) == 5 and outcome.usage.input_tokens > 0

    # the records became tips, categorised from the error codes
    stored = team.experience.similar(ROI_SUGGESTION, k=5)  # type: ignore[union-attr]
    by_text = {t.text: t for t in stored}
    roi_tip = by_text[TIPS_FAILURE.splitlines()[0][2:]]
    assert roi_tip.category == "unknown operator" and roi_tip.record == "failure-to-success"
    assert roi_tip.codes == ("undefined-operator",)
    assert outcome.tips_learned[0] == roi_tip.text


def test_tips_reach_the_next_modifier_prompt(scripted):
    provider = scripted(
        [
            (tasks.MODIFY_BLOCK, CELL_WITH_ROIALIGN),
            (tasks.FIX_BLOCK, CELL_FIXED),
            (tasks.WRITE_STEM_DOWNSAMPLE, STEM_DOWNSAMPLE),
            (tasks.REFLECT_FAILURE, TIPS_FAILURE),
            (tasks.REFLECT_FAILURE, TIPS_SUCCESS),
            (tasks.MODIFY_BLOCK, "I cannot improve on this block."),
            (tasks.FIX_BLOCK, "Sorry, still no idea."),
            (tasks.REFLECT_FAILURE, "- Always answer with a block."),
        ]
    )
    team = make_team(provider, max_try=2)
    observe(team, root_tree())
    team.design(proposal())
    outcome = team.design(
        proposal(
            2, "Gate region features with pooled descriptors to emphasise informative regions."
        )
    )
    second_prompt = provider.requests[5].messages[1].content
    assert "Tips from earlier designs:" in second_prompt
    assert "instead of ROIAlign" in second_prompt
    assert outcome.tips_used and len(outcome.tips_used) <= 5
    # an answer without any block is a format error, asked again, then a failure
    assert outcome.status == "failed" and outcome.cell_tries == 2
    assert provider.requests[6].fields["codes"] == ["format"]
    assert "no block found" in provider.requests[6].messages[-1].content


def test_without_immediate_feedback_one_answer_decides(scripted):
    provider = scripted(
        [(tasks.MODIFY_BLOCK, CELL_WITH_ROIALIGN), (tasks.REFLECT_FAILURE, TIPS_FAILURE)]
    )
    team = make_team(provider, immediate_feedback=False)
    observe(team, root_tree())
    outcome = team.design(proposal())
    assert outcome.status == "failed" and outcome.tries == 1
    assert not provider.queue


def test_without_design_experience_no_reflection_and_no_tips(scripted):
    provider = scripted(
        [(tasks.MODIFY_BLOCK, CELL_FIXED), (tasks.WRITE_STEM_DOWNSAMPLE, STEM_DOWNSAMPLE)]
    )
    team = make_team(provider, design_experience=False)
    observe(team, root_tree())
    outcome = team.design(proposal())
    assert outcome.status == "new" and outcome.tips_learned == () and outcome.tips_used == ()
    assert "Tips from earlier designs" not in provider.requests[0].messages[1].content


def test_isomorphic_answer_is_recognised_as_known(scripted, registry):
    renumbered = RESNET.split("##ResNetBasicBlock_stem##")[0].replace(
        "##ResNetBasicBlock##", "##SameBlock##"
    )
    lines = renumbered.strip().splitlines()
    shuffled = "\n".join([lines[0], *reversed(lines[1:10]), *lines[10:]])  # same graph, other order
    answer = f"I add nothing new here:\n```\n{shuffled}\n```"
    provider = scripted(
        [(tasks.MODIFY_BLOCK, answer), (tasks.REFLECT_FAILURE, "- Change the graph.")]
    )
    team = make_team(provider, max_try=1)
    observe(team, root_tree())
    outcome = team.design(proposal())
    assert outcome.status == "duplicate" and outcome.duplicate_of == "0"
    assert outcome.errors[0].startswith("[duplicate] the new cell is isomorphic to architecture 0")

    provider = scripted(
        [
            (tasks.MODIFY_BLOCK, answer),
            (tasks.FIX_BLOCK, CELL_FIXED),
            (tasks.WRITE_STEM_DOWNSAMPLE, STEM_DOWNSAMPLE),
        ]
    )
    team = make_team(provider, design_experience=False)
    tree = root_tree()
    observe(team, tree)
    outcome = team.design(proposal())
    assert outcome.status == "new"
    assert "isomorphic to architecture 0" in provider.requests[1].messages[-1].content
    node = add_outcome(tree, proposal(), outcome)
    assert node.status == "pending" and node.hash == outcome.hash
    # the same design again is now known too
    provider.queue.extend([(tasks.MODIFY_BLOCK, CELL_FIXED)])
    again = make_team(provider, design_experience=False, max_try=1)
    observe(again, tree)
    assert again.design(proposal(2)).duplicate_of == "1"


@pytest.mark.parametrize("fallback", [True, False])
def test_stem_and_downsample_that_never_verify(scripted, registry, fallback):
    wrong = STEM_DOWNSAMPLE.replace(
        "12:Conv2d(out_channels=dim,kernel_size=1,stride=1)",
        "12:Conv2d(out_channels=C*2,kernel_size=1,stride=1)",
    )
    provider = scripted(
        [
            (tasks.MODIFY_BLOCK, CELL_FIXED),
            (tasks.WRITE_STEM_DOWNSAMPLE, wrong),
            (tasks.FIX_BLOCK, wrong),
        ]
    )
    team = make_team(
        provider, max_try=2, design_experience=False, fallback_to_parent_blocks=fallback
    )
    observe(team, root_tree())
    outcome = team.design(proposal())
    assert "another size the block must handle" in provider.requests[2].messages[-1].content
    if fallback:
        assert outcome.status == "new" and outcome.notes
        assert check_text(outcome.network_text or "", registry).valid
        assert "ResNetROIGate_downsample" in (outcome.network_text or "")
    else:
        assert outcome.status == "failed" and outcome.network_text is None


def test_each_modifier_answer_is_parsed_and_analysed_once(scripted, monkeypatch):
    """A design passes IR objects: the Reflector parses and analyses each answer block once,
    and nothing after it (assembly, hashing, text for the run directory, width planning)
    parses or analyses it again."""
    import nader.backends.plan as plan_module
    import nader.ir.canonical as canonical_module
    import nader.ir.parser as parser_module
    import nader.ir.verify as verify_module
    from nader.backends.plan import NetworkPlanner
    from nader.backends.presets import dataset_preset
    from nader.backends.skeletons import skeleton_named
    from nader.ir.structure import analyze_structure

    parsed: list[str] = []
    analysed: list[str] = []
    real_precheck = parser_module._precheck

    def counting_precheck(text, source):  # noqa: ANN001, ANN202
        parsed.append(text)
        return real_precheck(text, source)

    def counting_analysis(block, *args):  # noqa: ANN001, ANN202
        analysed.append(block.name)
        return analyze_structure(block, *args)

    monkeypatch.setattr(parser_module, "_precheck", counting_precheck)
    for module in (verify_module, canonical_module, plan_module):
        monkeypatch.setattr(module, "analyze_structure", counting_analysis)

    provider = scripted(
        [(tasks.MODIFY_BLOCK, CELL_FIXED), (tasks.WRITE_STEM_DOWNSAMPLE, STEM_DOWNSAMPLE)]
    )
    team = make_team(provider, design_experience=False)
    outcome = team.design(proposal())
    assert outcome.status == "new" and outcome.network is not None
    structures = [r.structure for r in outcome.block_reports if r.structure is not None]
    planner = NetworkPlanner(
        outcome.network,
        team.registry,
        skeleton_named("nader"),
        dataset_preset("cifar10"),
        verified=structures,
    )
    planner.plan(16)
    team.close()

    headers = [text.splitlines()[0] for text in parsed]
    names = [b.name for b in outcome.network.blocks]
    assert names == ["ResNetROIGate", "ResNetROIGate_stem", "ResNetROIGate_downsample"]
    assert [headers.count(f"##{name}##") for name in names] == [1, 1, 1], headers
    assert [analysed.count(name) for name in names] == [1, 1, 1]
    # the canonical text for the run directory is the same network, printed without analysis
    assert check_text(outcome.network_text or "", team.registry).valid
