"""The built wheel carries the grammar: install it in a fresh venv and check a block from there."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ir_helpers import REPO_ROOT

# building needs setuptools without isolation (no index access); it takes a few seconds.
# Look it up without importing it: importing setuptools after distutils was loaded fails.
if importlib.util.find_spec("setuptools") is None:
    pytest.skip("setuptools is not installed", allow_module_level=True)

PROGRAM = textwrap.dedent(
    """
    import json
    from importlib import resources
    import nader, nader.ir as ir
    grammar = resources.files("nader").joinpath("grammars/block.lark")
    text = "##C##\\n0:input\\n1:output\\n2:Conv2d(out_channels=C,kernel_size=3)\\n3:BN\\n0->2\\n2->3\\n3->1\\n"
    # a syntax error is always reported by the grammar, which must load from the wheel
    try:
        ir.parse_network("##C##\\n0:input(\\n")
    except ir.BlockSyntaxError as err:
        syntax = err.message
    report = ir.check_text(text, ir.default_registry())
    print(json.dumps({
        "nader": nader.__file__,
        "grammar": str(grammar),
        "grammar_is_file": grammar.is_file(),
        "valid": report.valid,
        "syntax": syntax,
    }))
    """
)


def run(args: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **options)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result  # type: ignore[no-any-return]


def test_wheel_installs_and_checks_blocks(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(
        REPO_ROOT / "nader", source / "nader", ignore=shutil.ignore_patterns("__pycache__")
    )
    dist = tmp_path / "dist"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(source),
        ]
    )
    (wheel,) = dist.glob("nader-*.whl")

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)])
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ]
    )

    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["NADER_LOAD_PLUGINS"] = ""
    outcome = json.loads(run([str(python), "-c", PROGRAM], cwd=tmp_path, env=env).stdout)
    installed = Path(outcome["nader"]).resolve()
    assert venv.resolve() in installed.parents, outcome["nader"]
    assert REPO_ROOT.resolve() not in installed.parents
    assert (
        outcome["grammar_is_file"] and venv.resolve() in Path(outcome["grammar"]).resolve().parents
    )
    assert outcome["valid"] is True and outcome["syntax"] == "line ends too early"

    (tmp_path / "cell.txt").write_text(
        "##C##\n0:input\n1:output\n2:ReLU\n# a comment line\n0->2\n2->1\n"
    )
    script = venv / ("Scripts" if os.name == "nt" else "bin") / "nader"
    checked = run([str(script), "check", "cell.txt", "--json"], cwd=tmp_path, env=env)
    assert json.loads(checked.stdout)["blocks"][0]["valid"] is True
