"""Zero-cost proxies: scores of an untrained network from one forward/backward pass.

- ``naswot`` (Mellor et al., "Neural Architecture Search without Training", ICML 2021): the
  log-determinant of the kernel of binary ReLU activation codes over a batch; networks that
  separate inputs into more distinct linear regions score higher.
- ``synflow`` (Tanaka et al., 2020; Abdelfattah et al., "Zero-Cost Proxies", ICLR 2021): the sum
  over parameters of ``|θ · ∂R/∂θ|`` where ``R`` is the output sum of the network with all
  weights made positive, fed an all-ones input, in float64 (data-free).

Both run on the module itself and put it back as they found it (weights, dtype, train/eval
mode, gradients): copying an fx module regenerates its code and cost more than the scores. Both
are deterministic for a given module and input. The worker stores them with the
architecture (``extra["proxies"]``) before training.
"""

from __future__ import annotations

import math

import torch
from torch import nn

#: activations whose sign pattern NASWOT reads (their outputs are > 0 exactly where "on")
_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.ELU, nn.Hardswish)


def naswot_score(model: nn.Module, inputs: torch.Tensor) -> float:
    """NASWOT's ``log|K|``, ``K = C Cᵀ + (1-C)(1-C)ᵀ`` over the batch's binary activation codes.

    Without activation modules (a purely linear network) every input shares one region: the
    codes are read from the network's output sign instead, so the score stays finite.
    """
    was_training = model.training
    probe = model.eval()  # batch norm reads its running statistics and leaves them alone
    codes: list[torch.Tensor] = []

    def keep(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        codes.append((output.detach().flatten(1) > 0).to(torch.float64))

    hooks = [m.register_forward_hook(keep) for m in probe.modules() if isinstance(m, _ACTIVATIONS)]
    with torch.no_grad():
        out = probe(inputs)
    for hook in hooks:
        hook.remove()
    model.train(was_training)
    if not codes:
        codes.append((out.detach().flatten(1) > 0).to(torch.float64))
    code = torch.cat(codes, dim=1)
    kernel = code @ code.T + (1 - code) @ (1 - code).T
    sign, logdet = torch.linalg.slogdet(kernel)
    if sign <= 0:  # identical codes for two inputs make K singular: the lowest score there is
        return 0.0
    return float(logdet)


def synflow_score(model: nn.Module, input_shape: tuple[int, int, int]) -> float:
    """SynFlow: ``Σ |θ ⊙ ∂R/∂θ|`` with positive float64 weights and an all-ones input; returned
    as ``log10`` (raw values overflow easily in deep networks); batch norm runs in eval mode."""
    was_training = model.training
    saved = {name: value.detach().clone() for name, value in model.state_dict().items()}
    dtype = next((p.dtype for p in model.parameters()), torch.float32)
    probe = model.double().eval()
    total = 0.0
    try:
        with torch.no_grad():
            for param in probe.parameters():
                param.abs_()
        probe.zero_grad(set_to_none=True)
        ones = torch.ones((1, *input_shape), dtype=torch.float64)
        probe(ones).sum().backward()
        for param in probe.parameters():
            if param.grad is not None:
                total += float((param.detach() * param.grad).abs().sum())
    finally:
        model.to(dtype)
        model.load_state_dict(saved)
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return math.log10(total) if total > 0 and math.isfinite(total) else 0.0


#: the proxies by name, as ``agents.prescreen_proxy`` names them
PROXY_NAMES = ("naswot", "synflow")


def proxy_score(name: str, model: nn.Module, inputs: torch.Tensor, *, seed: int = 0) -> float:
    """One proxy of ``model`` (see :func:`zero_cost_proxies`); equal to that proxy's entry there."""
    if name not in PROXY_NAMES:
        raise ValueError(f"unknown zero-cost proxy {name!r}; known: {', '.join(PROXY_NAMES)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if name == "naswot":
            return naswot_score(model, inputs)
        return synflow_score(model, tuple(inputs.shape[1:]))  # type: ignore[arg-type]


def zero_cost_proxies(model: nn.Module, inputs: torch.Tensor, *, seed: int = 0) -> dict[str, float]:
    """Every proxy of ``model`` on ``inputs`` (float, normalised, (B, C, H, W)); the global RNG is
    untouched and seeded for each proxy's pass, so scores repeat for a seed."""
    return {name: proxy_score(name, model, inputs, seed=seed) for name in PROXY_NAMES}
