"""The grammar is read from the imported package's own files, whatever the working directory.

Reproduces an editable install (setuptools puts a meta-path finder *after* the path finder)
run from a directory that holds a ``nader/`` checkout: ``import nader`` then finds that folder
as a namespace package, and anything resolved from the top-level package name looks there.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "nader"

SCRIPT = textwrap.dedent(
    """
    import sys
    from importlib.machinery import PathFinder

    PACKAGE = sys.argv[1]

    class EditableFinder:  # what setuptools' __editable__ finder does, after the path finder
        @classmethod
        def find_spec(cls, fullname, path=None, target=None):
            if fullname.startswith("nader.") and fullname.count(".") == 1:
                return PathFinder.find_spec(fullname, path=[PACKAGE])
            return None

    # only ours: an editable install of another checkout in this interpreter must not answer
    sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.meta_path.append(EditableFinder)
    from nader.ir import parse_network

    network = parse_network("##A##\\n0:input\\n1:output\\n2:Conv2d(out_channels=C)\\n0->2\\n2->1\\n")
    print(network.blocks[0].nodes[2].op)
    """
)


def test_grammar_found_when_the_working_directory_holds_a_nader_checkout(tmp_path: Path) -> None:
    (tmp_path / "nader").mkdir()  # a checkout: pyproject.toml beside the real nader/ package
    (tmp_path / "nader" / "pyproject.toml").write_text("[project]\nname = 'nader'\n")
    script = tmp_path / "probe.py"  # run as a file, its folder comes first on sys.path
    script.write_text(SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script), str(PACKAGE)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "Conv2d"
