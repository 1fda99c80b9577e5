"""From verified IR to runnable networks: skeletons, exact costs, width search, torch.fx, export.

Two layers live here, and the split is deliberate:

- IR-only (no torch): :mod:`~nader.backends.presets` (datasets and budgets),
  :mod:`~nader.backends.skeletons` (how blocks are stacked into a network),
  :mod:`~nader.backends.plan` (every block instance at its real C/dim/H/W),
  :mod:`~nader.backends.costs` (network params and FLOPs from the IR),
  :mod:`~nader.backends.width` (largest width that fits a budget) and
  :mod:`~nader.backends.nb201` (NAS-Bench-201 arch strings). These import no torch, so the
  width search and cost model run anywhere the IR runs.
- torch: :mod:`~nader.backends.lowering` (operator → ``nn.Module``),
  :mod:`~nader.backends.fx_build` (IR → ``torch.fx.GraphModule``),
  :mod:`~nader.backends.profile` (fvcore check), :mod:`~nader.backends.export` (Python source and
  ONNX) and :mod:`~nader.backends.compiler` (the whole ``nader compile`` pipeline). These import
  torch when they are imported; nothing here imports them eagerly.
- training: :mod:`~nader.backends.train` (the NAS-Bench-201 protocol trainer).
"""
