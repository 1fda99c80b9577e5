"""The README's promises, checked: the two commands, the library example, the commands it names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_starts_with_the_two_commands() -> None:
    first = README.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert (
        first[0]
        == "pip install torch==2.13.0 -e '.[all]' && python -m nader run examples/quickstart.toml"
    )
    assert first[1] == "pip install torch==2.13.0 -e '.[dev]' && python -m pytest"
    assert (REPO / "examples" / "quickstart.toml").exists()
    ci = (REPO / ".ci" / "run").read_text()
    assert "pip install -q torch==2.13.0 -e '.[dev]'" in ci and "python -m pytest" in ci


def test_library_example_runs() -> None:
    (code,) = _blocks("python")
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "ResNetBasic True" in done.stdout


def test_every_command_the_readme_names_exists() -> None:
    named = set(
        re.findall(r"^(?:python -m )?nader ([a-z]+)", "\n".join(_blocks("bash")), flags=re.M)
    )
    assert named >= {"run", "report", "check", "hash", "compile", "plugins", "export"}
    for command in sorted(named):
        done = subprocess.run(
            [sys.executable, "-m", "nader", command, "--help"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        )
        assert done.returncode == 0, (command, done.stderr)
