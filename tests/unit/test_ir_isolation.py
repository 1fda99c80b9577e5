"""``nader.ir`` (and ``nader check``) work where torch, fvcore and the LLM SDKs cannot be imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from ir_helpers import REPO_ROOT

BLOCKED = ("torch", "torchvision", "fvcore", "anthropic", "openai", "qdrant_client", "ray")

SITECUSTOMIZE = f"""
import sys

BLOCKED = {BLOCKED!r}


class BlockHeavyModules:
    # a meta-path finder consulted before every other: the blocked packages do not exist here
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, BlockHeavyModules())
"""

PROGRAM = textwrap.dedent(
    """
    import json, sys
    try:
        import torch  # noqa: F401
    except ImportError:
        blocked = True
    else:
        blocked = False
    import nader.ir as ir
    text = "##C##\\n0:input\\n1:output\\n2:Conv2d(out_channels=C,kernel_size=3)\\n3:BN\\n0->2\\n2->3\\n3->1\\n"
    report = ir.check_text(text, ir.default_registry())
    block = report.blocks[0]
    print(json.dumps({
        "blocked": blocked,
        "valid": block.valid,
        "hash": block.hash,
        "printed": ir.print_network(report.network, ir.default_registry()),
        "loaded": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED),
    }))
    """
).replace("BLOCKED)", f"{BLOCKED!r})")


def environment(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)]),
        "NADER_LOAD_PLUGINS": "",
    }


def test_import_and_check_without_torch(tmp_path: Path) -> None:
    env = environment(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["blocked"] is True  # the blocker works, so the rest proves something
    assert outcome["valid"] is True and len(outcome["hash"]) == 32
    assert outcome["printed"].startswith("##C##\n0:input\n1:output\n2:Conv2d(")
    assert outcome["loaded"] == []


def test_check_command_without_torch(tmp_path: Path) -> None:
    env = environment(tmp_path)
    (tmp_path / "cell.txt").write_text("##C##\n0:input\n1:output\n2:ReLU\n0->2\n2->1\n")
    result = subprocess.run(
        [sys.executable, "-m", "nader", "check", "cell.txt", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["blocks"][0]["valid"] is True
