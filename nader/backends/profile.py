"""Measure a built torch module: fvcore's count, and NAS-Bench-201's hook-based FLOP count.

These are the *independent* checks of the analytic cost model: :func:`fvcore_macs` must equal
the IR's ``macs`` and :func:`hooked_flops` its ``flops``. :func:`hooked_flops` is also how the
authors (and NAS-Bench-201's ``get_model_infos``) profile a model: forward hooks on every Conv2d
and Linear, biases included.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn


#: fvcore operators counted: convolution, linear and matrix products (its own handles for them).
def _counted_handles() -> dict[str, object]:
    from fvcore.nn.jit_handles import (
        addmm_flop_jit,
        bmm_flop_jit,
        conv_flop_jit,
        einsum_flop_jit,
        linear_flop_jit,
        matmul_flop_jit,
    )

    return {
        "aten::_convolution": conv_flop_jit,
        "aten::addmm": addmm_flop_jit,
        "aten::mm": matmul_flop_jit,
        "aten::bmm": bmm_flop_jit,
        "aten::matmul": matmul_flop_jit,
        "aten::linear": linear_flop_jit,
        "aten::einsum": einsum_flop_jit,
    }


def _zeros(shape: tuple[int, ...], module: nn.Module) -> torch.Tensor:
    parameter = next(module.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    return torch.zeros(shape, device=device)


def fvcore_macs(module: nn.Module, input_shape: tuple[int, ...]) -> int:
    """fvcore's FlopCountAnalysis of conv, linear and matmul only, per sample (batch 1 input).

    Other operators fvcore would count by default (batch norm, pooling, upsampling) are not
    counted; fvcore counts one multiply-add as one flop and no biases.
    """
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fvcore's imports and jit tracing warn a lot
            from fvcore.nn import FlopCountAnalysis

            analysis = FlopCountAnalysis(module, (_zeros(input_shape, module),))
            analysis.clear_op_handles()
            analysis.set_op_handle(**_counted_handles())  # type: ignore[arg-type]
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            analysis.tracer_warnings("none")
            total = int(analysis.total())
    finally:
        module.train(was_training)
    return total // input_shape[0]


def hooked_flops(module: nn.Module, input_shape: tuple[int, ...]) -> int:
    """NAS-Bench-201's FLOPs: multiply-adds of every Conv2d and Linear call, biases included,
    per sample — measured with forward hooks during one forward pass."""
    total = 0

    def conv_hook(layer: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(layer, nn.Conv2d)
        kernel = layer.kernel_size[0] * layer.kernel_size[1]
        per_position = kernel * layer.in_channels * layer.out_channels // layer.groups
        positions = output.numel() // layer.out_channels
        total += per_position * positions + (output.numel() if layer.bias is not None else 0)

    def linear_hook(
        layer: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor
    ) -> None:
        nonlocal total
        assert isinstance(layer, nn.Linear)
        positions = output.numel() // layer.out_features
        total += positions * layer.in_features * layer.out_features
        total += output.numel() if layer.bias is not None else 0

    handles = []
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            handles.append(layer.register_forward_hook(conv_hook))
        elif isinstance(layer, nn.Linear):
            handles.append(layer.register_forward_hook(linear_hook))
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            module(_zeros(input_shape, module))
    finally:
        module.train(was_training)
        for handle in handles:
            handle.remove()
    return total // input_shape[0]
