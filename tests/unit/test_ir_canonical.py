"""The canonical hash is equal exactly when two blocks are isomorphic (networkx VF2 is the oracle)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ir_helpers import (
    IO_KINDS,
    PALETTE,
    SMALL_PALETTE,
    Graph,
    cell,
    chain,
    finish,
    graph_cores,
    graphs,
    isomorphic,
    mutated,
    render,
    renderings,
    twin_pair,
)

from nader.errors import VerifyError
from nader.ir import (
    DedupIndex,
    OperatorRegistry,
    Role,
    canonical_hash,
    default_registry,
    parse_block,
    parse_network,
)
from nader.ir.canonical import LabelledGraph, canonical_hash_of_graph, node_label

REGISTRY = default_registry()
PROPERTY = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def digest(text: str, registry: OperatorRegistry = REGISTRY) -> str:
    return canonical_hash(parse_block(text), registry)


# --------------------------------------------------------------------------- hand-made cases


def test_commuting_inputs_are_unordered_and_others_ordered() -> None:
    add_ab = cell("2:ReLU", "3:BN", "4:Add", "0->2", "0->3", "2,3->4", "4->1")
    add_ba = cell("2:ReLU", "3:BN", "4:Add", "0->2", "0->3", "3,2->4", "4->1")
    cat_ab = add_ab.replace("4:Add", "4:concat(dim=1)")
    cat_ba = add_ba.replace("4:Add", "4:concat(dim=1)")
    assert digest(add_ab) == digest(add_ba)
    assert digest(cat_ab) != digest(cat_ba)


def test_input_order_follows_edge_line_order_not_ids() -> None:
    first = cell("2:ReLU", "3:BN", "4:concat", "0->2", "0->3", "3->4", "2->4", "4->1")
    second = cell("2:ReLU", "3:BN", "4:concat", "0->2", "0->3", "3,2->4", "4->1")
    swapped = cell("2:ReLU", "3:BN", "4:concat", "0->2", "0->3", "2,3->4", "4->1")
    assert digest(first) == digest(second) != digest(swapped)


def test_edge_multiplicity_matters() -> None:
    twice = cell("2:ReLU", "3:Add", "0->2", "2,2->3", "3->1")
    thrice = cell("2:ReLU", "3:Add", "0->2", "2,2,2->3", "3->1")
    mixed = cell("2:ReLU", "3:Add", "0->2", "2,0->3", "3->1")
    assert len({digest(twice), digest(thrice), digest(mixed)}) == 3


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Conv2d(out_channels=C/4,kernel_size=1)", "Conv2d(out_channels=C//4,kernel_size=1)"),
        (
            "Conv2d(out_channels=C,kernel_size=3)",
            "Conv2d(kernel_size=3,out_channels=C,stride=1,bias=True)",
        ),
        ("Conv2d(out_channels=C,kernel_size=3)", "Conv2d(C,3)"),
        ("Conv2d(out_channels=2*C,kernel_size=1)", "Conv2d(out_channels=C*2,kernel_size=1)"),
        ("Conv2d(out_channels=2*C,kernel_size=1)", "Conv2d(out_channels=C+C,kernel_size=1)"),
        ("Conv2d(out_channels=C/16,kernel_size=1)", "Conv2d(out_channels=C/4/4,kernel_size=1)"),
        ("AvgPool2d(kernel_size=2)", "AvgPool2d(kernel_size=2,stride=2)"),
        ("AdaptiveAvgPool2d(1)", "AdaptiveAvgPool2d(output_size=(1,1))"),
        ("BN", "BatchNorm2d"),
        ("ReLU", "relu()"),
        ("DropPath", "DropPath(drop_prob=0.0)"),
    ],
)
def test_equivalent_parameter_spellings_hash_alike(first: str, second: str) -> None:
    assert digest(cell(f"2:{first}", "0->2", "2->1")) == digest(cell(f"2:{second}", "0->2", "2->1"))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Conv2d(out_channels=C,kernel_size=3)", "Conv2d(out_channels=C,kernel_size=1)"),
        ("Conv2d(out_channels=C,kernel_size=3)", "Conv2d(out_channels=C,kernel_size=3,bias=False)"),
        ("Conv2d(out_channels=C/4,kernel_size=1)", "Conv2d(out_channels=C/2,kernel_size=1)"),
        ("AvgPool2d(kernel_size=3,stride=1)", "MaxPool2d(kernel_size=3,stride=1)"),
        ("DropPath(0.1)", "DropPath(0.2)"),
    ],
)
def test_different_parameters_hash_differently(first: str, second: str) -> None:
    assert digest(cell(f"2:{first}", "0->2", "2->1")) != digest(cell(f"2:{second}", "0->2", "2->1"))


def test_labels_are_normalized_operator_and_sorted_parameters() -> None:
    block = parse_block(cell("2:Conv2d(kernel_size=1, out_channels=C/4)", "0->2", "2->1"))
    from nader.ir.structure import Limits, analyze_structure

    structure = analyze_structure(block, REGISTRY, block.role(), Limits())
    assert node_label("Conv2d", structure.params[2]) == (
        "Conv2d(bias=True,dilation=1,groups=1,kernel_size=1,out_channels=C/4,stride=1)"
    )


def _merkle(graph: Graph) -> str:
    """Plain bottom-up hashing (label + children's hashes): what the canonical form must beat."""
    memo: dict[int, str] = {}
    for index in range(len(graph)):
        children = [memo[s] for s in graph.inputs[index]]
        if graph.kinds[index].commutative:
            children.sort()
        memo[index] = hashlib.sha256(repr((graph.kinds[index].key, children)).encode()).hexdigest()
    return memo[len(graph) - 1]


def test_shared_node_and_identical_copies_differ_where_merkle_hashing_fails() -> None:
    # a = ReLU(x) and b = ReLU(x) are identical copies. Sharing Add(a, a), Add(b, b) versus
    # crossing Add(a, b), Add(a, b) have equal Merkle hashes but are not isomorphic.
    relu, add = PALETTE[0], PALETTE[9]
    core = ([IO_KINDS["input"], relu, add, add], [[], [0], [1, 1], [1, 1]])
    shared, crossed = twin_pair(core, 1, [False, False, True, True], [False, True])
    assert _merkle(shared) == _merkle(crossed)
    assert not isomorphic(shared, crossed)
    assert digest(render(shared)) != digest(render(crossed))


def test_highly_symmetric_blocks_hash_quickly_and_consistently() -> None:
    # 12 identical parallel branches: individualisation must prune symmetric choices.
    lines = []
    for branch in range(12):
        a, b = 2 + 2 * branch, 3 + 2 * branch
        lines += [
            f"{a}:Conv2d(out_channels=C,kernel_size=3)",
            f"{b}:BN",
            f"0->{a}",
            f"{a}->{b}",
            f"{b}->99",
        ]
    lines += ["99:Add", "99->1"]
    reordered = list(reversed(lines[:-2])) + lines[-2:]
    assert digest(cell(*lines)) == digest(cell(*reordered))


def test_broken_structure_cannot_be_hashed() -> None:
    with pytest.raises(VerifyError) as info:
        digest(cell("2:Nope", "0->2", "2->1"))
    assert info.value.diagnostics[0].code == "undefined-operator"


def test_hash_is_stable_across_processes_and_versions() -> None:
    # a golden value: changing it breaks every stored run's dedup index, so do it on purpose
    text = cell(
        "2:Conv2d(out_channels=C,kernel_size=3)", "3:BN", "4:Add", "0->2", "2->3", "3,0->4", "4->1"
    )
    assert digest(text) == GOLDEN_RESIDUAL


GOLDEN_RESIDUAL = "1082aa16afbde1726196bd9a16bbb2ec"


# ------------------------------------------------------------------------- property tests


@settings(PROPERTY, max_examples=400)
@given(st.data())
def test_relabelled_and_reordered_renderings_hash_equal(data: st.DataObject) -> None:
    graph = data.draw(graphs())
    first = data.draw(renderings(graph))
    second = data.draw(renderings(graph))
    assert digest(first) == digest(second)


def _related_pairs() -> st.SearchStrategy[tuple[Graph, Graph]]:
    @st.composite
    def pairs(draw: st.DrawFn) -> tuple[Graph, Graph]:
        palette = draw(st.sampled_from([SMALL_PALETTE, PALETTE]))
        two_input = draw(st.booleans())
        core = draw(graph_cores(palette, max_nodes=6, two_input=two_input))
        mode = draw(st.sampled_from(["independent", "mutation", "twins"]))
        if mode == "independent":
            return finish(*core), draw(graphs(palette, max_nodes=6, two_input=two_input))
        if mode == "mutation":
            return finish(*core), draw(mutated(core, palette))
        first_op = 2 if two_input else 1
        node = draw(st.integers(first_op, len(core[0]) - 1))
        choices = st.lists(st.booleans(), min_size=1, max_size=6)
        return twin_pair(core, node, draw(choices), draw(choices))

    return pairs()


@settings(PROPERTY, max_examples=1000)
@given(st.data())
def test_hash_equal_exactly_when_vf2_isomorphic(data: st.DataObject) -> None:
    first, second = data.draw(_related_pairs())
    text_first = data.draw(renderings(first, name="A"))
    text_second = data.draw(renderings(second, name="B"))
    assert (digest(text_first) == digest(text_second)) == isomorphic(first, second)


@settings(PROPERTY, max_examples=200)
@given(st.data())
def test_labelled_graph_hash_is_invariant_under_node_permutation(data: st.DataObject) -> None:
    # the same check one level down, on LabelledGraph directly, with larger graphs
    graph = data.draw(graphs(max_nodes=14))
    labels = tuple(kind.key for kind in graph.kinds)
    commutative = tuple(kind.commutative for kind in graph.kinds)
    permutation = data.draw(st.permutations(range(len(graph))))
    position = {old: new for new, old in enumerate(permutation)}
    permuted = LabelledGraph(
        tuple(labels[old] for old in permutation),
        tuple(tuple(position[s] for s in graph.inputs[old]) for old in permutation),
        tuple(commutative[old] for old in permutation),
    )
    original = LabelledGraph(labels, graph.inputs, commutative)
    assert canonical_hash_of_graph(original) == canonical_hash_of_graph(permuted)


# ----------------------------------------------------------------------------- DedupIndex


@settings(PROPERTY, max_examples=40)
@given(st.data())
def test_dedup_index_finds_isomorphic_blocks_only(data: st.DataObject) -> None:
    stored = data.draw(st.lists(graphs(SMALL_PALETTE, max_nodes=5), min_size=1, max_size=12))
    index = DedupIndex()
    first_of: list[str] = []
    for number, graph in enumerate(stored):
        item = f"arch-{number}"
        earlier = index.add(digest(data.draw(renderings(graph))), item)
        matches = [
            f"arch-{j}" for j, other in enumerate(stored[:number]) if isomorphic(graph, other)
        ]
        assert earlier == (matches[0] if matches else None)
        first_of.append(matches[0] if matches else item)
    probe = data.draw(st.sampled_from(range(len(stored))))
    assert index.lookup(digest(data.draw(renderings(stored[probe])))) == first_of[probe]
    assert len(index) == len(set(first_of))


def test_dedup_index_lookup_of_unknown_digest() -> None:
    index = DedupIndex()
    assert index.lookup("0" * 32) is None
    assert index.add("0" * 32, "a") is None
    assert index.add("0" * 32, "b") == "a"
    assert "0" * 32 in index and "1" * 32 not in index


def test_hash_does_not_depend_on_the_role() -> None:
    # 'dim' is invalid in a single-input cell but the graph is still a graph: its hash is the
    # same whether the block is the first (cell) or second (stem) block of a file
    stem = chain("Conv2d(out_channels=dim,kernel_size=3)", "BN", name="S")
    network = parse_network(chain("ReLU", name="C") + stem)
    assert network.blocks[1].role() is Role.STEM
    assert canonical_hash(network.blocks[1], REGISTRY) == digest(stem)
