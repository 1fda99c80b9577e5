"""The cost model, width search and NAS-Bench-201 conversion run where torch is not installed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_SCRIPT = textwrap.dedent(
    """
    import json, sys

    class _NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("torch", "fvcore", "onnx", "onnxruntime"):
                raise ImportError(f"{name} is blocked in this test")
            return None

    sys.meta_path.insert(0, _NoTorch())
    from nader.backends.costs import network_cost
    from nader.backends.nb201 import arch_to_network_text, network_to_arch
    from nader.backends.plan import NetworkPlanner
    from nader.backends.presets import dataset_preset
    from nader.backends.skeletons import skeleton_named
    from nader.backends.width import CostBudget, search_width
    from nader.ir import default_registry, parse_network
    from nader.plugins.manager import build_runtime

    registry = default_registry()
    text = open(sys.argv[1]).read()
    planner = NetworkPlanner(parse_network(text), registry, skeleton_named("nader"), dataset_preset("cifar100"))
    found = search_width(planner, CostBudget(1_500_000, 200_000_000))
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    nb201 = parse_network(arch_to_network_text(arch))
    cost = network_cost(nb201, registry, skeleton_named("nb201"), dataset_preset("cifar10"), 16)
    runtime = build_runtime(load_entry_points=False)
    print(json.dumps({
        "width": found.width,
        "params": cost.params,
        "arch": network_to_arch(nb201, registry),
        "lowerings": len(runtime.lowerings),
        "torch": "torch" in sys.modules,
    }))
    """
)


def test_ir_side_of_the_backend_needs_no_torch() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(REPO / "examples" / "resnet_basic.txt")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["width"] > 0 and result["params"] == 1_531_546
    assert result["arch"].count("nor_conv_3x3") == 6
    # without torch, operators still register (with no lowerings) and nothing imported torch
    assert result["lowerings"] == 0 and result["torch"] is False
