"""``pip install nader`` (no extras) is light and enough for the IR side: the bare wheel with
only its declared dependencies, in a venv that sees no other site-packages, checks and hashes
blocks, lists plugins and prints the config schema; commands of an extra say which to install."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

if importlib.util.find_spec("setuptools") is None:
    pytest.skip("setuptools is not installed", allow_module_level=True)

pytestmark = pytest.mark.slow

HEAVY = ("torch", "numpy", "sklearn", "anthropic", "openai", "qdrant_client", "fvcore", "grandalf")


def run(args: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **options)  # type: ignore[call-overload,no-any-return]


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain venv with the bare wheel and what its metadata requires, nothing else."""
    root = tmp_path_factory.mktemp("bare")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "nader", source / "nader", ignore=shutil.ignore_patterns("__pycache__"))
    built = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(root / "dist"),
            str(source),
        ]
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (root / "dist").glob("nader-*.whl")
    venv = root / "venv"
    made = run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    # the wheel's declared dependencies come from the configured (local) package index
    installed = run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel)]
    )
    if installed.returncode != 0 and "No matching distribution" in installed.stderr:
        pytest.skip(f"the package index lacks a core dependency: {installed.stderr[-300:]}")
    assert installed.returncode == 0, installed.stderr[-2000:]
    return venv


def nader(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["NADER_LOAD_PLUGINS"] = ""
    return run([str(venv / "bin" / "nader"), *args], cwd=cwd, env=env)


def test_the_bare_install_has_no_heavy_dependency(bare: Path) -> None:
    program = f"import importlib.util, json; print(json.dumps({{m: importlib.util.find_spec(m) is not None for m in {HEAVY!r}}}))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    found = run([str(bare / "bin" / "python"), "-c", program], env=env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == dict.fromkeys(HEAVY, False)


def test_check_hash_plugins_and_schema_work_bare(bare: Path, tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "resnet_basic.txt", tmp_path / "cell.txt")
    checked = nader(bare, "check", "cell.txt", "--json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    blocks = json.loads(checked.stdout)["blocks"]
    assert [b["valid"] for b in blocks] == [True, True, True]
    hashed = nader(bare, "hash", "cell.txt", cwd=tmp_path)
    assert hashed.returncode == 0 and hashed.stdout.split()[0] == blocks[0]["hash"]
    listed = nader(bare, "plugins", cwd=tmp_path)
    assert listed.returncode == 0 and "warning" not in listed.stderr, listed.stderr
    assert "trackers (3)" in listed.stdout
    schema = nader(bare, "config", "schema", cwd=tmp_path)
    assert schema.returncode == 0 and "tracking" in json.loads(schema.stdout)["properties"]


def test_a_command_of_a_missing_extra_names_it_in_one_line(bare: Path, tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "resnet_basic.txt", tmp_path / "cell.txt")
    done = nader(bare, "compile", "cell.txt", "--width", "4", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "nader: compile needs the 'training' extra (torch is not installed): "
        "pip install 'nader[training]'"
    ]
