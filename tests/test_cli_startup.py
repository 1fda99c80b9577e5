"""IR-only commands do not pay for torch: lowerings are resolved lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROGRAM = """
import sys
from nader.cli.main import main
code = main(["check", "examples/resnet_basic.txt"])
print("EXIT", code, "TORCH", "torch" in sys.modules)
"""


def test_check_does_not_import_torch() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "NADER_LOAD_PLUGINS": ""},
    )
    assert "EXIT 0 TORCH False" in done.stdout, done.stdout + done.stderr


def test_lazy_lowerings_still_build_modules() -> None:
    import torch

    from nader.plugins.manager import build_runtime

    runtime = build_runtime(load_entry_points=False)
    assert "input" not in runtime.lowerings and "output" not in runtime.lowerings
    from nader.backends.lowering import LoweringContext

    relu = runtime.lowerings["ReLU"](LoweringContext("ReLU", {}, {}, ((2, 3),), (2, 3)))
    assert isinstance(relu, torch.nn.Module)
    assert torch.equal(relu(torch.tensor([-1.0, 2.0])), torch.tensor([0.0, 2.0]))


def test_a_closed_pipe_ends_the_listing_quietly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "nader", "plugins"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "NADER_LOAD_PLUGINS": ""},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before anything is written (``| head`` done)
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in stderr, stderr
