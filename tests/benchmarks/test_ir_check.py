"""``check`` (parse + verify + hash) of the authors' 46-node cell, against their approach.

Baseline, measured in the same run: a re-implementation (written for this benchmark, not
copied) of how the authors' code checks a cell — a regex per line, Python ``eval`` of the
parameter text, and a walk that computes shapes. It runs only on the trusted corpus file: it
is exactly the unsafe approach nader replaces.

Run: ``PYTHONPATH=. python -m pytest tests/benchmarks/test_ir_check.py -p no:cacheprovider
--benchmark-only``. Goal: nader's check of the cell ≤ 1 ms. There is no module-level cache: the
parser caches argument lists within one text, and the registry keeps the bindings it validated.
The *cold* variant uses a registry that has bound nothing yet (a text whose nodes were never
seen), the warm one a registry that checked the same cell before.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from nader.ir import check_text, default_registry

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("NADER_CORPUS", REPO_ROOT / ".." / "shared" / "corpus"))
CELL_FILE = (
    CORPUS / "nader-official" / "blocks" / "nas-bench-201" / "nasbench201_cifar100_acc76.txt"
)
RESULTS: dict[str, float] = {}


@pytest.fixture(scope="module")
def cell_text() -> str:
    if not CELL_FILE.is_file():
        pytest.skip(f"corpus file not found: {CELL_FILE}")
    text = CELL_FILE.read_text(encoding="utf-8")
    return text[: text.index("\n##") + 1]  # the first block: the 46-node cell


# --------------------------------------------------------------- the authors' style, rebuilt

_NODE_LINE = re.compile(r"^(\d+):(\w+)(?:\((.*)\))?$")
_EDGE_LINE = re.compile(r"^([\d,]+)->(\d+)$")


def authors_style_check(text: str, batch: int = 2, channels: int = 64, size: int = 32) -> bool:
    """Regex-parse the lines, ``eval`` the parameters, walk the shapes; True when the output
    shape equals the input shape. Only for trusted text."""
    env = {"B": batch, "C": channels, "H": size, "W": size, "dim": channels}
    ops: dict[int, tuple[str, Any]] = {}
    inputs: dict[int, list[int]] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.startswith("##") else ""
        if not line:
            continue
        edge = _EDGE_LINE.match(line)
        if edge:
            inputs.setdefault(int(edge.group(2)), []).extend(
                int(s) for s in edge.group(1).split(",")
            )
            continue
        node = _NODE_LINE.match(line)
        assert node, line
        arguments = node.group(3) or ""
        if "=" in arguments:
            value: Any = eval(f"dict({arguments})", {"__builtins__": {"dict": dict}}, env)  # noqa: S307
        elif arguments:
            value = eval(f"({arguments},)", {"__builtins__": {}}, env)  # noqa: S307
        else:
            value = None
        ops[int(node.group(1))] = (node.group(2), value)
    order: list[int] = []
    pending = dict(inputs)
    ready = [n for n in ops if n not in pending]
    while ready:
        current = ready.pop()
        order.append(current)
        for target in list(pending):
            if all(s in order for s in pending[target]):
                del pending[target]
                ready.append(target)
    shapes: dict[int, tuple[int, ...]] = {}
    for node_id in order:
        op, p = ops[node_id]
        ins = [shapes[s] for s in inputs.get(node_id, [])]
        if op == "input":
            shapes[node_id] = (batch, channels, size, size)
        elif op == "Conv2d":
            b, _, h, w = ins[0]
            stride = p.get("stride", 1)
            shapes[node_id] = (b, p["out_channels"], -(-h // stride), -(-w // stride))
        elif op in ("Add", "Mul"):
            shapes[node_id] = tuple(max(dims) for dims in zip(*ins, strict=True))
        elif op == "AdaptiveAvgPool2d":
            shapes[node_id] = ins[0][:2] + (p["output_size"], p["output_size"])
        elif op == "reshape":
            shapes[node_id] = tuple(p)
        elif op == "Linear":
            shapes[node_id] = ins[0][:-1] + (p["out_channels"],)
        else:  # output, BN, ReLU, Sigmoid: shape-preserving
            shapes[node_id] = ins[0]
    output = next(n for n, (op, _) in ops.items() if op == "output")
    return shapes[output] == (batch, channels, size, size)


# ---------------------------------------------------------------------------------- benchmarks


@pytest.mark.benchmark(group="check-46-node-cell")
def test_nader_check(benchmark: Any, cell_text: str) -> None:
    registry = default_registry()
    report = benchmark.pedantic(check_text, (cell_text, registry), rounds=500, warmup_rounds=20)
    assert report.valid and report.blocks[0].hash
    RESULTS["nader"] = benchmark.stats.stats.mean


@pytest.mark.benchmark(group="check-46-node-cell")
def test_nader_check_cold_caches(benchmark: Any, cell_text: str) -> None:
    registry = default_registry()
    report = benchmark.pedantic(
        check_text, (cell_text, registry), setup=registry._bindings.clear, rounds=200
    )
    assert report.valid
    RESULTS["nader-cold"] = benchmark.stats.stats.mean


@pytest.mark.benchmark(group="check-46-node-cell")
def test_baseline_regex_and_eval(benchmark: Any, cell_text: str) -> None:
    assert benchmark.pedantic(authors_style_check, (cell_text,), rounds=500, warmup_rounds=20)
    baseline = benchmark.stats.stats.mean
    for name in ("nader", "nader-cold"):
        if name in RESULTS:
            benchmark.extra_info[f"baseline / {name}"] = round(baseline / RESULTS[name], 2)
    print(
        f"\ncheck of the 46-node cell: nader {RESULTS.get('nader', 0) * 1e3:.3f} ms, "
        f"cold {RESULTS.get('nader-cold', 0) * 1e3:.3f} ms, regex+eval baseline {baseline * 1e3:.3f} ms"
    )
