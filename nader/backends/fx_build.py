"""Verified IR → ``torch.fx.Graph`` → ``GraphModule``, with no source text of our own.

Each block instance becomes a ``GraphModule`` built node by node (``graph.placeholder``,
``graph.call_module``, ``graph.output``): one submodule per operator node, named
``<op>_<node id>`` (``conv2d_5``), made by the operator's registered lowering. The network is one
more ``GraphModule`` whose submodules are the block instances, named as in the plan (``stem``,
``stage2_cell3``, ``down1``, ``head``). torch.fx turns the graph into a ``forward`` itself; the
only names in it are ones chosen here, never text from a block file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import fx, nn

from nader.backends.lowering import Lowering, LoweringContext, bind_symbols
from nader.backends.plan import NETWORK_INPUT, BlockInstance, NetworkPlan
from nader.errors import BackendError
from nader.ir.expr import evaluate
from nader.ir.graph import NodeKind, node_kind
from nader.ir.ops import BUILTIN_SOURCE
from nader.ir.structure import Structure


def node_context(instance: BlockInstance, node_id: int) -> LoweringContext:
    """The lowering context of one node of a placed block."""
    structure = instance.structure
    spec = structure.specs[node_id]
    bound = structure.params[node_id]
    env = instance.probe.env()
    fixed = {"C": env["C"], "dim": env["dim"]}
    params: dict[str, Any] = dict(bound.others)
    exprs: dict[str, Any] = {}
    for name, value in bound.sizes:
        if isinstance(value, tuple):
            params[name] = tuple(evaluate(item, env) for item in value)
            exprs[name] = tuple(bind_symbols(item, fixed) for item in value)
        else:
            params[name] = evaluate(value, env)
            exprs[name] = bind_symbols(value, fixed)
    return LoweringContext(
        op=spec.name,
        params=params,
        exprs=exprs,
        input_shapes=tuple(instance.shapes[src].dims for src in structure.inputs[node_id]),
        output_shape=instance.shapes[node_id].dims,
    )


def python_name(text: str, fallback: str = "Block") -> str:
    """An identifier made from ``text`` (a block name): other characters become ``_``."""
    name = re.sub(r"\W", "_", text, flags=re.ASCII).strip("_")
    if not name or name[0].isdigit():
        name = f"{fallback}_{name}" if name else fallback
    return name


def _lower_node(
    instance: BlockInstance, node_id: int, lowerings: Mapping[str, Lowering]
) -> nn.Module:
    spec = instance.structure.specs[node_id]
    lowering = lowerings.get(spec.name)
    where = f"{instance.name} ({instance.block.name}) node {node_id}"
    if lowering is None:
        raise BackendError(
            f"{where}: operator {spec.name!r} (from plugin {spec.source!r}) has no torch lowering; "
            "register one with register(spec, lowering=fn)"
        )
    lowering_of = f"the lowering of operator {spec.name!r} (from plugin {spec.source!r})"
    try:
        module = lowering(node_context(instance, node_id))
    except Exception as err:  # a lowering may fail in any way: the one guard, naming the node
        raise BackendError(f"{where}: {lowering_of} raised {type(err).__name__}: {err}") from err
    if not isinstance(module, nn.Module):
        raise BackendError(
            f"{where}: {lowering_of} returned {type(module).__name__}, not a torch.nn.Module"
        )
    if spec.source != BUILTIN_SOURCE:
        _check_against_shape_rule(instance, node_id, module, f"{where}: {lowering_of}")
    return module


def _check_against_shape_rule(
    instance: BlockInstance, node_id: int, module: nn.Module, lowering_of: str
) -> None:
    """Run a plugin's freshly lowered module once on zeros of the probe's input shapes (batch 1)
    and compare its output with what the operator's shape rule inferred.

    The verifier trusts the shape rule; a lowering that disagrees would pass ``nader check`` and
    fail later inside torch or fvcore with an error naming neither operator nor plugin. Built-in
    lowerings are covered by the backend tests, so only plugins pay for the probe.
    """
    structure = instance.structure
    inputs = [torch.zeros(instance.shapes[src].dims) for src in structure.inputs[node_id]]
    expected = tuple(instance.shapes[node_id].dims)
    kwargs: dict[str, Any] = {}
    if getattr(module, "reads_block_shape", False):
        kwargs["block_shape"] = torch.Size(instance.shapes[structure.input_ids[0]].dims)
    training = module.training
    module.eval()  # no running statistics change, no dropout
    try:
        with torch.no_grad():
            output = module(*inputs, **kwargs)
    except Exception as err:  # a plugin's module may fail in any way: named, not a traceback
        shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
        raise BackendError(
            f"{lowering_of} fails on a probe input {shapes}: {type(err).__name__}: {err}"
        ) from err
    finally:
        module.train(training)
    actual = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
    if actual != expected:
        raise BackendError(
            f"{lowering_of} outputs {actual} on a probe input, but the operator's shape rule "
            f"says {expected}; fix the lowering or the shape rule"
        )


def module_name(structure: Structure, node_id: int) -> str:
    """The submodule name of a node: ``<operator in lower case>_<node id>``."""
    return f"{structure.specs[node_id].name.lower()}_{node_id}"


def build_block(instance: BlockInstance, lowerings: Mapping[str, Lowering]) -> fx.GraphModule:
    """One placed block as a ``GraphModule``; ``forward`` takes the block's inputs in order."""
    structure = instance.structure
    graph = fx.Graph()
    modules: dict[str, nn.Module] = {}
    values: dict[int, fx.Node] = {}
    for position, node_id in enumerate(structure.input_ids):
        values[node_id] = graph.placeholder(f"x{position}" if len(structure.input_ids) > 1 else "x")
    block_shape: fx.Node | None = None
    for node_id in structure.order:
        spec = structure.specs[node_id]
        if node_id in values or node_kind(spec.name) is NodeKind.OUTPUT:
            continue
        module = _lower_node(instance, node_id, lowerings)
        name = module_name(structure, node_id)
        modules[name] = module
        kwargs: dict[str, Any] = {}
        if getattr(module, "reads_block_shape", False):
            if block_shape is None:
                block_shape = graph.call_method("size", (values[structure.input_ids[0]],))
            kwargs["block_shape"] = block_shape
        args = tuple(values[source] for source in structure.inputs[node_id])
        values[node_id] = graph.call_module(name, args, kwargs)
    assert structure.output_id is not None
    (result,) = structure.inputs[structure.output_id]
    graph.output(values[result])
    module = fx.GraphModule(modules, graph, class_name=python_name(instance.block.name))
    module.graph.lint()
    return module


def build_network(plan: NetworkPlan, lowerings: Mapping[str, Lowering]) -> fx.GraphModule:
    """The whole planned network as a ``GraphModule`` taking images ``(B, 3, H, W)``.

    :param lowerings: operator name → lowering (a runtime's ``lowerings``).
    :raises BackendError: an operator has no lowering, or a lowering failed (names the node).
    """
    table = lowerings
    graph = fx.Graph()
    modules: dict[str, nn.Module] = {}
    values: dict[int, fx.Node] = {NETWORK_INPUT: graph.placeholder("images")}
    for index, instance in enumerate(plan.instances):
        modules[instance.name] = build_block(instance, table)
        args = tuple(values[source] for source in instance.sources)
        values[index] = graph.call_module(instance.name, args)
    graph.output(values[len(plan.instances) - 1])
    network = fx.GraphModule(modules, graph, class_name="NaderNetwork")
    network.graph.lint()
    return network


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def example_input(plan: NetworkPlan, batch: int = 2, seed: int = 0) -> torch.Tensor:
    """A deterministic random image batch of the plan's input size."""
    generator = torch.Generator().manual_seed(seed)
    _, channels, height, width = plan.input_shape
    return torch.randn(batch, channels, height, width, generator=generator)
