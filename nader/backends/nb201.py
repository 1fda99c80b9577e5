"""NAS-Bench-201 architecture strings ↔ network files in the block format (no torch).

An arch string such as ``|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|
nor_conv_1x1~1|none~2|`` names the operation on each of the 6 edges of NAS-Bench-201's cell: node
``j`` (1..3) is the sum over ``i < j`` of ``op_ij(node i)``, node 0 is the cell's input and node 3
its output. The conversion is literal, edge by edge, so that it is exact and reversible:

- ``nor_conv_1x1`` / ``nor_conv_3x3`` → ``ReLU -> Conv2d(C, k, bias=False) -> BN`` (NAS-Bench-201's
  ReLUConvBN);
- ``avg_pool_3x3`` → ``AvgPool2d(kernel_size=3,stride=1)`` (lowered with ``count_include_pad=False``,
  as NAS-Bench-201 does);
- ``skip_connect`` → an ``Identity`` node;
- ``none`` → a ``Zero`` node (zeros shaped like its input, NAS-Bench-201's ``x.mul(0.)``).

Node 2 and node 3 are ``Add`` nodes of their 2 and 3 edge chains. Keeping ``none`` edges as
``Zero`` nodes is how zero is expressed: a cell whose output is all-``none`` is
``Add(Zero(..), Zero(..), Zero(..))`` — a valid block whose output is zero, exactly like
NAS-Bench-201's — and operations that only feed ``none`` edges stay in the network, so parameter
and FLOP counts equal NAS-Bench-201's recorded ones (it counts every operation). The network file
adds NAS-Bench-201's stem (3x3 conv + BN) and its reduction block (a stride-2 ResNet basic block);
compile it with ``--skeleton nb201``.

:func:`cell_to_arch` reverses the conversion for any block with that structure — node ids, node
order and the order of ``Add`` inputs do not matter, so the canonical printer's output converts
back too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from nader.errors import NaderError
from nader.ir.expr import Const, Sym, normalize
from nader.ir.graph import OUTPUT_OP, SINGLE_INPUT_OP, Block, Network, Role
from nader.ir.ops import ParamProblem, bind_params
from nader.ir.registry import OperatorRegistry

#: NAS-Bench-201's operation set, in its own order.
NB201_OPERATIONS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)
NB201_NODES = 3

#: A cell: for node j = 1..3, the (operation, source node) of each incoming edge, sources 0..j-1.
Genotype = tuple[tuple[tuple[str, int], ...], ...]

NB201_STEM = """\
##NB201_stem##
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3,stride=1,bias=False)
3:BN
0->2
2->3
3->1
"""

#: NAS-Bench-201's ResNetBasicblock with stride 2: ReLUConvBN(3x3, s2) -> ReLUConvBN(3x3), and a
#: shortcut AvgPool2d(2, 2) -> 1x1 conv; the sum, with no activation after it.
NB201_DOWNSAMPLE = """\
##NB201_downsample##
0:input
1:output
2:ReLU
3:Conv2d(out_channels=dim,kernel_size=3,stride=2,bias=False)
4:BN
5:ReLU
6:Conv2d(out_channels=dim,kernel_size=3,stride=1,bias=False)
7:BN
8:AvgPool2d(kernel_size=2,stride=2)
9:Conv2d(out_channels=dim,kernel_size=1,stride=1,bias=False)
10:Add
0->2
2->3
3->4
4->5
5->6
6->7
0->8
8->9
9->10
7->10
10->1
"""


class ArchStringError(NaderError, ValueError):
    """Text that is not a NAS-Bench-201 arch string, or a block outside NAS-Bench-201's space."""


def parse_arch(text: str) -> Genotype:
    """``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` → a genotype; strict about every part."""
    parts = text.strip().split("+")
    if len(parts) != NB201_NODES:
        raise ArchStringError(
            f"a NAS-Bench-201 arch string has {NB201_NODES} '+'-separated nodes, got {len(parts)}: {text!r}"
        )
    nodes: list[tuple[tuple[str, int], ...]] = []
    for j, part in enumerate(parts, start=1):
        if not (part.startswith("|") and part.endswith("|")):
            raise ArchStringError(f"node {j} must look like |op~i|...|, got {part!r}")
        edges = part[1:-1].split("|")
        if len(edges) != j:
            raise ArchStringError(
                f"node {j} must have {j} incoming edges, got {len(edges)} in {part!r}"
            )
        decoded: list[tuple[str, int]] = []
        for i, edge in enumerate(edges):
            op, _, source = edge.partition("~")
            if op not in NB201_OPERATIONS:
                raise ArchStringError(
                    f"unknown operation {op!r} in {part!r}; NAS-Bench-201 has {', '.join(NB201_OPERATIONS)}"
                )
            if source != str(i):
                raise ArchStringError(
                    f"edge {edge!r} of node {j} must come from node {i} (write {op}~{i})"
                )
            decoded.append((op, i))
        nodes.append(tuple(decoded))
    return tuple(nodes)


def format_arch(genotype: Genotype) -> str:
    return "+".join("|" + "|".join(f"{op}~{i}" for op, i in node) + "|" for node in genotype)


def all_arch_strings() -> Iterator[str]:
    """All 5**6 = 15,625 cells of the space, in NAS-Bench-201's edge order."""
    for ops in itertools.product(NB201_OPERATIONS, repeat=6):
        yield format_arch(
            (((ops[0], 0),), ((ops[1], 0), (ops[2], 1)), ((ops[3], 0), (ops[4], 1), (ops[5], 2)))
        )


_CHAINS: dict[str, tuple[str, ...]] = {
    "none": ("Zero",),
    "skip_connect": ("Identity",),
    "nor_conv_1x1": ("ReLU", "Conv2d(out_channels=C,kernel_size=1,stride=1,bias=False)", "BN"),
    "nor_conv_3x3": ("ReLU", "Conv2d(out_channels=C,kernel_size=3,stride=1,bias=False)", "BN"),
    "avg_pool_3x3": ("AvgPool2d(kernel_size=3,stride=1)",),
}


def arch_to_cell_text(arch: str, name: str = "NB201Cell") -> str:
    """The cell of ``arch`` as one block (``##name##``)."""
    genotype = parse_arch(arch)
    lines = [f"##{name}##  # NAS-Bench-201 {format_arch(genotype)}", "0:input", "1:output"]
    edges: list[str] = []
    value = {0: 0}  # NAS-Bench-201 node -> block node id
    next_id = 2
    for j, incoming in enumerate(genotype, start=1):
        ends: list[int] = []
        for op, source in incoming:
            previous = value[source]
            for item in _CHAINS[op]:
                lines.append(f"{next_id}:{item}")
                edges.append(f"{previous}->{next_id}")
                previous = next_id
                next_id += 1
            ends.append(previous)
        if len(ends) == 1:
            value[j] = ends[0]
        else:
            lines.append(f"{next_id}:Add")
            edges.extend(f"{end}->{next_id}" for end in ends)
            value[j] = next_id
            next_id += 1
    edges.append(f"{value[NB201_NODES]}->1")
    return "\n".join(lines + edges) + "\n"


def arch_to_network_text(arch: str, name: str = "NB201Cell") -> str:
    """A network file: the cell, NAS-Bench-201's stem and its reduction block."""
    return arch_to_cell_text(arch, name) + NB201_STEM + NB201_DOWNSAMPLE


# ---------------------------------------------------------------------------- block -> arch


class _Reader:
    """Reads a block back into a genotype, checking every node and edge on the way."""

    def __init__(self, block: Block, registry: OperatorRegistry) -> None:
        if block.is_two_input:
            raise ArchStringError("a two-input block is not a NAS-Bench-201 cell")
        self.block = block
        self.registry = registry
        self.nodes = block.node_by_id()
        if len(self.nodes) != len(block.nodes):
            raise ArchStringError("the block defines a node id twice")
        written = block.inputs_of()
        self.inputs = {node_id: written.get(node_id, []) for node_id in self.nodes}
        self.consumers: dict[int, int] = dict.fromkeys(self.nodes, 0)
        for sources in self.inputs.values():
            for source in sources:
                if source not in self.consumers:
                    raise ArchStringError(f"an edge comes from undefined node {source}")
                self.consumers[source] += 1
        self.used: set[int] = set()

    def op(self, node_id: int) -> str:
        node = self.nodes.get(node_id)
        spec = self.registry.get(node.op) if node is not None else None
        if spec is None:
            raise ArchStringError(f"node {node_id} is not a known operator")
        return spec.name

    def params(self, node_id: int) -> dict[str, object]:
        spec = self.registry.get(self.nodes[node_id].op)
        assert spec is not None
        try:
            bound = bind_params(spec, self.nodes[node_id])
        except ParamProblem as err:
            raise ArchStringError(f"node {node_id}: {err.message}") from None
        values: dict[str, object] = dict(bound.others)
        for key, value in bound.sizes:
            values[key] = normalize(value) if not isinstance(value, tuple) else value
        return values

    def only_input(self, node_id: int) -> int:
        sources = self.inputs[node_id]
        if len(sources) != 1:
            raise ArchStringError(f"node {node_id} must have exactly one input, has {len(sources)}")
        self.used.add(node_id)
        return sources[0]

    def chain(self, end: int) -> tuple[str, int]:
        """(operation, NAS-Bench-201 source block node) of the edge chain ending at ``end``."""
        op = self.op(end)
        if op == "Zero":
            return "none", self.only_input(end)
        if op == "Identity":
            return "skip_connect", self.only_input(end)
        if op == "AvgPool2d":
            p = self.params(end)
            if (p["kernel_size"], p["stride"]) != (Const(3), Const(1)):
                raise ArchStringError(
                    f"node {end}: NAS-Bench-201 pools with kernel_size=3, stride=1"
                )
            return "avg_pool_3x3", self.only_input(end)
        if op == "BN":
            conv = self.only_input(end)
            kernel = self._conv_kernel(conv)
            relu = self.only_input(conv)
            if self.op(relu) != "ReLU" or self.consumers[relu] != 1 or self.consumers[conv] != 1:
                raise ArchStringError(
                    f"node {conv}: a NAS-Bench-201 conv is ReLU -> Conv2d -> BN, unshared"
                )
            return f"nor_conv_{kernel}x{kernel}", self.only_input(relu)
        raise ArchStringError(f"node {end} ({op}) does not end a NAS-Bench-201 operation")

    def _conv_kernel(self, node_id: int) -> int:
        if self.op(node_id) != "Conv2d":
            raise ArchStringError(
                f"node {node_id}: BN must follow a Conv2d in a NAS-Bench-201 cell"
            )
        p = self.params(node_id)
        fixed = (p["stride"], p["dilation"], p["groups"], p["bias"])
        if p["out_channels"] != Sym("C") or fixed != (Const(1), Const(1), Const(1), False):
            raise ArchStringError(
                f"node {node_id}: NAS-Bench-201 convs are Conv2d(out_channels=C, stride=1, bias=False)"
            )
        kernel = p["kernel_size"]
        for size in (1, 3):
            if kernel == Const(size):
                return size
        raise ArchStringError(f"node {node_id}: NAS-Bench-201 convs are 1x1 or 3x3")

    def node_sum(self, node_id: int, arity: int) -> list[tuple[str, int]]:
        if self.op(node_id) != "Add" or len(self.inputs[node_id]) != arity:
            raise ArchStringError(f"node {node_id} must be an Add of {arity} edges")
        self.used.add(node_id)
        return [self.chain(term) for term in self.inputs[node_id]]

    def read(self) -> Genotype:
        by_op: dict[str, list[int]] = {}
        for node_id in self.nodes:
            by_op.setdefault(self.op(node_id), []).append(node_id)
        inputs = by_op.get(SINGLE_INPUT_OP, [])
        outputs = by_op.get(OUTPUT_OP, [])
        if len(inputs) != 1 or len(outputs) != 1:
            raise ArchStringError("a NAS-Bench-201 cell has one input and one output node")
        (cell_input,), (cell_output,) = inputs, outputs
        if self.inputs[cell_input]:
            raise ArchStringError("the input node cannot have incoming edges")
        self.used.update((cell_input, cell_output))
        node3 = self.only_input(cell_output)
        terms3 = self.node_sum(node3, 3)
        sources3 = [source for _, source in terms3]
        sums = [s for s in sources3 if s != cell_input and self.op(s) == "Add"]
        if len(set(sources3)) != 3 or cell_input not in sources3 or len(sums) != 1:
            raise ArchStringError("node 3 must sum one edge from each of nodes 0, 1 and 2")
        node2 = sums[0]
        (node1,) = [s for s in sources3 if s not in (cell_input, node2)]
        terms2 = self.node_sum(node2, 2)
        if sorted(s for _, s in terms2) != sorted((cell_input, node1)):
            raise ArchStringError("node 2 must sum one edge from each of nodes 0 and 1")
        op1, source1 = self.chain(node1)
        if source1 != cell_input:
            raise ArchStringError("node 1 must be one operation on the cell's input")
        index = {cell_input: 0, node1: 1, node2: 2}
        leftover = sorted(set(self.nodes) - self.used)
        if leftover:
            raise ArchStringError(
                f"node(s) {', '.join(map(str, leftover))} are not part of a NAS-Bench-201 cell"
            )
        return (
            ((op1, 0),),
            tuple(sorted(((op, index[s]) for op, s in terms2), key=lambda e: e[1])),
            tuple(sorted(((op, index[s]) for op, s in terms3), key=lambda e: e[1])),
        )


def cell_to_arch(block: Block, registry: OperatorRegistry) -> str:
    """The arch string of a cell written as :func:`arch_to_cell_text` writes it (up to node ids,
    node order and ``Add`` input order).

    :raises ArchStringError: the block is not in NAS-Bench-201's space; the message says where.
    """
    return format_arch(_Reader(block, registry).read())


def network_to_arch(network: Network, registry: OperatorRegistry) -> str:
    """The arch string of a network file's cell block."""
    cell = network.by_role(Role.CELL)
    if cell is None:
        raise ArchStringError("the network has no cell block")
    return cell_to_arch(cell, registry)


def main(argv: list[str] | None = None) -> int:
    """``python -m nader.backends.nb201 ARCH`` prints the network file of an arch string;
    ``python -m nader.backends.nb201 --to-arch FILE`` prints the arch string of a network file."""
    import argparse
    import sys
    from pathlib import Path

    from nader.ir.builtin_ops import default_registry
    from nader.ir.parser import parse_network

    parser = argparse.ArgumentParser(
        prog="python -m nader.backends.nb201", description=main.__doc__
    )
    parser.add_argument("arch", nargs="?", help="a NAS-Bench-201 arch string")
    parser.add_argument(
        "--to-arch", metavar="FILE", help="print the arch string of this network file"
    )
    args = parser.parse_args(argv)
    try:
        if args.to_arch:
            text = Path(args.to_arch).read_text(encoding="utf-8")
            print(network_to_arch(parse_network(text, args.to_arch), default_registry()))
        elif args.arch:
            print(arch_to_network_text(args.arch), end="")
        else:
            parser.print_usage(sys.stderr)
            return 2
    except (NaderError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
