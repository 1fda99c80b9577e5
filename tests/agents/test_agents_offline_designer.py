"""The offline designer: verified graph rewrites, chosen to match the inspiration."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

import pytest
from agents_helpers import layers_of, parts_text

from nader.agents import tasks
from nader.agents.extraction import extract_blocks
from nader.agents.offline.designer import OfflineDesigner
from nader.agents.offline.graph_edit import EditableGraph, ShapeContext
from nader.agents.offline.rewrites import REWRITES, REWRITES_BY_NAME
from nader.ir import Role, check_text, parse_network, verify_block
from nader.llm.base import LLMRequest, Message

Delta = tuple[Counter[str], Counter[str]]


def ops(counter: Counter[str]) -> Counter[str]:
    result: Counter[str] = Counter()
    for layer, count in counter.items():
        result[layer.split("(")[0]] += count
    return result


def any_layer(counter: Counter[str], text: str) -> bool:
    return any(text in layer for layer in counter)


#: what each rewrite must add (+) and remove (-), by operator or parameter text
SENSIBLE: dict[str, Callable[[Counter[str], Counter[str]], bool]] = {
    "squeeze_excitation": lambda a, r: (
        ops(a) == Counter({"Conv2d": 2, "AdaptiveAvgPool2d": 1, "ReLU": 1, "Sigmoid": 1, "Mul": 1})
        and not r
    ),
    "channel_gate": lambda a, r: (
        ops(a)["Conv2d"] == 1 and ops(a)["Sigmoid"] == 1 and ops(a)["Mul"] == 1 and not r
    ),
    "cbam_channel_attention": lambda a, r: (
        ops(a)["AdaptiveMaxPool2d"] == 1 and ops(a)["AdaptiveAvgPool2d"] == 1 and not r
    ),
    "spatial_attention": lambda a, r: (
        ops(a) == Counter({"mean": 1, "max": 1, "concat": 1, "Conv2d": 1, "Sigmoid": 1, "Mul": 1})
        and not r
    ),
    "cbam": lambda a, r: ops(a)["Mul"] == 2 and ops(a)["mean"] == 1 and not r,
    "self_attention": lambda a, r: (
        ops(a)["multiply"] == 2 and ops(a)["softmax"] == 1 and ops(a)["Add"] == 1 and not r
    ),
    "residual_connection": lambda a, r: ops(a) == Counter({"Add": 1}) and not r,
    "dense_connection": lambda a, r: ops(a) == Counter({"concat": 1}) and not r,
    "pooling_branch": lambda a, r: ops(a)["AvgPool2d"] + ops(a)["MaxPool2d"] == 1 and not r,
    "stochastic_depth": lambda a, r: ops(a) == Counter({"DropPath": 1}) and not r,
    "bottleneck": lambda a, r: (
        ops(a)["Conv2d"] == 3 and ops(a)["BN"] == 2 and ops(r) == Counter({"Conv2d": 1})
    ),
    "inverted_bottleneck": lambda a, r: (
        any_layer(a, "groups=") and ops(a)["Conv2d"] == 3 and ops(r) == Counter({"Conv2d": 1})
    ),
    "depthwise_separable": lambda a, r: (
        any_layer(a, "groups=C") and ops(a)["Conv2d"] == 2 and ops(r) == Counter({"Conv2d": 1})
    ),
    "grouped_convolution": lambda a, r: (
        any_layer(a, "groups=") and ops(a) == ops(r) == Counter({"Conv2d": 1})
    ),
    "inception_branches": lambda a, r: (
        ops(a)["concat"] == 1 and ops(a)["MaxPool2d"] == 1 and ops(a)["Conv2d"] == 4
    ),
    "mixed_kernel": lambda a, r: ops(a)["concat"] == 1 and any_layer(a, "kernel_size=5"),
    "dilated_convolution": lambda a, r: (
        any_layer(a, "dilation=") and ops(a) == ops(r) == Counter({"Conv2d": 1})
    ),
    "larger_kernel": lambda a, r: (
        (any_layer(a, "kernel_size=5") or any_layer(a, "kernel_size=7"))
        and ops(r) == Counter({"Conv2d": 1})
    ),
    "widen": lambda a, r: (
        (any_layer(a, "out_channels=2*C") or any_layer(a, "out_channels=C*2"))
        and ops(a) == ops(r) == Counter({"Conv2d": 1})
    ),
    "deepen": lambda a, r: ops(a) == Counter({"Conv2d": 1, "BN": 1, "ReLU": 1}) and not r,
    "activation_swap": lambda a, r: set(ops(a)) == {"GELU"} and set(ops(r)) == {"ReLU"},
    "layer_norm": lambda a, r: (
        ops(a) == Counter({"permute": 2, "LN": 1}) and ops(r) == Counter({"BN": 1})
    ),
    "norm_activation_order": lambda a, r: not a and not r,
}


def test_every_rewrite_has_a_sensibility_check():
    assert set(SENSIBLE) == set(REWRITES_BY_NAME)
    assert len(REWRITES) >= 15


def _children(text: str, registry, designer: OfflineDesigner):
    graph = EditableGraph.from_text(text, registry)
    ctx = ShapeContext(graph, registry, Role.CELL)
    for rewrite in REWRITES:
        for site in rewrite.sites(ctx):
            result = rewrite.apply(graph, ctx, site)
            if result is None:
                continue
            verified = designer._verified(result, Role.CELL, f"{graph.name}_{rewrite.tag}")
            if verified is not None:
                yield rewrite.name, verified[0], verified[1]


def test_thirty_distinct_verified_sensible_cells_from_resnet(resnet_network, registry):
    designer = OfflineDesigner(registry)
    parent = parts_text(resnet_network, registry).cell
    parent_hash = verify_block(parse_network(parent).blocks[0], registry, role=Role.CELL).hash
    seen: dict[str, str] = {}
    frontier = [parent]
    while len(seen) < 30 and frontier:  # chain rewrites only if one step were not enough
        next_frontier = []
        for text in frontier:
            before = layers_of(text, registry)
            for name, child, digest in _children(text, registry, designer):
                if digest == parent_hash or digest in seen:
                    continue
                after = layers_of(child, registry)
                added, removed = after - before, before - after
                assert SENSIBLE[name](added, removed), (name, added, removed)
                report = check_text(child, registry, role=Role.CELL)
                assert report.valid and report.blocks[0].hash == digest
                seen[digest] = name
                next_frontier.append(child)
        frontier = next_frontier
    assert len(seen) >= 30
    assert len(set(seen.values())) == len(REWRITES)  # every rewrite contributed


def ask(designer: OfflineDesigner, task: str, **fields) -> str:
    request = LLMRequest(
        task=task,
        messages=(Message("user", "x"),),
        fields=fields,
        role="modifier",
        architecture="1",
    )
    return designer.complete(request).text


@pytest.mark.parametrize(
    ("inspiration", "rewrite"),
    [
        (
            "Recalibrate channel-wise feature responses with squeeze and excitation.",
            "squeeze_excitation",
        ),
        ("Use dilated (atrous) convolutions to capture broader context.", "dilated_convolution"),
        (
            "Replace standard convolutions with depthwise separable ones to cut cost.",
            "depthwise_separable",
        ),
        (
            "Introduce a non-local self-attention branch to model long-range dependencies.",
            "self_attention",
        ),
        (
            "Integrate spatial attention mechanisms to enhance the focus on relevant spatial features.",
            "spatial_attention",
        ),
        ("Add shortcut connections so the block learns a residual mapping.", "residual_connection"),
        (
            "Aggregate multi-scale information with parallel branches of different kernel sizes.",
            "inception_branches",
        ),
    ],
)
def test_the_rewrite_matches_the_inspiration(resnet_network, registry, inspiration, rewrite):
    cell = parts_text(resnet_network, registry).cell
    answer = ask(
        OfflineDesigner(registry), tasks.MODIFY_BLOCK, cell=cell, inspiration=inspiration, attempt=0
    )
    assert answer.startswith(f"# offline designer: {rewrite} ")
    (block,) = extract_blocks(answer, ["x"])
    assert check_text(block.text, registry, role=Role.CELL).valid


def test_answers_are_deterministic_and_attempts_differ(resnet_network, registry, caplog):
    cell = parts_text(resnet_network, registry).cell
    idea = "Make the block more expressive with attention."
    with caplog.at_level(logging.INFO, logger="nader.agents.offline.designer"):
        first = ask(
            OfflineDesigner(registry, seed=3),
            tasks.MODIFY_BLOCK,
            cell=cell,
            inspiration=idea,
            attempt=0,
        )
    assert first == ask(
        OfflineDesigner(registry, seed=3),
        tasks.MODIFY_BLOCK,
        cell=cell,
        inspiration=idea,
        attempt=0,
    )
    assert "# offline designer:" in caplog.text
    answers = [
        ask(
            OfflineDesigner(registry, seed=3),
            tasks.FIX_BLOCK,
            cell=cell,
            inspiration=idea,
            attempt=n,
            stage="cell",
        )
        for n in range(1, 6)
    ]
    hashes = {
        check_text(extract_blocks(a, ["x"])[0].text, registry, role=Role.CELL).blocks[0].hash
        for a in [first, *answers]
    }
    assert len(hashes) == 6


def test_big_and_two_input_cells(official, registry):
    designer = OfflineDesigner(registry)
    for path, role_check in (
        ("nas-bench-201/nasbench201_cifar100_acc76.txt", Role.CELL),
        ("darts/dartsv2.txt", Role.CELL),
        ("blocks-cifar/block_3.txt", Role.CELL),
    ):
        cell = parts_text((official / "blocks" / path).read_text(), registry).cell
        answer = ask(
            designer, tasks.MODIFY_BLOCK, cell=cell, inspiration="channel attention", attempt=0
        )
        (block,) = extract_blocks(answer, ["x"])
        assert check_text(block.text, registry, role=role_check).valid, (path, answer)


def test_stem_and_downsample_follow_the_cell_rewrite(resnet_network, registry):
    parts = parts_text(resnet_network, registry)
    designer = OfflineDesigner(registry)
    cell_answer = ask(
        designer,
        tasks.MODIFY_BLOCK,
        cell=parts.cell,
        inspiration="Replace ReLU with GELU",
        attempt=0,
    )
    assert cell_answer.startswith("# offline designer: activation_swap")
    answer = ask(
        designer,
        tasks.WRITE_STEM_DOWNSAMPLE,
        cell_answer=cell_answer,
        stem=parts.stem,
        downsample=parts.downsample,
        name="Net_GELU",
        attempt=0,
    )
    stem, down = extract_blocks(answer, ["a", "b"])
    assert (stem.name, down.name) == ("Net_GELU_stem", "Net_GELU_downsample")
    assert check_text(stem.text, registry, role=Role.STEM).valid
    assert check_text(down.text, registry, role=Role.DOWNSAMPLE).valid
    assert "GELU" in stem.text and "GELU" in down.text


def test_unknown_task_and_unreadable_cell(registry):
    designer = OfflineDesigner(registry)
    with pytest.raises(Exception, match="does not know task"):
        ask(designer, "write_poem")
    answer = ask(designer, tasks.MODIFY_BLOCK, cell="not a block", inspiration="x", attempt=0)
    assert answer.startswith("# offline designer: cannot read the cell")
    assert extract_blocks(answer, ["x"]) == []
