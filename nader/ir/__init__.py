"""nader's typed graph IR: parse, verify, hash, print and cost block-format networks.

Standalone: this package imports no torch, no fvcore and no LLM SDK.

    >>> from nader.ir import parse_network, default_registry, verify_block
    >>> net = parse_network("##Cell##\\n0:input\\n1:output\\n2:ReLU\\n0->2\\n2->1\\n")
    >>> verify_block(net.blocks[0], default_registry()).valid
    True
"""

from nader.errors import BlockSyntaxError, Diagnostic, NaderError, VerifyError
from nader.ir.builtin_ops import (
    builtin_operator_specs,
    default_registry,
    register_builtin_operators,
)
from nader.ir.canonical import DedupIndex, canonical_hash
from nader.ir.check import check_network, check_text
from nader.ir.expr import Const, Expr, Sym, evaluate, normalize
from nader.ir.graph import Block, Edge, Network, Node, Role
from nader.ir.ops import Cost, OperatorSpec, OpParams
from nader.ir.parser import parse_block, parse_network
from nader.ir.printer import print_block, print_network
from nader.ir.registry import OperatorRegistry
from nader.ir.shapes import ShapeProblem, TensorShape
from nader.ir.structure import Limits
from nader.ir.verify import BlockReport, Probe, default_probe, verify_block

__all__ = [
    "Block",
    "BlockReport",
    "BlockSyntaxError",
    "Const",
    "Cost",
    "DedupIndex",
    "Diagnostic",
    "Edge",
    "Expr",
    "Limits",
    "NaderError",
    "Network",
    "Node",
    "OpParams",
    "OperatorRegistry",
    "OperatorSpec",
    "Probe",
    "Role",
    "ShapeProblem",
    "Sym",
    "TensorShape",
    "VerifyError",
    "builtin_operator_specs",
    "canonical_hash",
    "check_network",
    "check_text",
    "default_probe",
    "default_registry",
    "evaluate",
    "normalize",
    "parse_block",
    "parse_network",
    "print_block",
    "print_network",
    "register_builtin_operators",
    "verify_block",
]
