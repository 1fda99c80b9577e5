"""Whole-file checking: parse, pick roles, verify every block with the right probe.

This is what ``nader check`` and the Reflector call. A syntax error becomes a one-block report
with the ``syntax`` code (so callers always get reports, never an exception).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from nader.errors import BlockSyntaxError
from nader.ir.graph import Network, Role
from nader.ir.parser import parse_network
from nader.ir.registry import OperatorRegistry
from nader.ir.structure import Limits
from nader.ir.verify import BlockReport, Probe, default_probe, verify_block


@dataclass(frozen=True)
class FileReport:
    """Reports for every block of one file (or the syntax error that stopped parsing)."""

    file: str | None
    blocks: tuple[BlockReport, ...] = ()
    syntax_error: BlockSyntaxError | None = None
    network: Network | None = field(default=None, repr=False, compare=False)

    @property
    def valid(self) -> bool:
        return self.syntax_error is None and all(block.valid for block in self.blocks)

    def to_dict(self) -> dict[str, Any]:
        blocks = [block.to_dict() for block in self.blocks]
        if self.syntax_error is not None:
            err = self.syntax_error
            blocks.append(
                {
                    "name": err.block,
                    "role": None,
                    "valid": False,
                    "errors": [err.diagnostic.to_dict()],
                    "input_shape": None,
                    "output_shape": None,
                    "hash": None,
                    "params": None,
                    "flops": None,
                    "dim": None,
                    "stem_scale": None,
                    "notes": [],
                }
            )
        return {"file": self.file, "blocks": blocks}


def _probe_for(
    role: Role,
    two_input: bool,
    input_shape: tuple[int, int, int, int] | None,
    dim: int | None,
    image_size: tuple[int, int] | None = None,
) -> Probe | None:
    """The probe asked for; ``None`` (the role's default, at ``image_size`` if given) when
    neither ``input_shape`` nor ``dim`` is."""
    if input_shape is None and dim is None:
        return None
    base = default_probe(role, two_input)
    if image_size is not None:
        base = replace(base, height=image_size[0], width=image_size[1])
    batch, channels, height, width = input_shape or base.input_shape
    if dim is None:
        if two_input or role is Role.CELL:
            dim = channels
        elif role is Role.DOWNSAMPLE:
            dim = 2 * channels
        else:
            dim = base.dim
    return Probe(batch, channels, height, width, dim)


def check_network(
    network: Network,
    registry: OperatorRegistry,
    *,
    role: Role | None = None,
    input_shape: tuple[int, int, int, int] | None = None,
    dim: int | None = None,
    stem_scale: int | None = None,
    limits: Limits | None = None,
    image_size: tuple[int, int] | None = None,
) -> list[BlockReport]:
    """Verify each block; ``role`` forces one role for all blocks (``None`` = from name/position).

    ``image_size`` (H, W): probe at the data's image size (an explicit ``input_shape`` wins)."""
    reports = []
    for block in network.blocks:
        block_role = role or block.role()
        probe = _probe_for(block_role, block.is_two_input, input_shape, dim, image_size)
        reports.append(
            verify_block(
                block,
                registry,
                role=block_role,
                probe=probe,
                stem_scale=stem_scale if block_role is Role.STEM else None,
                limits=limits,
                image_size=image_size,
            )
        )
    return reports


def check_text(
    text: str,
    registry: OperatorRegistry,
    *,
    source: str | None = None,
    role: Role | None = None,
    input_shape: tuple[int, int, int, int] | None = None,
    dim: int | None = None,
    stem_scale: int | None = None,
    limits: Limits | None = None,
    image_size: tuple[int, int] | None = None,
) -> FileReport:
    """Parse and verify text; never raises for bad text."""
    try:
        network = parse_network(text, source)
    except BlockSyntaxError as err:
        return FileReport(file=source, syntax_error=err)
    reports = check_network(
        network,
        registry,
        role=role,
        input_shape=input_shape,
        dim=dim,
        stem_scale=stem_scale,
        limits=limits,
        image_size=image_size,
    )
    return FileReport(file=source, blocks=tuple(reports), network=network)
