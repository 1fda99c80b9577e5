"""The authors' 25 network files check exactly as their own checker allows (corpus README)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ir_helpers import REPO_ROOT

from nader.ir import Role, check_text, default_registry

REGISTRY = default_registry()
#: The two files whose downsample blocks write out_channels=C*2 instead of dim.
REJECTED = {"blocks-cifar/block_9.txt", "blocks-cifar/block_10.txt"}


def imagenet_style(name: str) -> bool:
    """Files whose stems reduce H and W by 4: ``blocks/`` and the ``*_forRes50`` variants."""
    return name.startswith("blocks/") or "forRes50" in name


pytestmark = pytest.mark.corpus


def relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def test_every_corpus_block_checks_as_the_authors_checker_allows(corpus_blocks: Path) -> None:
    checked = 0
    for path in sorted(corpus_blocks.rglob("*.txt")):
        name = relative(path, corpus_blocks)
        imagenet = imagenet_style(name)
        report = check_text(
            path.read_text(encoding="utf-8"),
            REGISTRY,
            source=name,
            stem_scale=4 if imagenet else None,
        )
        assert report.syntax_error is None
        roles = [block.role for block in report.blocks]
        assert roles == [Role.CELL, Role.STEM, Role.DOWNSAMPLE], name
        for block in report.blocks:
            checked += 1
            if name in REJECTED and block.role is Role.DOWNSAMPLE:
                assert not block.valid
                (error,) = block.errors
                assert (
                    error.code == "output-shape" and error.block == block.name and error.node == 1
                )
                assert "out_channels=2*C" in error.message and "must follow dim" in error.message
                continue
            assert block.valid, f"{name} {block.name}: {block.feedback()}"
            assert block.hash and block.params and block.flops is not None
            if block.role is Role.STEM:
                assert block.stem_scale == (4 if imagenet else 1)
    assert checked == 75


def test_two_input_blocks_are_detected(corpus_blocks: Path) -> None:
    for path in sorted((corpus_blocks / "darts").glob("*.txt")):
        report = check_text(path.read_text(encoding="utf-8"), REGISTRY)
        cell, stem, down = report.blocks
        assert report.valid
        assert cell.structure is not None and cell.structure.two_input
        assert down.structure is not None and down.structure.two_input
        assert stem.structure is not None and not stem.structure.two_input
        assert cell.input_shape == (2, 64, 32, 32) and down.output_shape == (2, 64, 16, 16)


def test_imagenet_stems_need_the_stem_scale(corpus_blocks: Path) -> None:
    for path in sorted(
        p for p in corpus_blocks.rglob("*.txt") if imagenet_style(relative(p, corpus_blocks))
    ):
        text = path.read_text(encoding="utf-8")
        stem = check_text(text, REGISTRY, stem_scale=4).blocks[1]
        assert stem.valid and stem.output_shape == (2, 64, 8, 8)
        cifar = check_text(text, REGISTRY, stem_scale=1).blocks[1]
        assert not cifar.valid and "it reduces by 4" in cifar.errors[0].message


def test_the_46_node_cell(corpus_blocks: Path) -> None:
    path = corpus_blocks / "nas-bench-201" / "nasbench201_cifar100_acc76.txt"
    cell = check_text(path.read_text(encoding="utf-8"), REGISTRY).blocks[0]
    assert cell.valid and cell.structure is not None and len(cell.structure.order) == 46


def test_the_command_line_agrees(corpus_blocks: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "NADER_LOAD_PLUGINS": ""}
    files = sorted(corpus_blocks.rglob("*.txt"))
    names = [relative(p, corpus_blocks) for p in files]
    accepted = [
        str(p)
        for p, n in zip(files, names, strict=True)
        if not imagenet_style(n) and n not in REJECTED
    ]
    run = [sys.executable, "-m", "nader", "check", "--json"]
    result = subprocess.run(run + accepted, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    assert len(json.loads(result.stdout)) == len(accepted) == 18
    imagenet = [str(p) for p, n in zip(files, names, strict=True) if imagenet_style(n)]
    result = subprocess.run(
        run + ["--stem-scale", "4", *imagenet], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert len(json.loads(result.stdout)) == 5
    rejected = [str(corpus_blocks / name) for name in sorted(REJECTED)]
    result = subprocess.run(run + rejected, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    for payload in json.loads(result.stdout):
        assert [b["valid"] for b in payload["blocks"]] == [True, True, False]
