"""The NAS baselines' moves in NAS-Bench-201's space: uniform sampling, one-edge mutation, the
REA tournament and its aging population — statistical tests with fixed seeds."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from nader.agents.tree import ModificationTree
from nader.backends.nb201 import NB201_OPERATIONS, all_arch_strings, parse_arch
from nader.bench.nb201_space import edge_distance, mutate_arch, sample_arch, tournament
from nader.bench.strategies import RegularizedEvolutionPolicy

SPACE = 5**6


def test_random_sampling_is_uniform_over_the_15625_arch_strings():
    rng = random.Random(20250601)
    draws = 10 * SPACE
    counts = Counter(sample_arch(rng) for _ in range(draws))
    space = set(all_arch_strings())
    assert len(space) == SPACE
    assert set(counts) <= space  # every draw is a valid arch string of the space
    expected = draws / SPACE
    chi2 = sum((counts.get(a, 0) - expected) ** 2 / expected for a in space)
    dof = SPACE - 1
    # chi-square with 15,624 degrees of freedom: mean dof, std sqrt(2 dof) ~ 177; 5 sigma either
    # side fails a sampler that favours or avoids cells (a bias of a few % is caught)
    assert abs(chi2 - dof) < 5 * (2 * dof) ** 0.5, chi2
    assert len(counts) > 0.999 * SPACE  # P(a cell unseen) = e^-10: ~1 expected


def test_each_edge_of_a_sample_is_uniform_over_the_five_operations():
    rng = random.Random(3)
    per_edge = [Counter() for _ in range(6)]
    for _ in range(20000):
        ops = [op for node in parse_arch(sample_arch(rng)) for op, _ in node]
        for i, op in enumerate(ops):
            per_edge[i][op] += 1
    for counter in per_edge:
        assert set(counter) == set(NB201_OPERATIONS)
        # binomial(20000, 1/5): mean 4000, std ~57; 4.5 sigma over 30 counts rarely trips
        assert all(abs(count - 4000) < 4.5 * 56.6 for count in counter.values()), counter


def test_mutation_changes_exactly_one_edge_to_another_operation_uniformly():
    rng = random.Random(11)
    parent = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
    children = Counter(mutate_arch(parent, rng) for _ in range(24000))
    assert all(edge_distance(parent, child) == 1 for child in children)
    assert len(children) == 6 * 4  # every edge, every other operation: all 24 neighbours
    assert max(children.values()) < 1.15 * 1000 and min(children.values()) > 0.85 * 1000


def test_tournament_picks_the_fittest_of_its_sample():
    population = list(range(10))
    rng = random.Random(0)
    # a sample as large as the population always finds the best
    assert {tournament(population, 10, float, rng) for _ in range(50)} == {9}
    assert tournament(population, 99, float, rng) == 9
    # a sample of one is a uniform draw
    ones = Counter(tournament(population, 1, float, rng) for _ in range(5000))
    assert set(ones) == set(population) and max(ones.values()) < 600
    # sample of 3 out of 10: P(winner = 9) = 3/10, P(winner = 0) = 0
    threes = Counter(tournament(population, 3, float, rng) for _ in range(5000))
    assert 0 not in threes and 1 not in threes
    assert abs(threes[9] / 5000 - 0.3) < 0.03
    # ties go to the younger member
    assert tournament([("old", 1.0), ("young", 1.0)], 2, lambda m: m[1], rng)[0] == "young"
    with pytest.raises(ValueError):
        tournament([], 3, float, rng)


def _tree(accuracies: list[float]) -> ModificationTree:
    tree = ModificationTree()
    root = tree.add_root(None, valid_acc=accuracies[0], status="trained")
    for acc in accuracies[1:]:
        tree.add_child(root.id, None, suggestion="x", valid_acc=acc, status="trained")
    return tree


def test_rea_policy_ages_out_old_members_even_the_best():
    # the oldest node is the best, but a population of 3 holds only the 3 newest
    tree = _tree([0.99, 0.2, 0.5, 0.3])
    policy = RegularizedEvolutionPolicy(population_size=3, sample_size=3)
    picks = {policy.select(tree, random.Random(seed)) for seed in range(20)}
    assert picks == {2}  # the best of the 3 newest (ids 1..3)
    wide = RegularizedEvolutionPolicy(population_size=10, sample_size=10)
    assert wide.select(tree, random.Random(0)) == 0
