"""The NAS-Bench-201 cell space as the NAS baselines see it: uniform sampling, one-edge mutation,
and the regularized-evolution tournament (Real et al. 2019, as NAS-Bench-201 runs it).

Pure functions over arch strings and a seeded :class:`random.Random`, so the baselines'
behaviour is testable without training anything.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TypeVar

from nader.backends.nb201 import NB201_OPERATIONS, Genotype, format_arch, parse_arch

#: edges of the cell in NAS-Bench-201's order: (node j index 0..2, edge index within node j)
EDGES: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2))

T = TypeVar("T")


def sample_arch(rng: random.Random) -> str:
    """A uniform draw from the 5**6 = 15,625 arch strings (each edge's op independently)."""
    ops = [rng.choice(NB201_OPERATIONS) for _ in EDGES]
    return format_arch(
        (((ops[0], 0),), ((ops[1], 0), (ops[2], 1)), ((ops[3], 0), (ops[4], 1), (ops[5], 2)))
    )


def mutate_arch(arch: str, rng: random.Random) -> str:
    """REA's mutation: one edge, chosen uniformly, gets a different operation, chosen uniformly
    among the other four."""
    genotype = parse_arch(arch)
    node, edge = rng.choice(EDGES)
    current, source = genotype[node][edge]
    new_op = rng.choice([op for op in NB201_OPERATIONS if op != current])
    nodes = [list(n) for n in genotype]
    nodes[node][edge] = (new_op, source)
    mutated: Genotype = tuple(tuple(n) for n in nodes)
    return format_arch(mutated)


def tournament(
    population: Sequence[T], sample_size: int, fitness: Callable[[T], float], rng: random.Random
) -> T:
    """The fittest of ``sample_size`` members drawn uniformly without replacement (all of them
    when the population is smaller); ties go to the younger member (later in the sequence)."""
    if not population:
        raise ValueError("tournament over an empty population")
    size = min(sample_size, len(population))
    indices = rng.sample(range(len(population)), size)
    best = max(indices, key=lambda i: (fitness(population[i]), i))
    return population[best]


def edge_distance(first: str, second: str) -> int:
    """How many of the 6 edges carry different operations."""
    a, b = parse_arch(first), parse_arch(second)
    return sum(a[n][e][0] != b[n][e][0] for n, e in EDGES)
