"""Lay a network file out on a skeleton: every block instance at its real C, dim, H and W.

A :class:`NetworkPlan` is the single description of a network that both the cost model
(:mod:`nader.backends.costs`) and the torch builder (:mod:`nader.backends.fx_build`) consume, so the
analytic counts and the built module cannot disagree about what is in the network. Planning runs
the IR's shape inference once per distinct (block, sizes) pair at batch 1, which makes each
instance's cost exact and per sample. No torch here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from nader.backends.presets import DatasetPreset
from nader.backends.skeletons import Skeleton, adapter_text
from nader.errors import BackendError, Diagnostic, ExpressionError, VerifyError
from nader.ir.expr import BinOp, Expr, Neg, evaluate
from nader.ir.graph import Block, Network, Role
from nader.ir.ops import Cost
from nader.ir.parser import parse_block
from nader.ir.registry import OperatorRegistry
from nader.ir.shapes import TensorShape
from nader.ir.structure import Limits, Structure, analyze_structure
from nader.ir.verify import Probe, infer_shapes

#: The network's image input, as a source index.
NETWORK_INPUT = -1


@dataclass(frozen=True)
class BlockInstance:
    """One block placed in the network: which block, at which sizes, fed by which instances."""

    name: str
    kind: str  # "stem" | "cell" | "downsample" | "adapter" | "head"
    block: Block
    structure: Structure = field(repr=False)
    probe: Probe
    sources: tuple[int, ...]
    shapes: Mapping[int, TensorShape] = field(repr=False)
    cost: Cost
    output_shape: tuple[int, ...]

    @property
    def input_shapes(self) -> tuple[tuple[int, ...], ...]:
        return tuple(self.shapes[node_id].dims for node_id in self.structure.input_ids)


@dataclass(frozen=True)
class NetworkPlan:
    """A whole network at one width: instances in execution order, the last one is the head."""

    instances: tuple[BlockInstance, ...]
    skeleton: Skeleton
    dataset: DatasetPreset
    width: int

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        channels, height, width = self.dataset.input_shape
        return (1, channels, height, width)

    @property
    def cost(self) -> Cost:
        total = Cost()
        for instance in self.instances:
            total = total + instance.cost
        return total

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.instances[-1].output_shape

    def __iter__(self) -> Iterator[BlockInstance]:
        return iter(self.instances)


def _structure_error(block: Block, structure: Structure) -> VerifyError:
    return VerifyError(
        structure.errors or [Diagnostic("cycle", "the block is not acyclic", block.name)]
    )


def inexact_divisions(structure: Structure, env: Mapping[str, int]) -> list[str]:
    """Size divisions that drop a remainder at ``env`` (``C/4`` with C = 18), as readable text.

    The width search only accepts widths where every ``/`` in every block divides exactly, which
    is how "widths respect the divisibility a block needs" is decided from the IR alone.
    """
    problems: list[str] = []
    for node_id, bound in structure.params.items():
        for name, value in bound.sizes:
            for expr in value if isinstance(value, tuple) else (value,):
                for numerator, denominator in _divisions(expr):
                    try:
                        top, bottom = evaluate(numerator, env), evaluate(denominator, env)
                    except ExpressionError:
                        continue  # shape inference reports it
                    if bottom and top % bottom:
                        problems.append(
                            f"node {node_id} {name}: {numerator} / {denominator} = {top} / {bottom}"
                            " leaves a remainder"
                        )
    return problems


def _divisions(expr: Expr) -> Iterator[tuple[Expr, Expr]]:
    stack: list[Expr] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, BinOp):
            if item.op == "//":
                yield item.left, item.right
            stack.extend((item.left, item.right))
        elif isinstance(item, Neg):
            stack.append(item.operand)


@dataclass(frozen=True)
class _Placed:
    shapes: Mapping[int, TensorShape]
    cost: Cost
    output: tuple[int, ...]
    inexact: tuple[str, ...]


class NetworkPlanner:
    """Plans one network file on one skeleton and dataset, at any width.

    Structural analysis runs once per block; shape inference once per distinct (block, sizes), so
    planning many widths (the width search) costs little more than planning one.
    """

    def __init__(
        self,
        network: Network,
        registry: OperatorRegistry,
        skeleton: Skeleton,
        dataset: DatasetPreset,
        *,
        limits: Limits | None = None,
        verified: Sequence[Structure] = (),
    ) -> None:
        """:param verified: structures the verifier already made of the network's blocks (a
        design's reports), so they are not analysed again; matched by block identity."""
        self.network = network
        self.registry = registry
        self.skeleton = skeleton
        self.dataset = dataset
        self.limits = limits or Limits()
        self._structures: dict[int, Structure] = {
            id(structure.block): structure
            for structure in verified
            if any(structure.block is block for block in network.blocks)
        }
        #: per (block, sizes): the placement, or the diagnostics of why it failed
        self._placed: dict[tuple[int, Probe], _Placed | tuple[Diagnostic, ...]] = {}
        self._blocks: dict[str, Block] = {}
        for kind, role in (
            ("cell", Role.CELL),
            ("stem", Role.STEM),
            ("downsample", Role.DOWNSAMPLE),
        ):
            block = network.by_role(role)
            if block is None:
                if kind == "downsample" and len(skeleton.depths) == 1:
                    continue
                present = ", ".join(f"{b.name} ({b.role().value})" for b in network.blocks)
                raise BackendError(
                    f"{network.source or 'the network'} has no {kind} block, which skeleton "
                    f"{skeleton.name!r} needs (blocks: {present}); name it ##<Name>_{kind}## "
                    "or put it in position (cell, stem, downsample)"
                )
            self._blocks[kind] = block
        if self._blocks["stem"].is_two_input:
            raise BackendError("a stem block takes the image, so it has one input (N:input)")
        self._head = parse_block(skeleton.head, "<skeleton head>")
        self._adapters: dict[int, Block] = {}

    # ------------------------------------------------------------------------------ internals

    def _structure(self, block: Block, role: Role) -> Structure:
        key = id(block)
        structure = self._structures.get(key)
        if structure is None:
            structure = analyze_structure(block, self.registry, role, self.limits)
            if structure.errors or not structure.acyclic:
                raise _structure_error(block, structure)
            self._structures[key] = structure
        return structure

    def _adapter(self, stride: int) -> Block:
        if stride not in self._adapters:
            self._adapters[stride] = parse_block(adapter_text(stride), "<skeleton adapter>")
        return self._adapters[stride]

    def _place(
        self, block: Block, role: Role, probe: Probe, where: str
    ) -> tuple[Structure, _Placed]:
        structure = self._structure(block, role)
        key = (id(block), probe)
        placed = self._placed.get(key)
        if placed is None:
            result = infer_shapes(structure, probe, self.limits)
            if result.errors or structure.output_id not in result.shapes:
                placed = tuple(
                    [
                        replace(
                            d,
                            message=f"{where} at input C={probe.channels}, dim={probe.dim}, "
                            f"H={probe.height}, W={probe.width}: {d.message}",
                        )
                        for d in result.errors
                    ]
                )
            else:
                assert structure.output_id is not None
                placed = _Placed(
                    result.shapes,
                    result.cost,
                    result.shapes[structure.output_id].dims,
                    tuple(inexact_divisions(structure, probe.env())),
                )
            self._placed[key] = placed
        if isinstance(placed, tuple):
            raise VerifyError(placed)
        return structure, placed

    # --------------------------------------------------------------------------------- public

    def plan(self, width: int, *, exact_divisions: bool = False) -> NetworkPlan:
        """Every block instance at ``width`` (stage ``i`` at ``width * multipliers[i]``).

        :raises VerifyError: a block does not work at its sizes here (a ``groups`` that does not
            divide the channels, an output of the wrong shape, ...), or with ``exact_divisions``
            a size division leaves a remainder. Messages name the instance (``stage2_cell3``).
        """
        if width < 1:
            raise VerifyError([Diagnostic("invalid-width", f"width must be positive, got {width}")])
        builder = _PlanBuilder(self, width, exact_divisions)
        return builder.build()


class _PlanBuilder:
    """Walks the skeleton once for one width, appending instances."""

    def __init__(self, planner: NetworkPlanner, width: int, exact_divisions: bool) -> None:
        self.planner = planner
        self.width = width
        self.exact = exact_divisions
        self.instances: list[BlockInstance] = []
        self.states: list[int] = []  # block outputs (stem, cells, downsamples), in order

    def _output_of(self, index: int) -> tuple[int, ...]:
        if index == NETWORK_INPUT:
            return self.planner_input
        return self.instances[index].output_shape

    @property
    def planner_input(self) -> tuple[int, ...]:
        channels, height, width = self.planner.dataset.input_shape
        return (1, channels, height, width)

    def _add(
        self, name: str, kind: str, block: Block, role: Role, probe: Probe, sources: tuple[int, ...]
    ) -> int:
        structure, placed = self.planner._place(block, role, probe, f"{name} ({block.name})")
        if self.exact and placed.inexact:
            raise VerifyError(
                [
                    Diagnostic(
                        "inexact-division",
                        f"{name} at C={probe.channels}, dim={probe.dim}: {text}",
                        block.name,
                    )
                    for text in placed.inexact
                ]
            )
        self.instances.append(
            BlockInstance(
                name,
                kind,
                block,
                structure,
                probe,
                sources,
                placed.shapes,
                placed.cost,
                placed.output,
            )
        )
        return len(self.instances) - 1

    def _expect(self, index: int, want: tuple[int, ...], what: str) -> None:
        got = self.instances[index].output_shape
        if got != want:
            instance = self.instances[index]
            raise VerifyError(
                [
                    Diagnostic(
                        "output-shape",
                        f"{instance.name}: {what} must output {want} but outputs {got} "
                        f"(input C={instance.probe.channels}, dim={instance.probe.dim}, "
                        f"H={instance.probe.height}, W={instance.probe.width})",
                        instance.block.name,
                    )
                ]
            )

    def _feed(
        self, name: str, kind: str, block: Block, role: Role, dim: int, spatial: tuple[int, int]
    ) -> int:
        """Place a block after the current state, adapting inputs of two-input blocks."""
        height, width = spatial
        if not block.is_two_input:
            source = self.states[-1]
            _, channels, h, w = self._output_of(source)
            probe = Probe(1, channels, h, w, channels if kind == "cell" else dim)
            return self._add(name, kind, block, role, probe, (source,))
        older = self.states[-2] if len(self.states) >= 2 else self.states[-1]
        newer = self.states[-1]
        fed: list[int] = []
        for slot, source in (("in1", older), ("in2", newer)):
            shape = self._output_of(source)
            if shape != (1, dim, height, width):
                _, channels, h, w = shape
                stride = max(round(h / height), 1)
                if (-(-h // stride), -(-w // stride)) != (height, width):
                    raise BackendError(
                        f"{name}: cannot adapt an input of shape {shape} to (1, {dim}, {height}, "
                        f"{width}) with a strided 1x1 convolution"
                    )
                source = self._add(
                    f"{name}_{slot}",
                    "adapter",
                    self.planner._adapter(stride),
                    Role.DOWNSAMPLE,  # any role that has ``dim``: the adapter's output channels
                    Probe(1, channels, h, w, dim),
                    (source,),
                )
            fed.append(source)
        probe = Probe(1, dim, height, width, dim)
        return self._add(name, kind, block, role, probe, tuple(fed))

    def build(self) -> NetworkPlan:
        planner = self.planner
        skeleton = planner.skeleton
        blocks = planner._blocks
        widths = [self.width * m for m in skeleton.multipliers]
        _, channels, height, width = self.planner_input
        scale = skeleton.stem_scale
        stem = self._add(
            "stem",
            "stem",
            blocks["stem"],
            Role.STEM,
            Probe(1, channels, height, width, widths[0]),
            (NETWORK_INPUT,),
        )
        spatial = (-(-height // scale), -(-width // scale))
        self._expect(
            stem,
            (1, widths[0], *spatial),
            f"the stem (skeleton {skeleton.name!r} reduces H and W by {scale})",
        )
        self.states.append(stem)
        for stage, (depth, stage_width) in enumerate(
            zip(skeleton.depths, widths, strict=True), start=1
        ):
            if stage > 1:
                name = f"down{stage - 1}"
                index = self._feed(
                    name, "downsample", blocks["downsample"], Role.DOWNSAMPLE, stage_width, spatial
                )
                spatial = (-(-spatial[0] // 2), -(-spatial[1] // 2))
                self._expect(index, (1, stage_width, *spatial), "a downsample block")
                self.states.append(index)
            for cell in range(1, depth + 1):
                index = self._feed(
                    f"stage{stage}_cell{cell}",
                    "cell",
                    blocks["cell"],
                    Role.CELL,
                    stage_width,
                    spatial,
                )
                self._expect(index, (1, stage_width, *spatial), "a cell")
                self.states.append(index)
        last = self.states[-1]
        _, channels, h, w = self._output_of(last)
        head = self._add(
            "head",
            "head",
            planner._head,
            Role.STEM,  # any role that has ``dim``: here the number of classes
            Probe(1, channels, h, w, planner.dataset.num_classes),
            (last,),
        )
        self._expect(head, (1, planner.dataset.num_classes), "the head")
        return NetworkPlan(tuple(self.instances), skeleton, planner.dataset, self.width)
