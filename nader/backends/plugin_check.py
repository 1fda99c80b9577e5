"""``nader plugins --check``: every plugin operator's lowering against its shape rule, up front.

A network that uses a plugin's operator checks that operator's lowering when it is built
(:func:`nader.backends.fx_build._lower_node`). A plugin author wants the answer before any
network: for each operator a plugin registered with a lowering, this builds the smallest network
that uses it — its ``example`` node (or its bare name) between a cell's input and output, fed by
as many ReLU branches as the operator takes inputs — on NAS-Bench-201's one-cell-per-stage
skeleton at CIFAR size, which lowers every node and runs each plugin node once on a probe. An
operator whose example does not fit in a cell (it changes the cell's shape, or needs arguments
it does not show) is reported as not probed, with the verifier's reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from nader.backends.fx_build import build_network
from nader.backends.lowering import Lowering
from nader.backends.plan import NetworkPlan, NetworkPlanner
from nader.backends.presets import dataset_preset
from nader.backends.skeletons import skeleton_named
from nader.errors import BackendError, NaderError
from nader.ir.ops import BUILTIN_SOURCE, OperatorSpec
from nader.ir.parser import parse_network
from nader.ir.registry import OperatorRegistry

#: width of the probe network (stage widths 8, 16, 32)
PROBE_WIDTH = 8
ProbeStatus = Literal["ok", "mismatch", "not probed"]


@dataclass(frozen=True)
class LoweringProbe:
    """How one plugin operator's lowering fared on its probe network."""

    operator: str
    plugin: str
    status: ProbeStatus
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "operator": self.operator,
            "plugin": self.plugin,
            "status": self.status,
            "detail": self.detail,
        }

    def line(self) -> str:
        tail = f": {self.detail}" if self.detail else ""
        return f"{self.operator} (plugin {self.plugin}): {self.status}{tail}"


#: the probe network's stem and downsample: one convolution each, built-in operators only
_STEM_AND_DOWNSAMPLE = """##Probe_stem##
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3,stride=1)
0->2
2->1
##Probe_downsample##
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3,stride=2)
0->2
2->1
"""


def probe_network_text(spec: OperatorSpec) -> str:
    """A network whose cell applies ``spec``'s example node to the cell's input (through ReLU
    branches when the operator takes several inputs)."""
    node = spec.example.strip() or spec.name
    arity = max(1, spec.min_inputs)
    lines = ["##Probe##", "0:input", "1:output", f"2:{node}"]
    if arity == 1:
        edges = ["0->2"]
    else:
        branches = list(range(3, 3 + arity))
        lines += [f"{b}:ReLU" for b in branches]
        edges = [f"0->{b}" for b in branches] + [f"{','.join(map(str, branches))}->2"]
    return "\n".join([*lines, *edges, "2->1"]) + "\n" + _STEM_AND_DOWNSAMPLE


def probe_plugin_lowerings(
    registry: OperatorRegistry, lowerings: Mapping[str, Lowering]
) -> list[LoweringProbe]:
    """One probe per plugin operator that has a lowering, in registration order."""
    plugin_specs: Iterable[OperatorSpec] = (
        spec for spec in registry if spec.source != BUILTIN_SOURCE and spec.name in lowerings
    )
    return [_probe(spec, registry, lowerings) for spec in plugin_specs]


def _probe(
    spec: OperatorSpec, registry: OperatorRegistry, lowerings: Mapping[str, Lowering]
) -> LoweringProbe:
    def result(status: ProbeStatus, detail: str = "") -> LoweringProbe:
        return LoweringProbe(spec.name, spec.source, status, detail)

    try:
        network = parse_network(probe_network_text(spec), f"probe of {spec.name}")
        planner = NetworkPlanner(
            network, registry, skeleton_named("nb201-mini"), dataset_preset("cifar10")
        )
        plan = planner.plan(PROBE_WIDTH)
    except NaderError as err:
        example = spec.example or spec.name
        return result("not probed", f"its example {example!r} does not fit in a cell: {err}")
    try:
        build_network(plan, lowerings)
    except BackendError as err:
        return result("mismatch", str(err))
    return result("ok", f"lowered and run at {_cell_inputs(plan)}, as its shape rule says")


def _cell_inputs(plan: NetworkPlan) -> str:
    shapes = [i.input_shapes[0] for i in plan.instances if i.kind == "cell"]
    return ", ".join(str(tuple(shape)) for shape in dict.fromkeys(shapes)) or "the probe"
