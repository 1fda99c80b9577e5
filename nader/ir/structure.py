"""Probe-independent checks of a block: operators, parameters, symbols, wiring, acyclicity.

:func:`analyze_structure` returns a :class:`Structure` (resolved operator per node, bound
parameters, ordered inputs, a topological order) plus every problem found. Shape inference runs
on top of it, once per probe.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from nader.errors import Diagnostic
from nader.ir.expr import SPATIAL_SYMBOLS, SYMBOLS, normalize
from nader.ir.graph import (
    OUTPUT_OP,
    SINGLE_INPUT_OP,
    TWO_INPUT_OPS,
    Block,
    NodeKind,
    Role,
    node_kind,
)
from nader.ir.ops import BoundParams, OperatorSpec, ParamProblem
from nader.ir.registry import OperatorRegistry
from nader.ir.spelling import did_you_mean


@dataclass(frozen=True)
class Limits:
    """Resource bounds checked before anything is built."""

    max_nodes: int = 1_000
    max_edges: int = 5_000
    max_rank: int = 8
    max_channels: int = 1 << 16
    max_tensor_elements: int = 1 << 31
    max_params: int = 1_000_000_000


@dataclass
class Structure:
    block: Block
    role: Role
    two_input: bool
    specs: dict[int, OperatorSpec] = field(default_factory=dict)
    params: dict[int, BoundParams] = field(default_factory=dict)
    inputs: dict[int, tuple[int, ...]] = field(default_factory=dict)
    order: tuple[int, ...] = ()
    input_ids: tuple[int, ...] = ()
    output_id: int | None = None
    lines: dict[int, int] = field(default_factory=dict)
    errors: list[Diagnostic] = field(default_factory=list)
    #: nodes whose own definition is broken; shape inference skips them and their descendants
    broken: set[int] = field(default_factory=set)
    acyclic: bool = False
    #: allow every known symbol whatever the role (graph-only analysis)
    any_symbol: bool = False

    def error(
        self, code: str, message: str, node: int | None = None, line: int | None = None
    ) -> None:
        """Record a problem; without a node line, it points at the block's header line."""
        if line is None and node is not None:
            line = self.lines.get(node)
        if line is None:
            line = self.block.line
        self.errors.append(Diagnostic(code, message, self.block.name, node, line))


def _symbols_allowed(role: Role, two_input: bool) -> frozenset[str]:
    if role is Role.CELL and not two_input:
        return SYMBOLS - {"dim"}
    return SYMBOLS


def _check_symbols(
    structure: Structure,
    node_id: int,
    spec: OperatorSpec,
    bound: BoundParams,
    allowed: frozenset[str],
) -> bool:
    """Report sizes that use symbols the block does not have, or layer sizes that use B/H/W."""
    ok = True
    for (name, value), (_, used_per_item) in zip(bound.sizes, bound.field_symbols, strict=True):
        used = frozenset().union(*used_per_item)
        unknown = sorted(used - allowed)
        if unknown:
            ok = False
            if unknown == ["dim"]:
                structure.error(
                    "unknown-symbol",
                    f"{spec.name} parameter {name!r} uses 'dim', which a cell does not have: a "
                    "cell keeps its input's C channels, so write C (or C*2, C/4, ...)",
                    node_id,
                )
            else:
                structure.error(
                    "unknown-symbol",
                    f"{spec.name} parameter {name!r} uses unknown symbol(s) "
                    f"{', '.join(u + did_you_mean(u, allowed) for u in unknown)}; sizes may use {', '.join(sorted(allowed))}, integers "
                    "and + - * / // ( )",
                    node_id,
                )
        elif spec.layer and used & SPATIAL_SYMBOLS:
            ok = False
            structure.error(
                "spatial-parameter",
                f"{spec.name} parameter {name!r} = {_value_text(value)} uses "
                f"{', '.join(sorted(used & SPATIAL_SYMBOLS))}; layer parameters may not depend on "
                "the batch or image size (only reshape/repeat/permute may)",
                node_id,
            )
    return ok


def _value_text(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ",".join(_value_text(item) for item in value) + ")"
    return str(normalize(value))  # type: ignore[arg-type]


def analyze_structure(
    block: Block,
    registry: OperatorRegistry,
    role: Role | None,
    limits: Limits,
) -> Structure:
    """Resolve operators and parameters, check wiring, and order the nodes topologically.

    ``role=None`` analyses the graph alone, for hashing and printing: the block's own role is
    recorded, but every symbol is allowed (whether ``dim`` makes sense depends on the role the
    block is used in, not on which graph it is).
    """
    structure = Structure(
        block=block,
        role=role or block.role(),
        two_input=block.is_two_input,
        any_symbol=role is None,
    )
    if len(block.nodes) > limits.max_nodes:
        structure.error(
            "resource-limit", f"block has {len(block.nodes)} nodes; the limit is {limits.max_nodes}"
        )
        return structure
    if sum(len(e.sources) for e in block.edges) > limits.max_edges:
        structure.error("resource-limit", f"block has more than {limits.max_edges} edges")
        return structure
    defined = _resolve_nodes(structure, registry)
    _find_boundaries(structure)
    inputs, consumers, wiring_ok = _wire_edges(structure, defined)
    _order_and_reach(structure, defined, inputs, consumers, wiring_ok)
    return structure


def _resolve_nodes(structure: Structure, registry: OperatorRegistry) -> dict[int, int]:
    """Pass 1: ids, operators and parameters of every node; returns node id → its line."""
    block = structure.block
    defined: dict[int, int] = {}
    lines, specs, params, broken = (
        structure.lines,
        structure.specs,
        structure.params,
        structure.broken,
    )
    allowed = (
        SYMBOLS if structure.any_symbol else _symbols_allowed(structure.role, structure.two_input)
    )
    lookup = registry.get
    for node in block.nodes:
        node_id = node.id
        if node_id in defined:
            structure.error(
                "duplicate-node",
                f"node id {node_id} is defined twice (lines {defined[node_id]} and {node.line}); "
                "give every node its own id",
                node_id,
                node.line,
            )
            broken.add(node_id)
            continue
        defined[node_id] = lines[node_id] = node.line
        spec = lookup(node.op)
        if spec is None:
            hint = registry.closest(node.op)
            structure.error(
                "undefined-operator",
                f"{node.op!r} is not an operator"
                + (f" (did you mean {', '.join(hint)}?)" if hint else "")
                + f"; available: {', '.join(registry.names())}",
                node_id,
            )
            broken.add(node_id)
            continue
        specs[node_id] = spec
        try:
            bound = registry.bind(spec, node)
        except ParamProblem as problem:
            structure.error(problem.code, problem.message, node_id)
            broken.add(node_id)
            continue
        params[node_id] = bound
        used = bound.symbols
        suspicious = used and not (used <= allowed and not (spec.layer and used & SPATIAL_SYMBOLS))
        if suspicious and not _check_symbols(structure, node_id, spec, bound, allowed):
            broken.add(node_id)
    return defined


def _find_boundaries(structure: Structure) -> None:
    """Pass 2: the block's input nodes and its output, as its kind (one or two inputs) wants."""
    by_op: dict[str, list[int]] = {}
    for node_id, spec in structure.specs.items():
        by_op.setdefault(spec.name, []).append(node_id)
    singles, firsts, seconds = (
        by_op.get(SINGLE_INPUT_OP, []),
        by_op.get(TWO_INPUT_OPS[0], []),
        by_op.get(TWO_INPUT_OPS[1], []),
    )
    if structure.two_input:
        if singles:
            structure.error(
                "extra-input",
                "a two-input block uses input1 and input2, not input",
                singles[0],
            )
        for name, found in zip(TWO_INPUT_OPS, (firsts, seconds), strict=True):
            if not found:
                structure.error("missing-input", f"a two-input block needs a node N:{name}")
            for extra in found[1:]:
                structure.error("extra-input", f"{name} is defined more than once", extra)
        structure.input_ids = tuple(firsts[:1] + seconds[:1])
    else:
        if not singles:
            structure.error("missing-input", "the block has no input node; add a line N:input")
        for extra in singles[1:]:
            structure.error(
                "extra-input", "the block has several input nodes; keep exactly one", extra
            )
        structure.input_ids = tuple(singles[:1])
    outputs = by_op.get(OUTPUT_OP, [])
    if not outputs:
        structure.error("no-output", "the block has no output node; add a line N:output")
    for extra in outputs[1:]:
        structure.error(
            "multiple-outputs", "the block has several output nodes; keep exactly one", extra
        )
    structure.output_id = outputs[0] if outputs else None


def _wire_edges(
    structure: Structure, defined: dict[int, int]
) -> tuple[dict[int, list[int]], dict[int, list[int]], bool]:
    """Pass 3: every node's inputs (in edge order) and consumers, and the arity of each node;
    returns (inputs, consumers, whether every edge names defined nodes)."""
    block = structure.block
    inputs: dict[int, list[int]] = {node_id: [] for node_id in defined}
    consumers: dict[int, list[int]] = {node_id: [] for node_id in defined}
    wiring_ok = True
    for edge in block.edges:
        target = edge.target
        if target in defined and all(source in defined for source in edge.sources):
            target_inputs = inputs[target]
            for source in edge.sources:
                target_inputs.append(source)
                consumers[source].append(target)
            continue
        wiring_ok = False
        missing = [n for n in (*edge.sources, target) if n not in defined]
        names = ", ".join(str(n) for n in dict.fromkeys(missing))
        structure.error(
            "undefined-node",
            f"edge {','.join(map(str, edge.sources))}->{target} refers to undefined node(s) "
            f"{names}; define them with N:Op lines or fix the edge",
            missing[0],
            edge.line,
        )
    for node_id, spec in structure.specs.items():
        count = len(inputs[node_id])
        kind = node_kind(spec.name)
        if kind is NodeKind.INPUT and count:
            structure.error(
                "input-has-inputs",
                f"{spec.name} node {node_id} is the block's input and cannot receive edges "
                f"(it gets {', '.join(map(str, inputs[node_id]))})",
                node_id,
            )
            structure.broken.add(node_id)
        elif kind is NodeKind.OUTPUT:
            if count != 1:
                structure.error(
                    "output-arity",
                    f"output must have exactly one input but has {count}"
                    + (f" (from {', '.join(map(str, inputs[node_id]))})" if count else "")
                    + "; combine branches with Add or concat first",
                    node_id,
                )
                structure.broken.add(node_id)
        elif count < spec.min_inputs or (spec.max_inputs is not None and count > spec.max_inputs):
            structure.error(
                "arity",
                f"{spec.name} takes {spec.arity_text()} input(s) but node {node_id} has {count}"
                + (f" (from {', '.join(map(str, inputs[node_id]))})" if count else ""),
                node_id,
            )
            structure.broken.add(node_id)
        if kind is NodeKind.OUTPUT and consumers[node_id]:
            structure.error(
                "output-has-consumers",
                f"output node {node_id} feeds {', '.join(map(str, consumers[node_id]))}; nothing "
                "may follow the output",
                node_id,
            )
    structure.inputs = {k: tuple(v) for k, v in inputs.items()}
    return inputs, consumers, wiring_ok


def _order_and_reach(
    structure: Structure,
    defined: dict[int, int],
    inputs: dict[int, list[int]],
    consumers: dict[int, list[int]],
    wiring_ok: bool,
) -> None:
    """Pass 4: acyclicity and a deterministic topological order (ties broken by source
    position), then reachability both ways: from the input, and onto the output."""
    block = structure.block
    order = _stable_topological(block, defined, inputs, consumers)
    if len(order) != len(defined):
        ordered = set(order)
        unique_consumers = {node_id: list(dict.fromkeys(v)) for node_id, v in consumers.items()}
        loop = _one_cycle({n for n in defined if n not in ordered}, inputs, unique_consumers)
        structure.error(
            "cycle",
            f"the edges form a cycle through node(s) {', '.join(map(str, sorted(set(loop))))} "
            f"({'->'.join(map(str, loop))}); a block must be a directed acyclic graph from input "
            "to output",
            min(loop),
        )
        return
    structure.acyclic = wiring_ok
    structure.order = order

    reached = set(structure.input_ids)
    for node_id in order:
        # reached when any input is: a partially fed node's arity/shape errors speak for it
        if node_id not in reached:
            for source in inputs[node_id]:
                if source in reached:
                    reached.add(node_id)
                    break
    feeds_output: set[int] = set()
    if structure.output_id is not None:
        stack = [structure.output_id]
        while stack:
            current = stack.pop()
            if current not in feeds_output:
                feeds_output.add(current)
                stack.extend(inputs[current])
    if len(reached) == len(feeds_output) == len(order) and not structure.errors:
        return  # every node is computed from the input and reaches the output
    for node_id in structure.order:
        spec = structure.specs.get(node_id)
        kind = node_kind(spec.name) if spec is not None else NodeKind.OPERATOR
        if kind is NodeKind.INPUT:
            if (
                node_id in structure.input_ids
                and node_id not in feeds_output
                and structure.output_id is not None
            ):
                structure.error(
                    "unused-node", f"input node {node_id} does not reach the output", node_id
                )
            continue
        if kind is NodeKind.OUTPUT and node_id != structure.output_id:
            continue  # an extra output: reported as such already
        if not inputs[node_id] and not consumers[node_id]:
            structure.error(
                "unused-node",
                f"node {node_id} has no edges; connect it or delete it",
                node_id,
            )
        elif node_id not in reached:
            structure.error(
                "unreachable",
                f"node {node_id} is not reachable from the input; every node must be computed "
                "from the block's input",
                node_id,
            )
        elif node_id not in feeds_output and structure.output_id is not None:
            structure.error(
                "dangling-branch",
                f"the result of node {node_id} never reaches the output (dangling branch); "
                "connect it onwards (e.g. into an Add or concat) or delete it",
                node_id,
            )


def _one_cycle(
    stuck: set[int], inputs: dict[int, list[int]], consumers: dict[int, list[int]]
) -> list[int]:
    """One concrete cycle among the nodes Kahn's algorithm could not order, e.g. ``[2, 3, 2]``.

    ``stuck`` holds the cycles and everything downstream of them. Peeling off nodes without a
    successor inside the set leaves only nodes that lie on or between cycles; from there every
    walk along consumers revisits a node, and the walk from its first visit is a cycle.
    """
    core = set(stuck)
    successors = {n: {m for m in consumers[n] if m in core} for n in core}
    peel = [n for n in core if not successors[n]]
    while peel:
        node = peel.pop()
        core.discard(node)
        for source in set(inputs[node]):
            if source in core and node in successors[source]:
                successors[source].discard(node)
                if not successors[source]:
                    peel.append(source)
    if not core:
        return sorted(stuck)
    path: list[int] = []
    seen: dict[int, int] = {}
    current = min(core)
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        current = min(successors[current])
    return path[seen[current] :] + [current]


def _stable_topological(
    block: Block,
    defined: dict[int, int],
    inputs: dict[int, list[int]],
    consumers: dict[int, list[int]],
) -> tuple[int, ...]:
    """Kahn's algorithm, always taking the ready node written first; shorter than ``defined``
    when the edges have a cycle. Repeated edges count once per occurrence on both sides."""
    written: list[int] = []  # position -> node id
    position: dict[int, int] = {}
    for node in block.nodes:
        if node.id not in position:
            position[node.id] = len(written)
            written.append(node.id)
    indegree = {n: len(inputs[n]) for n in defined}
    heap = [position[n] for n in defined if not indegree[n]]
    heapq.heapify(heap)
    order: list[int] = []
    while heap:
        current = written[heapq.heappop(heap)]
        order.append(current)
        for nxt in consumers[current]:
            indegree[nxt] -= 1
            if not indegree[nxt]:
                heapq.heappush(heap, position[nxt])
    return tuple(order)
