"""Export a compiled network: standalone PyTorch source, or ONNX.

:func:`network_source` is a code printer over the built ``GraphModule``: one class per distinct
(block, sizes) pair with the block's layers as submodules under the same names as in nader's own
module (so ``state_dict`` keys match), a ``forward`` with one line per node, and a ``Network``
class that builds the whole network at the chosen width without arguments. The file imports only
torch. It is written for the user; nader never imports it (tests load it in a subprocess to check
that it computes what nader's module computes).

The printer knows the modules built-in operators lower to. A plugin operator prints when its module
is a parameter-free ``torch.nn`` layer (``nn.Hardswish()``); anything else is a
:class:`~nader.errors.BackendError` naming the operator, rather than a guess at its source.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from nader.backends import layers
from nader.backends.fx_build import python_name
from nader.backends.plan import NETWORK_INPUT, BlockInstance, NetworkPlan
from nader.errors import BackendError
from nader.ir.expr import BinOp, Const, Expr, Neg, Sym

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "//": 2}


def python_expr(expr: Expr) -> str:
    """A size expression as Python (``//`` for the format's integer ``/``)."""
    if isinstance(expr, Const):
        return str(expr.value)
    if isinstance(expr, Sym):
        return expr.name
    if isinstance(expr, Neg):
        inner = python_expr(expr.operand)
        return f"-{inner}" if isinstance(expr.operand, (Const, Sym)) else f"-({inner})"
    assert isinstance(expr, BinOp)

    def side(item: Expr, right: bool) -> str:
        text = python_expr(item)
        if isinstance(item, BinOp):
            mine, parent = _PRECEDENCE[item.op], _PRECEDENCE[expr.op]
            if mine < parent or (right and mine == parent and expr.op != "+"):
                return f"({text})"
        return text

    return f"{side(expr.left, False)} {expr.op} {side(expr.right, True)}"


# ------------------------------------------------------------------------- per-module printing


@dataclass(frozen=True)
class Printed:
    """How one node prints: a constructor (None when inlined) and its call expression."""

    init: str | None
    call: Callable[[str, Sequence[str]], str]  # (attribute, argument names) -> expression
    helpers: tuple[Any, ...] = ()


def _module_call(attr: str, args: Sequence[str]) -> str:
    return f"self.{attr}({', '.join(args)})"


def _submodule(init: str, *helpers: Any) -> Printed:
    return Printed(init, _module_call, helpers)


def _inline(call: Callable[[Sequence[str]], str]) -> Printed:
    return Printed(None, lambda attr, args: call(args))


def _conv_arguments(conv: nn.Conv2d, with_padding: bool) -> str:
    parts = [str(conv.in_channels), str(conv.out_channels), f"kernel_size={conv.kernel_size[0]}"]
    if conv.stride[0] != 1:
        parts.append(f"stride={conv.stride[0]}")
    padding = conv.padding[0] if isinstance(conv.padding, tuple) else 0
    if with_padding and padding:
        parts.append(f"padding={padding}")
    if conv.dilation[0] != 1:
        parts.append(f"dilation={conv.dilation[0]}")
    if conv.groups != 1:
        parts.append(f"groups={conv.groups}")
    if conv.bias is None:
        parts.append("bias=False")
    return ", ".join(parts)


def _norm_arguments(module: nn.Module, size: str) -> str:
    eps, momentum = getattr(module, "eps", 1e-5), getattr(module, "momentum", 0.1)
    extra = ""
    if eps != 1e-5:
        extra += f", eps={eps!r}"
    if momentum not in (0.1, None) and hasattr(module, "running_mean"):
        extra += f", momentum={momentum!r}"
    return size + extra


def _printed(module: nn.Module) -> Printed:
    kind = type(module)
    if kind is layers.SameConv2d:
        assert isinstance(module, nn.Conv2d)
        return _submodule(
            f"SameConv2d({_conv_arguments(module, False)})", layers.same_padding, layers.SameConv2d
        )
    if kind is nn.Conv2d:
        assert isinstance(module, nn.Conv2d)
        return _submodule(f"nn.Conv2d({_conv_arguments(module, True)})")
    if kind in (nn.BatchNorm1d, nn.BatchNorm2d):
        assert isinstance(module, nn.modules.batchnorm._BatchNorm)
        return _submodule(
            f"nn.{kind.__name__}({_norm_arguments(module, str(module.num_features))})"
        )
    if kind is nn.LayerNorm:
        assert isinstance(module, nn.LayerNorm)
        return _submodule(
            f"nn.LayerNorm({_norm_arguments(module, str(module.normalized_shape[0]))})"
        )
    if kind is nn.Linear:
        assert isinstance(module, nn.Linear)
        bias = "" if module.bias is not None else ", bias=False"
        return _submodule(f"nn.Linear({module.in_features}, {module.out_features}{bias})")
    if kind is nn.MaxPool2d:
        assert isinstance(module, nn.MaxPool2d)
        return _inline(
            lambda a: (
                f"F.max_pool2d({a[0]}, {module.kernel_size}, {module.stride}, {module.padding})"
            )
        )
    if kind is nn.AvgPool2d:
        assert isinstance(module, nn.AvgPool2d)
        return _inline(
            lambda a: (
                f"F.avg_pool2d({a[0]}, {module.kernel_size}, {module.stride}, "
                f"{module.padding}, count_include_pad={module.count_include_pad})"
            )
        )
    if kind in (layers.SameMaxPool2d, layers.SameAvgPool2d):
        return _submodule(
            f"{kind.__name__}({module.kernel_size}, {module.stride})", layers.same_padding, kind
        )
    if kind is nn.AdaptiveAvgPool2d:
        return _inline(lambda a: f"F.adaptive_avg_pool2d({a[0]}, {module.output_size!r})")
    if kind is nn.AdaptiveMaxPool2d:
        return _inline(lambda a: f"F.adaptive_max_pool2d({a[0]}, {module.output_size!r})")
    if kind is layers.DropPath:
        assert isinstance(module, layers.DropPath)
        return _submodule(f"DropPath({module.drop_prob!r})", layers.DropPath)
    return _stateless(module)


def _stateless(module: nn.Module) -> Printed:
    kind = type(module)
    simple: dict[type, Callable[[Sequence[str]], str]] = {
        nn.ReLU: lambda a: f"torch.relu({a[0]})",
        nn.GELU: lambda a: f"F.gelu({a[0]})",
        nn.Sigmoid: lambda a: f"torch.sigmoid({a[0]})",
        nn.Identity: lambda a: a[0],
        layers.Zero: lambda a: f"{a[0]}.mul(0.0)",
        layers.Add: lambda a: " + ".join(a),
        layers.Mul: lambda a: " * ".join(a),
        layers.MatMul: lambda a: f"torch.matmul({a[0]}, {a[1]})",
    }
    if kind in simple and not (
        kind is nn.GELU and getattr(module, "approximate", "none") != "none"
    ):
        return _inline(simple[kind])
    if kind is nn.Softmax:
        return _inline(lambda a: f"torch.softmax({a[0]}, dim={getattr(module, 'dim', -1)})")
    if isinstance(module, layers.Concat):
        return _inline(lambda a: f"torch.cat([{', '.join(a)}], dim={module.dim})")
    if isinstance(module, layers.Reduce):
        function = {"mean": "torch.mean", "sum": "torch.sum", "max": "torch.amax"}[module.kind]
        return _inline(
            lambda a: f"{function}({a[0]}, dim={module.dims!r}, keepdim={module.keepdim})"
        )
    if isinstance(module, layers.Permute):
        return _inline(lambda a: f"{a[0]}.permute({', '.join(map(str, module.dims))})")
    if isinstance(module, (layers.Reshape, layers.Repeat)):
        method = "reshape" if isinstance(module, layers.Reshape) else "repeat"
        sizes = ", ".join(python_expr(size) for size in module.sizes)
        return _inline(lambda a: f"{a[0]}.{method}({sizes})")
    if (
        kind.__module__.startswith("torch.nn.modules")
        and getattr(nn, kind.__name__, None) is kind
        and not list(module.parameters(recurse=True))
        and not list(module.buffers())
        and not module.extra_repr()
    ):
        return _submodule(f"nn.{kind.__name__}()")
    raise BackendError(
        f"cannot write {kind.__module__}.{kind.__name__} as standalone PyTorch source; export "
        "this network to ONNX instead"
    )


# -------------------------------------------------------------------------------- the printer


def _class_name(instance: BlockInstance, used: set[str]) -> str:
    """``ResNetBasicBlock_16``, ``ResNetBasicBlock_downsample_16_32``, ``Head_64_100``: the block
    name, its kind unless the name says it, and its C (and dim when different)."""
    base = python_name(instance.block.name, "Block")
    base = base[0].upper() + base[1:]
    if instance.kind != "cell" and instance.kind not in base.lower():
        base += f"_{instance.kind}"
    probe = instance.probe
    name = f"{base}_{probe.channels}" + (f"_{probe.dim}" if probe.dim != probe.channels else "")
    while name in used:
        name += "_"
    return name


def _block_class(
    instance: BlockInstance, module: fx.GraphModule, helpers: dict[str, Any]
) -> list[str]:
    """The class body of one block instance (the caller adds the ``class`` line)."""
    probe = instance.probe
    init: list[str] = []
    body: list[str] = []
    names: dict[fx.Node, str] = {}
    placeholders: list[str] = []
    reads_shape = False
    for node in module.graph.nodes:
        if node.op == "placeholder":
            names[node] = str(node.target)
            placeholders.append(names[node])
        elif node.op == "call_method" and node.target == "size":
            reads_shape = True
        elif node.op == "call_module":
            attr = str(node.target)
            try:
                printed = _printed(module.get_submodule(attr))
            except BackendError as err:
                raise BackendError(
                    f"{instance.name} ({instance.block.name}) node {attr}: {err}"
                ) from err
            for helper in printed.helpers:
                helpers.setdefault(helper.__name__, helper)
            if printed.init is not None:
                init.append(f"        self.{attr} = {printed.init}")
            args = [names[arg] for arg in node.args]  # type: ignore[index]
            names[node] = node.name
            body.append(f"        {node.name} = {printed.call(attr, args)}")
        elif node.op == "output":
            body.append(f"        return {names[node.args[0]]}")  # type: ignore[index]
    signature = ", ".join(f"{p}: torch.Tensor" for p in placeholders)
    lines = [
        f'    """{instance.kind.capitalize()} {instance.block.name!r} with C={probe.channels}, '
        f'dim={probe.dim}."""',
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *init,
        "",
        f"    def forward(self, {signature}) -> torch.Tensor:",
    ]
    if reads_shape:
        first = placeholders[0]
        lines.append(f"        B, H, W = {first}.shape[0], {first}.shape[-2], {first}.shape[-1]")
    return lines + body


def network_source(
    plan: NetworkPlan,
    network: fx.GraphModule,
    *,
    class_name: str = "Network",
    source: str | None = None,
) -> str:
    """Standalone PyTorch source of ``network`` (built from ``plan`` by :func:`build_network`)."""
    if not class_name.isidentifier():
        raise BackendError(f"class name {class_name!r} is not a Python identifier")
    helpers: dict[str, Any] = {}
    instance_class: dict[str, str] = {}
    class_by_body: dict[str, str] = {}
    class_lines: list[list[str]] = []
    used = {class_name}
    for instance in plan:
        block_module = network.get_submodule(instance.name)
        assert isinstance(block_module, fx.GraphModule)
        lines = _block_class(instance, block_module, helpers)
        text = "\n".join(lines)
        if text not in class_by_body:
            name = _class_name(instance, used)
            used.add(name)
            class_by_body[text] = name
            class_lines.append([f"class {name}(nn.Module):", *lines])
        instance_class[instance.name] = class_by_body[text]

    cost = plan.cost
    _, channels, height, width = plan.input_shape
    header = [
        '"""A network compiled by nader — generated code, regenerate rather than edit.',
        "",
        f"Source: {source or 'a network file'}; skeleton {plan.skeleton.name!r}, width {plan.width}, "
        f"dataset {plan.dataset.name!r}.",
        f"Input (B, {channels}, {height}, {width}); output (B, {plan.dataset.num_classes}). "
        f"{cost.params:,} parameters, {cost.flops:,} FLOPs per sample (NAS-Bench-201 convention).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import torch",
        "import torch.nn.functional as F",
        "from torch import nn",
        "",
        f'__all__ = ["{class_name}"]',
    ]
    parts = ["\n".join(header)]
    for helper in helpers.values():
        parts.append(inspect.getsource(helper).rstrip())
    parts.extend("\n".join(lines) for lines in class_lines)

    init = [
        f"        self.{instance.name} = {instance_class[instance.name]}()" for instance in plan
    ]
    names = {NETWORK_INPUT: "images"}
    body: list[str] = []
    for index, instance in enumerate(plan.instances):
        args = ", ".join(names[source] for source in instance.sources)
        body.append(f"        {instance.name} = self.{instance.name}({args})")
        names[index] = instance.name
    body.append(f"        return {names[len(plan.instances) - 1]}")
    parts.append(
        "\n".join(
            [
                f"class {class_name}(nn.Module):",
                f'    """The whole network: images (B, {channels}, {height}, {width}) -> logits '
                f'(B, {plan.dataset.num_classes})."""',
                "",
                "    def __init__(self) -> None:",
                "        super().__init__()",
                *init,
                "",
                "    def forward(self, images: torch.Tensor) -> torch.Tensor:",
                *body,
            ]
        )
    )
    parts.append(
        'if __name__ == "__main__":\n'
        f"    model = {class_name}().eval()\n"
        f"    print(model(torch.randn(2, {channels}, {height}, {width})).shape)"
    )
    return "\n\n\n".join(parts) + "\n"


def export_onnx(
    network: nn.Module, input_shape: tuple[int, ...], path: str | Path, *, opset: int = 17
) -> None:
    """Write ``network`` (in eval mode) as ONNX with a dynamic batch axis.

    Uses torch's TorchScript-based exporter, which needs no extra package (the newer exporter
    needs ``onnxscript``).
    """
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                network,
                (torch.zeros(input_shape),),
                str(path),
                dynamo=False,
                input_names=["images"],
                output_names=["logits"],
                dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
                opset_version=opset,
            )
    except Exception as err:  # torch raises many types here; keep the cause
        raise BackendError(f"ONNX export failed: {type(err).__name__}: {err}") from err
    finally:
        network.train(was_training)


def load_trained_weights(network: nn.Module, checkpoint: str | Path) -> None:
    """Load the model weights of a nader training checkpoint into ``network``.

    The checkpoint is read with ``weights_only=True`` (tensors and plain containers, no pickled
    objects), and the keys must match exactly: a network compiled at another width or skeleton
    than the one trained is refused rather than half-loaded.
    """
    path = Path(checkpoint)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable checkpoint is the same user error
        raise BackendError(
            f"{path}: not a readable nader checkpoint ({type(err).__name__}: {err})"
        ) from err
    weights = state.get("model") if isinstance(state, dict) else None
    if not isinstance(weights, dict):
        raise BackendError(f"{path}: holds no model weights")
    try:
        network.load_state_dict(weights, strict=True)
    except RuntimeError as err:
        raise BackendError(f"{path}: weights do not fit the compiled network: {err}") from err


def save_state_dict(network: nn.Module, path: str | Path) -> None:
    """Write ``network``'s state dict (tensors only, loadable with ``weights_only=True``)."""
    torch.save({key: value.detach().cpu() for key, value in network.state_dict().items()}, path)
