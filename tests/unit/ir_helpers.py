"""Shared helpers of the IR tests: corpus paths, block-text builders, and random graphs.

The random graphs are the oracle side of the canonical-hash property tests: a :class:`Graph` is
built here (not parsed), rendered to block text in many equivalent ways (ids, line order, edge
grouping, parameter spellings, comments), and turned into a networkx graph whose isomorphism
(VF2) is the ground truth the hash must agree with.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import networkx as nx
from corpus_paths import REPO as REPO_ROOT
from corpus_paths import blocks_dir
from hypothesis import strategies as st
from networkx.algorithms.isomorphism import DiGraphMatcher

__all__ = ["REPO_ROOT", "blocks_dir"]


# ------------------------------------------------------------------------------ text builders


def cell(*lines: str, name: str = "Cell", inputs: str = "0:input") -> str:
    """Block text from node/edge lines: ``cell("2:ReLU", "0->2", "2->1")`` (input 0, output 1)."""
    return "\n".join([f"##{name}##", inputs, "1:output", *lines]) + "\n"


def chain(*ops: str, name: str = "Cell") -> str:
    """A straight chain ``input -> ops... -> output``; the ops get ids 2, 3, ..."""
    ids = list(range(2, 2 + len(ops)))
    lines = [f"{i}:{op}" for i, op in zip(ids, ops, strict=True)]
    previous = 0
    for i in ids:
        lines.append(f"{previous}->{i}")
        previous = i
    lines.append(f"{previous}->1")
    return cell(*lines, name=name)


# ----------------------------------------------------------------------------- random graphs


@dataclass(frozen=True)
class OpKind:
    """An operator with its semantic identity (``key``) and equivalent ways to write it."""

    key: str
    spellings: tuple[str, ...]
    min_inputs: int = 1
    max_inputs: int = 1
    commutative: bool = False


PALETTE: tuple[OpKind, ...] = (
    OpKind("relu", ("ReLU", "ReLU()", "relu")),
    OpKind("sigmoid", ("Sigmoid", "Sigmoid()")),
    OpKind("bn", ("BN", "BatchNorm2d", "BN()")),
    OpKind(
        "conv3",
        (
            "Conv2d(out_channels=C,kernel_size=3)",
            "Conv2d(kernel_size=3, out_channels=C, stride=1)",
            "Conv2d(C,3)",
            "Conv2d(C, 3, 1)",
            "Conv2d(out_channels=C*1,kernel_size=3,bias=True,groups=1,dilation=1)",
        ),
    ),
    OpKind(
        "conv1q",
        (
            "Conv2d(out_channels=C/4,kernel_size=1)",
            "Conv2d(out_channels=C//4,kernel_size=1)",
            "Conv2d(C//4,1)",
            "Conv2d(kernel_size=1,out_channels=(C)/4)",
            "Conv2d(out_channels=C/2/2,kernel_size=1)",
        ),
    ),
    OpKind(
        "conv1d",
        (
            "Conv2d(out_channels=2*C,kernel_size=1,bias=False)",
            "Conv2d(out_channels=C*2,kernel_size=1,bias=false)",
            "Conv2d(out_channels=C+C,kernel_size=1,bias=0)",
        ),
    ),
    OpKind(
        "avgpool",
        (
            "AvgPool2d(kernel_size=3,stride=1)",
            "AvgPool2d(3,1)",
            "AvgPool2d(stride=1,kernel_size=3)",
        ),
    ),
    OpKind(
        "gap",
        (
            "AdaptiveAvgPool2d(1)",
            "AdaptiveAvgPool2d(output_size=1)",
            "AdaptiveAvgPool2d(output_size=(1,1))",
        ),
    ),
    OpKind("drop", ("DropPath(0.1)", "DropPath(drop_prob=0.1)", "DropPath(drop_prob=1e-1)")),
    OpKind("add", ("Add", "Add()", "add"), 2, 3, True),
    OpKind("mul", ("Mul", "Mul()"), 2, 3, True),
    OpKind("concat", ("concat(dim=1)", "concat(1)", "concat", "Concat(dim=1)"), 2, 3),
    OpKind("matmul", ("multiply", "multiply()"), 2, 2),
)

#: A small palette, so that independently drawn graphs are often isomorphic.
SMALL_PALETTE: tuple[OpKind, ...] = (PALETTE[0], PALETTE[9], PALETTE[11])

IO_KINDS = {name: OpKind(name, (name,), 0, 0) for name in ("input", "input1", "input2")}
_OUTPUT = OpKind("output", ("output",))
_COLLECT = PALETTE[9]  # Add, joins every sink so that nothing dangles


@dataclass(frozen=True)
class Graph:
    """A block as plain data: node ``i`` has ``kinds[i]`` and ordered ``inputs[i]``."""

    kinds: tuple[OpKind, ...]
    inputs: tuple[tuple[int, ...], ...]

    def __len__(self) -> int:
        return len(self.kinds)


def _input_kinds(two_input: bool) -> list[OpKind]:
    return [IO_KINDS["input1"], IO_KINDS["input2"]] if two_input else [IO_KINDS["input"]]


def finish(core_kinds: list[OpKind], core_inputs: list[list[int]]) -> Graph:
    """Make a core (inputs first, nodes in topological order) a valid block: every sink is
    joined by one Add, which feeds the output."""
    consumed = {source for sources in core_inputs for source in sources}
    sinks = [i for i in range(len(core_kinds)) if i not in consumed]
    kinds = list(core_kinds)
    inputs = [tuple(sources) for sources in core_inputs]
    if len(sinks) > 1:
        kinds.append(_COLLECT)
        inputs.append(tuple(sinks))
        sinks = [len(kinds) - 1]
    kinds.append(_OUTPUT)
    inputs.append((sinks[0],))
    return Graph(tuple(kinds), tuple(inputs))


@st.composite
def graph_cores(
    draw: st.DrawFn,
    palette: tuple[OpKind, ...] = PALETTE,
    max_nodes: int = 8,
    two_input: bool | None = None,
) -> tuple[list[OpKind], list[list[int]]]:
    """Input node(s) followed by random operator nodes, each fed by earlier nodes."""
    if two_input is None:
        two_input = draw(st.booleans())
    kinds = _input_kinds(two_input)
    inputs: list[list[int]] = [[] for _ in kinds]
    for _ in range(draw(st.integers(1, max_nodes))):
        kind = draw(st.sampled_from(palette))
        arity = draw(st.integers(kind.min_inputs, kind.max_inputs))
        sources = [draw(st.integers(0, len(kinds) - 1)) for _ in range(arity)]
        kinds.append(kind)
        inputs.append(sources)
    return kinds, inputs


@st.composite
def graphs(
    draw: st.DrawFn,
    palette: tuple[OpKind, ...] = PALETTE,
    max_nodes: int = 8,
    two_input: bool | None = None,
) -> Graph:
    kinds, inputs = draw(graph_cores(palette, max_nodes, two_input))
    return finish(kinds, inputs)


def render_randomly(graph: Graph, rng: random.Random, name: str = "Cell") -> str:
    """Block text of ``graph`` with ids, line order, edge grouping, commuting input order,
    parameter spellings, whitespace and comments all chosen by ``rng``."""
    n = len(graph)
    ids = rng.sample(range(1000), n)
    order = rng.sample(range(n), n)
    lines = [f"##{name}##"]
    for index in order:
        line = f"{ids[index]}:{rng.choice(graph.kinds[index].spellings)}"
        if rng.random() < 0.1:
            line = "  " + line + "  # a comment"
        lines.append(line)
        if rng.random() < 0.07:
            lines.append(rng.choice(["", "# note", "   "]))
    # edges: per target, its inputs in order (commuting ones shuffled), split into chunks
    queues: dict[int, list[list[int]]] = {}
    for target in range(n):
        sources = list(graph.inputs[target])
        if not sources:
            continue
        if graph.kinds[target].commutative:
            rng.shuffle(sources)
        chunks: list[list[int]] = [[sources[0]]]
        for source in sources[1:]:
            if rng.random() < 0.5:
                chunks[-1].append(source)
            else:
                chunks.append([source])
        queues[target] = chunks
    pending = [target for target in range(n) if target in queues]
    while pending:
        target = rng.choice(pending)
        chunk = queues[target].pop(0)
        if not queues[target]:
            pending.remove(target)
        sources_text = ",".join(str(ids[s]) for s in chunk)
        lines.append(f"{sources_text}{rng.choice(['->', ' -> '])}{ids[target]}")
    return "\n".join(lines) + "\n"


@st.composite
def renderings(draw: st.DrawFn, graph: Graph, name: str = "Cell") -> str:
    """A random rendering of ``graph`` (one draw: the seed, so examples stay cheap)."""
    return render_randomly(graph, random.Random(draw(st.integers(0, 2**32 - 1))), name)


def render(graph: Graph, name: str = "Cell") -> str:
    """Plain block text of ``graph``: node ``i`` has id ``i``, first spellings, edges in order."""
    lines = [f"##{name}##"]
    lines += [f"{i}:{kind.spellings[0]}" for i, kind in enumerate(graph.kinds)]
    for target, sources in enumerate(graph.inputs):
        lines += [f"{source}->{target}" for source in sources]
    return "\n".join(lines) + "\n"


def to_networkx(graph: Graph) -> nx.DiGraph:
    """The oracle's view: labels are operator keys; an edge carries, for a commuting target,
    how many times the source feeds it, and otherwise the input positions it fills (so
    ``Add(x, x)`` and ``concat(x, y)`` vs ``concat(y, x)`` are told apart)."""
    result = nx.DiGraph()
    for index, kind in enumerate(graph.kinds):
        result.add_node(index, label=kind.key)
    for target, sources in enumerate(graph.inputs):
        for source in set(sources):
            if graph.kinds[target].commutative:
                attribute: tuple[object, ...] = ("count", sources.count(source))
            else:
                attribute = ("positions", tuple(i for i, s in enumerate(sources) if s == source))
            result.add_edge(source, target, slot=attribute)
    return result


def isomorphic(first: Graph, second: Graph) -> bool:
    """Ground truth: VF2 with label and edge-slot matching."""
    a, b = to_networkx(first), to_networkx(second)
    if a.number_of_nodes() != b.number_of_nodes() or a.number_of_edges() != b.number_of_edges():
        return False
    matcher = DiGraphMatcher(
        a,
        b,
        node_match=lambda x, y: x["label"] == y["label"],
        edge_match=lambda x, y: x["slot"] == y["slot"],
    )
    return matcher.is_isomorphic()


# ------------------------------------------------------------------------- related graph pairs


def twin_pair(
    core: tuple[list[OpKind], list[list[int]]],
    node: int,
    choices_a: list[bool],
    choices_b: list[bool],
) -> tuple[Graph, Graph]:
    """Two graphs that differ only in which of two identical copies each consumer reads.

    ``node`` gets a twin (same operator, same inputs) right after it. Every input slot that
    read ``node`` reads the original or the twin according to ``choices_a`` / ``choices_b``
    (cycled). Plain Merkle hashing gives such graphs the same digest whenever the copies are
    used the same number of times; only a real canonical form tells sharing from copying.
    """
    kinds, inputs = core
    shift = {i: (i if i <= node else i + 1) for i in range(len(kinds))}
    base_kinds = kinds[: node + 1] + [kinds[node]] + kinds[node + 1 :]
    copied = [[shift[s] for s in sources] for sources in inputs]
    base_inputs = copied[: node + 1] + [list(copied[node])] + copied[node + 1 :]
    twin = node + 1

    def variant(choices: list[bool]) -> Graph:
        new_inputs = [list(sources) for sources in base_inputs]
        slot = 0
        for target in range(twin + 1, len(new_inputs)):
            for position, source in enumerate(new_inputs[target]):
                if source == node:
                    if choices and choices[slot % len(choices)]:
                        new_inputs[target][position] = twin
                    slot += 1
        return finish(list(base_kinds), new_inputs)

    return variant(choices_a), variant(choices_b)


@st.composite
def mutated(
    draw: st.DrawFn, core: tuple[list[OpKind], list[list[int]]], palette: tuple[OpKind, ...]
) -> Graph:
    """``core`` with one small change: an operator, one input, or the order of two inputs."""
    kinds, inputs = [list(core[0]), [list(s) for s in core[1]]]
    first_op = next(i for i, kind in enumerate(kinds) if kind.max_inputs > 0)
    target = draw(st.integers(first_op, len(kinds) - 1))
    change = draw(st.sampled_from(["operator", "input", "swap"]))
    if change == "operator":
        arity = len(inputs[target])
        options = [k for k in palette if k.min_inputs <= arity <= k.max_inputs]
        kinds[target] = draw(st.sampled_from(options))
    elif change == "input":
        position = draw(st.integers(0, len(inputs[target]) - 1))
        inputs[target][position] = draw(st.integers(0, target - 1))
    elif len(inputs[target]) > 1:
        i, j = draw(
            st.lists(st.integers(0, len(inputs[target]) - 1), min_size=2, max_size=2, unique=True)
        )
        inputs[target][i], inputs[target][j] = inputs[target][j], inputs[target][i]
    return finish(kinds, inputs)
