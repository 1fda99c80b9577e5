"""The operator reference prompts show the LLM comes from the registry, plugins included."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from plugin_helpers import REPO_ROOT

from nader.ir import default_registry
from nader.ir.describe import describe_operator, operator_reference
from nader.plugins import build_runtime


def test_one_line_per_operator_with_signature_arity_summary_and_example() -> None:
    registry = default_registry()
    lines = operator_reference(registry).splitlines()
    assert len(lines) == len(registry)
    by_name = {line.split("(")[0].split(" ")[0]: line for line in lines}
    assert by_name["Conv2d"] == (
        "Conv2d(out_channels, kernel_size, stride=1, dilation=1, groups=1, bias=True) | 1 input | "
        "2-D convolution, 'same' padding: out size = ceil(in/stride) | "
        "e.g. Conv2d(out_channels=C,kernel_size=3,stride=1,dilation=1,groups=1,bias=True)"
    )
    assert by_name["Add"].startswith("Add | 2+ inputs | ")
    assert by_name["multiply"].startswith("multiply | 2 inputs | ")
    assert by_name["permute"].startswith("permute(*dims) | 1 input | ")
    assert by_name["input"].startswith("input | block input | ")
    assert "also written BatchNorm2d" in by_name["BN"]
    assert by_name["sum"].startswith("sum(dim, keepdim=False) | ")


def test_a_plugin_operator_appears_in_the_reference(example_module: Any) -> None:
    runtime = build_runtime(
        load_entry_points=False, extra_plugins=[("nader-plugin-example", example_module)]
    )
    reference = operator_reference(runtime.operators)
    line = describe_operator(runtime.operators.get("HardSwish"))
    assert (
        line
        == "HardSwish | 1 input | activation x * relu6(x + 3) / 6, as in MobileNetV3 | e.g. HardSwish"
    )
    assert reference.splitlines()[-1] == line
    assert "HardSwish" not in operator_reference(build_runtime(load_entry_points=False).operators)


def test_the_reference_needs_no_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from nader.ir import default_registry\n"
        "from nader.ir.describe import operator_reference\n"
        "print(len(operator_reference(default_registry()).splitlines()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(default_registry())
