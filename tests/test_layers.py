"""The package's layers only point down, and no two files import each other in a loop.

Imports are read from the source (function-local ones included) with ``ast``; a module imports
the modules it names (``from nader.x import y`` names ``nader.x``, or ``nader.x.y`` when that
is a module). The layer table is the map of DESIGN §3 as built: a file may import files of its
own layer or below.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "nader"

#: top-level part of nader → layer (higher layers may import lower ones, never the reverse)
LAYERS = {
    "errors": 0,
    "hookspecs": 0,
    "ir": 1,
    "llm": 1,
    "__init__": 1,
    "plugins": 2,
    "backends": 2,
    "data": 3,
    "agents": 3,
    "tracking": 3,
    "training": 4,
    "session": 5,
    "report": 6,
    "bench": 6,
    "cli": 7,
    "__main__": 8,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            if name in modules:
                found.add(name)
                break
            parent = name.rsplit(".", 1)[0]
            if parent in modules and parent != "nader":
                found.add(parent)
                break
    return found


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS["__init__" if parts == ["nader"] else parts[1]]


def _graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        for target in _imports(path, modules):
            if target != name:
                graph.add_edge(name, target)
    return graph


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {m.split(".")[1] if "." in m else "__init__" for m in _modules()}
    assert parts <= set(LAYERS), parts - set(LAYERS)


def test_no_import_points_up_a_layer() -> None:
    upward = [
        f"{source} (layer {_layer(source)}) imports {target} (layer {_layer(target)})"
        for source, target in _graph().edges
        if _layer(target) > _layer(source)
    ]
    assert upward == []


def test_no_files_import_each_other_in_a_loop() -> None:
    graph = _graph()
    graph.remove_edges_from([(s, t) for s, t in list(graph.edges) if t == "nader"])
    assert list(nx.simple_cycles(graph)) == []


def test_import_nader_ir_loads_neither_pluggy_nor_the_plugin_system() -> None:
    program = (
        "import sys, nader.ir; "
        "print(sorted(m for m in sys.modules if m == 'pluggy' or m.startswith('nader.plugins')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_no_module_in_the_package_exceeds_500_lines() -> None:
    long = {
        str(path.relative_to(REPO)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}
