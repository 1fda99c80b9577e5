"""The verifier: structure, shapes at probe points, role contract, resources, costs, hash.

This is the Reflector's immediate-feedback tool. :func:`verify_block` never raises for bad
input: it returns a :class:`BlockReport` whose ``errors`` name the block, node id, source line and
an error code, in words an LLM can act on.

Shapes are inferred at a *primary probe* (the one reported) and at an *alternate probe* with other
batch, channel, ``dim`` and image sizes, keeping the primary's aspect ratio (square stays square:
every dataset nader knows is square). A block that only works at one size — a downsample that
writes ``C*2`` where it means ``dim``, a reshape to a fixed size — fails the second one, with a
message that says so. When the primary probe is square, a third probe with H ≠ W finds blocks
that work for square inputs only (``x @ x``, a permute swapping H and W before an Add): they are
valid, for square data, and a note names the node. A non-square primary probe (``nader check
--input-shape`` with H ≠ W, or a dataset with such images) checks non-square use for real.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from nader.errors import ConfigError, Diagnostic, ExpressionError
from nader.ir.expr import normalize
from nader.ir.graph import Block, Role
from nader.ir.ops import Cost, OperatorSpec
from nader.ir.registry import OperatorRegistry
from nader.ir.shapes import ShapeProblem, TensorShape
from nader.ir.structure import Limits, Structure, analyze_structure

#: Largest size a probe may give any of B, C, H, W or dim.
MAX_PROBE_SIZE = 1 << 20


@dataclass(frozen=True)
class Probe:
    """Concrete sizes at which shapes are inferred: the input (B, C, H, W) and ``dim``."""

    batch: int = 2
    channels: int = 64
    height: int = 32
    width: int = 32
    dim: int = 64

    def __post_init__(self) -> None:
        for name, value in zip(
            ("batch", "channels", "height", "width", "dim"), self.key(), strict=True
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 < value <= MAX_PROBE_SIZE
            ):
                raise ConfigError(
                    f"probe {name} must be an integer from 1 to {MAX_PROBE_SIZE}, got {value!r}"
                )

    def env(self) -> dict[str, int]:
        return {
            "B": self.batch,
            "C": self.channels,
            "H": self.height,
            "W": self.width,
            "dim": self.dim,
        }

    def key(self) -> tuple[int, int, int, int, int]:
        """The sizes as a tuple: the memo key of parameters evaluated at this probe."""
        return (self.batch, self.channels, self.height, self.width, self.dim)

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.channels, self.height, self.width)


def default_probe(role: Role, two_input: bool, scale: int = 1) -> Probe:
    """The contract's defaults: a cell gets (2, 64, 32, 32) with dim = C; ``scale`` multiplies C."""
    base = 64 * scale
    if two_input:
        return Probe(channels=base, dim=base)
    if role is Role.STEM:
        return Probe(channels=3, dim=base)
    if role is Role.DOWNSAMPLE:
        return Probe(channels=base, dim=2 * base)
    return Probe(channels=base, dim=base)


def alternate_probe(probe: Probe, role: Role, two_input: bool) -> Probe:
    """Other sizes: batch+1, H and W doubled (the aspect ratio kept), channels doubled, and for
    downsample blocks a dim/C ratio of 3 rather than 2, so that ``C*2`` is told apart from
    ``dim`` (each size capped at :data:`MAX_PROBE_SIZE`)."""
    batch = probe.batch + 1
    height = probe.height * 2
    width = probe.width * 2
    channels, dim = probe.channels * 2, probe.channels * 2
    if role is Role.STEM and not two_input:
        channels, dim = probe.channels, probe.dim * 2
    elif role is Role.DOWNSAMPLE and not two_input:
        dim = probe.channels * 6
    sizes = (min(size, MAX_PROBE_SIZE) for size in (batch, channels, height, width, dim))
    return Probe(*sizes)


@dataclass(frozen=True)
class ShapeResult:
    shapes: dict[int, TensorShape]
    errors: list[Diagnostic]
    cost: Cost
    node_costs: dict[int, Cost]


@dataclass(frozen=True)
class BlockReport:
    """Everything the verifier learned about one block."""

    name: str
    role: Role
    valid: bool
    errors: tuple[Diagnostic, ...]
    probe: Probe
    input_shape: tuple[int, ...] | None = None
    output_shape: tuple[int, ...] | None = None
    hash: str | None = None
    params: int | None = None
    flops: int | None = None
    macs: int | None = None
    stem_scale: int | None = None
    shapes: Mapping[int, TensorShape] = field(default_factory=dict, repr=False)
    notes: tuple[str, ...] = ()
    structure: Structure | None = field(default=None, repr=False, compare=False)
    #: nodes that fail when H ≠ W although the (square) probes pass: valid for square data only
    square_only: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role.value,
            "valid": self.valid,
            "errors": [d.to_dict() for d in self.errors],
            "input_shape": list(self.input_shape) if self.input_shape else None,
            "output_shape": list(self.output_shape) if self.output_shape else None,
            "hash": self.hash,
            "params": self.params,
            "flops": self.flops,
            "dim": self.probe.dim,
            "stem_scale": self.stem_scale,
            "notes": list(self.notes),
            "square_only": list(self.square_only),
        }

    def feedback(self) -> str:
        """The errors as the text the Reflector sends back to the Modifier."""
        return "\n".join(str(d) for d in self.errors)


def _check_output(out: TensorShape, spec: OperatorSpec, limits: Limits) -> None:
    """Bounds on a node's result, checked before anything downstream (or a backend) uses it."""
    dims = out.dims
    if len(dims) > limits.max_rank:
        raise ShapeProblem(
            "resource-limit", f"{len(dims)}-D tensor exceeds the rank limit of {limits.max_rank}"
        )
    elements = 1
    for size in dims:
        if size <= 0:
            raise ShapeProblem(
                "non-positive-size",
                f"{spec.name} produces shape {out}; every size must be a positive integer",
            )
        elements *= size
    if elements > limits.max_tensor_elements:
        raise ShapeProblem(
            "resource-limit",
            f"{spec.name} produces {out} = {elements:,} elements; the limit is "
            f"{limits.max_tensor_elements:,}",
        )
    if spec.layer and len(dims) >= 2 and dims[1] > limits.max_channels:
        raise ShapeProblem(
            "resource-limit",
            f"{spec.name} produces {dims[1]} channels; the limit is {limits.max_channels}",
        )


def infer_shapes(structure: Structure, probe: Probe, limits: Limits) -> ShapeResult:
    """One generic topological pass: each node's shape from its inputs and its operator's rule.

    Rules run through :meth:`BoundParams.apply` (memoized per probe and input shapes); every
    size parameter and every result is bounded before it is used.
    """
    env = probe.env()
    key = probe.key()
    shapes: dict[int, TensorShape] = {}
    errors: list[Diagnostic] = []
    node_costs: dict[int, Cost] = {}
    params = flops = macs = 0
    input_channels = probe.dim if structure.two_input else probe.channels
    start = TensorShape(
        (probe.batch, input_channels, probe.height, probe.width), (False, False, True, True)
    )
    block_name = structure.block.name
    broken = structure.broken
    specs = structure.specs
    bound_params = structure.params
    inputs = structure.inputs
    lines = structure.lines
    for node_id in structure.order:
        if node_id in broken:
            continue
        spec = specs.get(node_id)
        if spec is None:
            continue
        if spec.max_inputs == 0:
            shapes[node_id] = start
            continue
        sources = inputs[node_id]
        in_shapes = [shapes[src] for src in sources if src in shapes]
        if not sources or len(in_shapes) != len(sources):
            continue  # an upstream problem was already reported
        try:
            applied = bound_params[node_id].apply(spec, env, key, in_shapes)
            if spec.layer and applied.largest > limits.max_channels:
                raise ShapeProblem(
                    "resource-limit",
                    f"{spec.name} has a size parameter of {applied.largest:,}; layer sizes are "
                    f"limited to {limits.max_channels:,}",
                )
            out, cost = applied.output, applied.cost
            _check_output(out, spec, limits)
        except ShapeProblem as problem:
            errors.append(
                Diagnostic(problem.code, problem.message, block_name, node_id, lines.get(node_id))
            )
            continue
        except ExpressionError as problem:
            errors.append(
                Diagnostic(
                    "expression-error", str(problem), block_name, node_id, lines.get(node_id)
                )
            )
            continue
        shapes[node_id] = out
        node_costs[node_id] = cost
        params += cost.params
        flops += cost.flops
        macs += cost.macs
        if params > limits.max_params:
            errors.append(
                Diagnostic(
                    "resource-limit",
                    f"the block has more than {limits.max_params:,} parameters",
                    block_name,
                    node_id,
                    lines.get(node_id),
                )
            )
            break
    return ShapeResult(shapes, errors, Cost(params, flops, macs), node_costs)


def _channel_source(
    structure: Structure, shapes: Mapping[int, TensorShape], probe: Probe
) -> str | None:
    """Which parameter decides the output's channels, for "expected dim" messages.

    Walks back from the output along first inputs while the channel count stays the same, to
    the first node with a size parameter that evaluates to it (``Conv2d out_channels=2*C``).
    """
    output_id = structure.output_id
    if output_id is None or output_id not in shapes or shapes[output_id].rank < 2:
        return None
    channels = shapes[output_id].dims[1]
    current: int | None = output_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        seen.add(current)
        bound = structure.params.get(current)
        spec = structure.specs.get(current)
        if bound is not None and spec is not None and bound.sizes:
            try:
                values = bound.evaluate(spec, probe.env(), probe.key()).values
            except (ExpressionError, ShapeProblem):
                return None
            for name, expr in bound.sizes:
                if not isinstance(expr, tuple) and values.get(name) == channels:
                    return f"node {current} ({spec.name} {name}={normalize(expr)})"
        sources = structure.inputs.get(current, ())
        current = sources[0] if sources else None
        if current is None or current not in shapes:
            return None
        shape = shapes[current]
        if shape.rank < 2 or shape.dims[1] != channels:
            return None
    return None


def _role_errors(
    structure: Structure, probe: Probe, shapes: Mapping[int, TensorShape], stem_scale: int | None
) -> tuple[list[Diagnostic], int | None]:
    """Compare the output shape with what the block's role requires."""
    output_id = structure.output_id
    if output_id is None or output_id not in shapes:
        return [], None
    got = shapes[output_id].dims
    b, c, h, w, dim = probe.batch, probe.channels, probe.height, probe.width, probe.dim
    role = structure.role
    line = structure.lines.get(output_id)
    name = structure.block.name

    def fail(
        expected: str, want_channels: int | None = None, channel_word: str = ""
    ) -> list[Diagnostic]:
        message = (
            f"a {'two-input ' if structure.two_input else ''}{role.value} block must output "
            f"{expected} but this one outputs {shapes[output_id]}"
        )
        if want_channels is not None and len(got) >= 2 and got[1] != want_channels:
            source = _channel_source(structure, shapes, probe)
            if source is not None:
                message += (
                    f"; its {got[1]} output channels come from {source}, but they must follow "
                    f"{channel_word}, so write {channel_word} there"
                )
        return [Diagnostic("output-shape", message, name, output_id, line)]

    if role is Role.CELL:
        if structure.two_input:
            want = (b, dim, h, w)
            return ([] if got == want else fail(f"(B, dim, H, W) = {want}", dim, "dim")), None
        want = (b, c, h, w)
        return (
            [] if got == want else fail(f"(B, C, H, W), the input's shape, = {want}", c, "C")
        ), None
    if role is Role.DOWNSAMPLE:
        want = (b, dim, -(-h // 2), -(-w // 2))
        return ([] if got == want else fail(f"(B, dim, H/2, W/2) = {want}", dim, "dim")), None
    # stem
    if len(got) != 4 or got[0] != b or got[1] != dim:
        return fail(f"(B, dim, H/s, W/s) with dim = {dim}", dim, "dim"), None
    oh, ow = got[2], got[3]
    if h % oh or w % ow or h // oh != w // ow:
        return fail(f"(B, dim, H/s, W/s) for one integer reduction s (input {h}x{w})"), None
    scale = h // oh
    if stem_scale is not None and scale != stem_scale:
        return fail(
            f"(B, dim, H/{stem_scale}, W/{stem_scale}) (stem scale {stem_scale}); it reduces by {scale}"
        ), scale
    return [], scale


def _shape_pass(
    structure: Structure, probe: Probe, limits: Limits, stem_scale: int | None
) -> tuple[ShapeResult, list[Diagnostic], int | None]:
    result = infer_shapes(structure, probe, limits)
    role_errors, scale = _role_errors(structure, probe, result.shapes, stem_scale)
    return result, result.errors + role_errors, scale


_WIDTH_CODES = frozenset({"groups-divisibility"})


def _other_sizes(
    structure: Structure, chosen: Probe, role: Role, limits: Limits, stem_scale: int | None
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Errors at the alternate probe; then, if there are none and the probe is square, the
    errors when only W changes (× 1.5): what works for square inputs only."""
    scale = stem_scale if role is Role.STEM else None
    alt = alternate_probe(chosen, role, structure.two_input)
    _, alt_errors, _ = _shape_pass(structure, alt, limits, scale)
    prefix = f"with input {alt.input_shape} and dim={alt.dim} (another size the block must handle)"
    errors = [replace(e, message=f"{prefix}: {e.message}") for e in alt_errors]
    if errors or chosen.height != chosen.width:
        return errors, []
    wide = replace(chosen, width=min(chosen.width + max(chosen.width // 2, 1), MAX_PROBE_SIZE))
    _, wide_errors, _ = _shape_pass(structure, wide, limits, scale)
    return [], [
        replace(e, message=f"with input {wide.input_shape}: {e.message}") for e in wide_errors
    ]


def verify_block(
    block: Block,
    registry: OperatorRegistry,
    *,
    role: Role | None = None,
    probe: Probe | None = None,
    stem_scale: int | None = None,
    limits: Limits | None = None,
    with_hash: bool = True,
    image_size: tuple[int, int] | None = None,
) -> BlockReport:
    """Check one block completely and report shapes, costs and the canonical hash.

    ``probe=None`` uses the role's default probe; if the block then fails only because a
    ``groups`` does not divide the channels at C=64, the probe's channels are raised to the
    smallest multiple of 64 (up to 16×) that works, and a note says so — the width search applies
    the same divisibility. An explicit probe is used as given. ``image_size`` (H, W) sets the
    default probes' height and width (the data's images).
    """
    limits = limits or Limits()
    role = role or block.role()
    structure = analyze_structure(block, registry, role, limits)

    def default(multiple: int = 1) -> Probe:
        base = default_probe(role, structure.two_input, multiple)
        return (
            base if image_size is None else replace(base, height=image_size[0], width=image_size[1])
        )

    chosen = probe or default()
    errors: list[Diagnostic] = list(structure.errors)
    notes: list[str] = []
    square_only: list[Diagnostic] = []
    result: ShapeResult | None = None
    scale: int | None = None
    if structure.acyclic and structure.order:
        result, shape_errors, scale = _shape_pass(structure, chosen, limits, stem_scale)
        if probe is None and shape_errors and all(e.code in _WIDTH_CODES for e in shape_errors):
            for multiple in range(2, 17):
                candidate = default(multiple)
                trial, trial_errors, trial_scale = _shape_pass(
                    structure, candidate, limits, stem_scale
                )
                if not trial_errors:
                    notes.append(
                        f"probe channels raised to {candidate.channels}: "
                        + "; ".join(e.message for e in shape_errors[:1])
                        + f" at {chosen.channels} (widths must respect this divisibility)"
                    )
                    chosen, result, shape_errors, scale = (
                        candidate,
                        trial,
                        trial_errors,
                        trial_scale,
                    )
                    break
        errors.extend(shape_errors)
        if not shape_errors and not structure.errors:
            seen = {(e.node, e.code) for e in errors}
            other, square_only = _other_sizes(structure, chosen, role, limits, stem_scale)
            errors += [
                e for e in other if e.code not in _WIDTH_CODES and (e.node, e.code) not in seen
            ]
            square_only = [e for e in square_only if e.code not in _WIDTH_CODES]
            notes += [f"works for square inputs only (H = W): {d}" for d in square_only]
    valid = not errors
    output_shape = None
    if result is not None and structure.output_id in result.shapes:
        output_shape = result.shapes[structure.output_id].dims  # type: ignore[index]
    digest = None
    if with_hash and structure.acyclic and not structure.errors:
        from nader.ir.canonical import canonical_hash_of_structure

        digest = canonical_hash_of_structure(structure)
    params = flops = macs = None
    if valid and result is not None:
        batch = chosen.batch
        params = result.cost.params
        flops = result.cost.flops // batch
        macs = result.cost.macs // batch
    input_shape: tuple[int, ...] = chosen.input_shape
    if structure.two_input:
        input_shape = (chosen.batch, chosen.dim, chosen.height, chosen.width)
    return BlockReport(
        name=block.name,
        role=role,
        valid=valid,
        errors=tuple(errors),
        probe=chosen,
        input_shape=input_shape,
        output_shape=output_shape,
        hash=digest,
        params=params,
        flops=flops,
        macs=macs,
        stem_scale=scale,
        shapes=result.shapes if result is not None else {},
        notes=tuple(notes),
        structure=structure,
        square_only=tuple(sorted({d.node for d in square_only if d.node is not None})),
    )
