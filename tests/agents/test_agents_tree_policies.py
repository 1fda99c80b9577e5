"""The modification tree (structure, used inspirations) and the selection policies."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nader.agents.policies import POLICIES, NaderPolicy
from nader.agents.tree import ModificationTree
from nader.errors import ConfigError


def build_tree(accs: dict[int, tuple[int | None, float | None]]) -> ModificationTree:
    """Nodes 0..n with (parent, valid_acc); valid_acc None means not trained yet."""
    tree = ModificationTree()
    for node_id in sorted(accs):
        parent, acc = accs[node_id]
        status = "trained" if acc is not None else "pending"
        if parent is None:
            tree.add_root(None, status=status, valid_acc=acc, test_acc=acc)
        else:
            tree.add_child(
                parent,
                None,
                suggestion=f"s{node_id}",
                node_id=node_id,
                status=status,
                valid_acc=acc,
            )
    return tree


def test_tree_keeps_structure_and_used_inspirations():
    loaded = build_tree({0: (None, 70.0), 1: (0, 71.5), 2: (0, None), 3: (1, 69.0)})
    loaded.mark_used(0, "expert:residual")
    loaded.mark_used(0, "expert:residual")
    loaded.update(2, status="failed", notes={"why": "never verified"})
    assert loaded[2].notes == {"why": "never verified"} and loaded[2].status == "failed"
    assert loaded[0].used_inspirations == ["expert:residual"]
    assert [c.id for c in loaded.children(0)] == [1, 2]
    assert loaded[3].depth == 2 and [n.id for n in loaded.path_to(3)] == [0, 1, 3]
    assert loaded.best().id == 1  # type: ignore[union-attr]


def test_tree_rejects_bad_data():
    tree = build_tree({0: (None, 70.0)})
    with pytest.raises(ConfigError):
        tree.update(0, status="finished")
    with pytest.raises(ConfigError):
        tree.update(0, accuracy=1.0)
    with pytest.raises(ConfigError):
        tree.add_child(5, None, suggestion=None)
    with pytest.raises(ConfigError):
        tree.add_child(0, None, suggestion=None, node_id=0)
    with pytest.raises(ConfigError):
        tree.add_root(None)


def select(name: str, tree: ModificationTree, seed: int = 0, **options) -> int:
    return POLICIES[name](**options).select(tree, random.Random(seed))


def test_untrained_root_is_chosen_first():
    tree = build_tree({0: (None, None)})
    assert {select(name, tree) for name in POLICIES} == {0}


def test_simple_policies():
    #        0 (70)
    #      /   \
    #   1 (75)  2 (72)
    #    |
    #   3 (74)
    tree = build_tree({0: (None, 70.0), 1: (0, 75.0), 2: (0, 72.0), 3: (1, 74.0)})
    assert select("greedy", tree) == 1
    assert select("bfs", tree) == 2  # fewest children, then shallowest
    assert select("dfs", tree) == 3
    assert select("greedy", tree, max_children=1) == 3  # 1 is full
    assert {select("random", tree, seed=s) for s in range(40)} == {0, 1, 2, 3}


def test_nader_follows_improvements_and_backtracks():
    # the newest node improved on its parent: go deeper
    tree = build_tree({0: (None, 70.0), 1: (0, 72.0)})
    assert select("nader", tree) == 1
    # the newest node is worse than its parent: back to the parent
    tree = build_tree({0: (None, 70.0), 1: (0, 72.0), 2: (1, 71.0)})
    assert select("nader", tree) == 1
    # the parent is full: further up
    tree = build_tree({0: (None, 70.0), 1: (0, 72.0), 2: (1, 71.0), 3: (1, 70.5), 4: (1, 71.5)})
    assert select("nader", tree) == 0
    # the whole path is full: the emptiest node anywhere, best first
    tree = build_tree({0: (None, 70.0), 1: (0, 69.0), 2: (0, 69.5), 3: (0, 68.0)})
    assert NaderPolicy(max_children=3).select(tree, random.Random(0)) == 2


def test_unknown_options_and_full_trees_are_errors():
    with pytest.raises(ConfigError, match="no options"):
        POLICIES["greedy"](width=3)
    tree = build_tree({0: (None, 70.0), 1: (0, 69.0)})
    with pytest.raises(ConfigError, match="max_children"):
        select("greedy", build_tree({0: (None, 70.0), 1: (0, None)}), max_children=1)
    assert select("greedy", tree, max_children=1) == 1


trees = st.lists(
    st.tuples(st.integers(min_value=0, max_value=50), st.one_of(st.none(), st.floats(50, 90))),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(trees, st.randoms(use_true_random=False), st.integers(0, 1000))
def test_test_accuracy_never_changes_a_choice(spec, shuffler, seed):
    accs: dict[int, tuple[int | None, float | None]] = {0: (None, 70.0)}
    for index, (parent_pick, acc) in enumerate(spec, 1):
        accs[index] = (parent_pick % index, acc)
    tree = build_tree(accs)

    def choices() -> dict[str, object]:
        result: dict[str, object] = {}
        for name in POLICIES:
            try:
                result[name] = select(name, tree, seed, max_children=2)
            except ConfigError as err:  # every node full: the same error either way
                result[name] = str(err)
            result[name + "/unlimited"] = select(name, tree, seed, max_children=None)
        return result

    before = choices()
    for node in tree:
        node.test_acc = shuffler.uniform(0, 100)
    assert choices() == before
    for node in tree:
        node.test_acc = None
    assert choices() == before


def test_nader_lifts_the_width_limit_when_everything_is_full():
    full = build_tree({0: (None, 70.0), 1: (0, 69.0), 2: (1, None)})  # 0 and 1 have a child each
    with pytest.raises(ConfigError, match="max_children"):
        POLICIES["greedy"](max_children=1).select(full, random.Random(0))
    # the newest trained node (1) did not improve: back to its parent, the root
    assert NaderPolicy(max_children=1).select(full, random.Random(0)) == 0


def _stop_early(tree: ModificationTree, node_id: int) -> None:
    """As the session shows a candidate the median rule stopped at epoch 3 (records.tree_fields)."""
    tree.update(node_id, notes={"stopped_early": {"epoch": 3, "rule": "median"}})


def test_a_node_stopped_early_is_never_expanded_nor_the_best_unless_allowed():
    #        0 (70)
    #      /   \
    #   1 (75)  2 (79, stopped early at epoch 3: a partial accuracy)
    tree = build_tree({0: (None, 70.0), 1: (0, 75.0), 2: (0, 79.0)})
    _stop_early(tree, 2)
    assert tree[2].stopped_early and not tree[1].stopped_early
    assert tree.best().id == 1  # type: ignore[union-attr]
    for name in POLICIES:
        for seed in range(10):
            assert select(name, tree, seed) != 2, name
    # the nader policy does not go depth-first from a stopped node: it backtracks to its parent
    assert select("nader", tree) == 0
    # allowed: greedy takes the highest accuracy, partial or not; dfs the newest deepest
    assert select("greedy", tree, expand_stopped_early=True) == 2
    assert select("dfs", tree, expand_stopped_early=True) == 2
    with pytest.raises(ConfigError, match="expand_stopped_early"):
        select("greedy", tree, expand_stopped_early="yes")


def test_when_only_nodes_stopped_early_are_left_they_are_expanded():
    tree = build_tree({0: (None, 70.0), 1: (0, 60.0)})
    _stop_early(tree, 1)
    assert select("greedy", tree, max_children=1) == 1
