"""The example plugin installed by pip, used through the ``nader`` command as a user would.

A virtual environment that sees the system's packages gets the example installed with
``pip install --no-deps --no-build-isolation`` (nothing is downloaded), and a ``.pth`` file makes
this checkout's ``nader`` importable in it; the system interpreter is left alone.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from plugin_helpers import EXAMPLE_BLOCK, EXAMPLE_DIR, REPO_ROOT

if importlib.util.find_spec("setuptools") is None or importlib.util.find_spec("pip") is None:
    pytest.skip("building the example needs pip and setuptools", allow_module_level=True)


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("example-venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
    )
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "nader_checkout.pth").write_text(f"{REPO_ROOT}\n")
    # build from a copy: setuptools writes build/ and *.egg-info/ next to the sources
    source = tmp_path_factory.mktemp("example-source") / EXAMPLE_DIR.name
    shutil.copytree(
        EXAMPLE_DIR, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    # the system's pip, run by the venv's interpreter, installs into the venv
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            str(source),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert sysconfig.get_paths()["purelib"] != purelib  # the system interpreter is untouched
    return python


def nader(python: Path, *args: str, allow: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NADER_LOAD_PLUGINS", "PYTHONPATH")}
    if allow is not None:
        env["NADER_LOAD_PLUGINS"] = allow
    return subprocess.run(
        [str(python), "-m", "nader", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_nader_plugins_lists_the_installed_example(venv_python: Path) -> None:
    done = nader(venv_python, "plugins", "--json")
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout)["plugins"]}
    example = plugins["nader-plugin-example"]
    assert example["version"] == "0.1.0"
    assert example["loaded_from"] == ["example = nader_plugin_example"]
    assert example["registered"] == {"operators": ["HardSwish"], "search_policies": ["newest"]}


def test_nader_check_accepts_hardswish_with_the_plugin(venv_python: Path) -> None:
    done = nader(venv_python, "check", str(EXAMPLE_BLOCK), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [block["valid"] for block in json.loads(done.stdout)["blocks"]] == [True, True, True]
    allowed = nader(venv_python, "check", str(EXAMPLE_BLOCK), allow="nader_plugin_example")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


@pytest.mark.parametrize("allow", ["", "some-other-plugin"])
def test_nader_check_rejects_hardswish_when_the_plugin_is_not_allowed(
    venv_python: Path, allow: str
) -> None:
    done = nader(venv_python, "check", str(EXAMPLE_BLOCK), "--json", allow=allow)
    assert done.returncode == 1, done.stderr
    cell = json.loads(done.stdout)["blocks"][0]
    assert not cell["valid"]
    assert {error["code"] for error in cell["errors"]} == {"undefined-operator"}
    assert "'HardSwish' is not an operator" in cell["errors"][0]["message"]
    if allow:
        assert "no installed nader plugin is named 'some-other-plugin'" in done.stderr


@pytest.mark.skipif(
    importlib.util.find_spec("nader.backends") is None
    or importlib.util.find_spec("nader.backends.lowering") is None,
    reason="nader.backends.lowering is not in this build yet",
)
def test_nader_compile_lowers_hardswish(venv_python: Path) -> None:
    done = nader(venv_python, "compile", str(EXAMPLE_BLOCK), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["params"] > 0 and result["flops"] > 0
