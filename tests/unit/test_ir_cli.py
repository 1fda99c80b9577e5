"""``nader check`` and ``nader hash`` run as a user runs them: ``python -m nader`` in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ir_helpers import REPO_ROOT, chain

from nader.ir import canonical_hash, default_registry, parse_network

BLOCK_KEYS = {
    "name",
    "role",
    "valid",
    "errors",
    "input_shape",
    "output_shape",
    "hash",
    "params",
    "flops",
}
ERROR_KEYS = {"node", "line", "code", "message"}

GOOD = (
    chain("Conv2d(out_channels=C,kernel_size=3)", "BN", "ReLU", name="Res")
    + chain("Conv2d(out_channels=dim,kernel_size=3,stride=2)", "BN", name="Res_stem")
    + chain("Conv2d(out_channels=dim,kernel_size=3,stride=2)", name="Res_downsample")
)
BAD = chain("Conv2d(out_channels=C*2,kernel_size=1)", name="Wide") + chain("Nope", name="Typo_stem")
SYNTAX = "##S##\n0:input\n1:output\n2:Conv2d(out_channels=C,kernel_size=3\n0->2\n2->1\n"


def nader(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "NADER_LOAD_PLUGINS": ""}
    return subprocess.run(
        [sys.executable, "-m", "nader", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "good": tmp_path / "good.txt",
        "bad": tmp_path / "bad.txt",
        "syntax": tmp_path / "syntax.txt",
    }
    paths["good"].write_text(GOOD)
    paths["bad"].write_text(BAD)
    paths["syntax"].write_text(SYNTAX)
    return paths


def test_check_json_for_one_valid_file(files: dict[str, Path]) -> None:
    result = nader("check", "good.txt", "--json", cwd=files["good"].parent)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"file", "blocks"} and payload["file"] == "good.txt"
    blocks = payload["blocks"]
    assert [b["name"] for b in blocks] == ["Res", "Res_stem", "Res_downsample"]
    assert [b["role"] for b in blocks] == ["cell", "stem", "downsample"]
    for block in blocks:
        assert set(block) >= BLOCK_KEYS and block["valid"] is True and block["errors"] == []
        assert re.fullmatch(r"[0-9a-f]{32}", block["hash"])
        assert isinstance(block["params"], int) and isinstance(block["flops"], int)
    cell_block, stem, down = blocks
    assert cell_block["input_shape"] == [2, 64, 32, 32] and cell_block["output_shape"] == [
        2,
        64,
        32,
        32,
    ]
    assert cell_block["params"] == 64 * 64 * 9 + 64 + 128
    assert stem["input_shape"] == [2, 3, 32, 32] and stem["output_shape"] == [2, 64, 16, 16]
    assert down["output_shape"] == [2, 128, 16, 16]
    network = parse_network(GOOD)
    assert cell_block["hash"] == canonical_hash(network.blocks[0], default_registry())


def test_check_json_for_several_files_with_errors(files: dict[str, Path]) -> None:
    result = nader("check", "good.txt", "bad.txt", "syntax.txt", "--json", cwd=files["good"].parent)
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert isinstance(payload, list) and [p["file"] for p in payload] == [
        "good.txt",
        "bad.txt",
        "syntax.txt",
    ]
    wide, typo = payload[1]["blocks"]
    assert wide["valid"] is False and typo["valid"] is False
    for error in wide["errors"] + typo["errors"]:
        assert set(error) == ERROR_KEYS
    assert [(e["code"], e["node"], e["line"]) for e in wide["errors"]] == [("output-shape", 1, 3)]
    assert [(e["code"], e["node"], e["line"]) for e in typo["errors"]] == [
        ("undefined-operator", 2, 10)
    ]
    (syntax,) = payload[2]["blocks"]
    assert set(syntax) >= BLOCK_KEYS and syntax["name"] == "S" and syntax["valid"] is False
    assert [(e["code"], e["line"]) for e in syntax["errors"]] == [("syntax", 4)]


def test_check_human_output(files: dict[str, Path]) -> None:
    ok = nader("check", str(files["good"]), cwd=files["good"].parent)
    assert ok.returncode == 0
    assert "Res [cell] ok" in ok.stdout and "stem scale 2" in ok.stdout
    bad = nader("check", "bad.txt", "syntax.txt", cwd=files["good"].parent)
    assert bad.returncode == 1
    assert "Wide [cell] INVALID" in bad.stdout and "[output-shape]" in bad.stdout
    assert "syntax.txt: S INVALID (syntax error)" in bad.stdout
    assert "   4 | 2:Conv2d(out_channels=C,kernel_size=3" in bad.stdout


def test_check_probe_options(tmp_path: Path) -> None:
    (tmp_path / "down.txt").write_text(
        chain("Conv2d(out_channels=dim,kernel_size=1,stride=2)", name="D_downsample")
    )
    (tmp_path / "stem.txt").write_text(
        chain("Conv2d(out_channels=dim,kernel_size=4,stride=4)", name="S_stem")
    )
    result = nader(
        "check", "down.txt", "--input-shape", "4,16,8,8", "--dim", "48", "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout
    (block,) = json.loads(result.stdout)["blocks"]
    assert block["input_shape"] == [4, 16, 8, 8] and block["output_shape"] == [4, 48, 4, 4]
    forced = nader("check", "down.txt", "--role", "cell", "--json", cwd=tmp_path)
    assert forced.returncode == 1 and json.loads(forced.stdout)["blocks"][0]["role"] == "cell"
    scale = nader("check", "stem.txt", "--stem-scale", "4", cwd=tmp_path)
    assert scale.returncode == 0 and "stem scale 4" in scale.stdout
    wrong = nader("check", "stem.txt", "--stem-scale", "2", cwd=tmp_path)
    assert wrong.returncode == 1 and "it reduces by 4" in wrong.stdout


def test_check_probes_at_the_datasets_image_size(files: dict[str, Path]) -> None:
    """``--dataset`` probes as a run on that dataset does (it was only read by ``--width``)."""
    folder = files["good"].parent
    for dataset, size in ((None, 32), ("imagenet16-120", 16), ("cifar100", 32)):
        extra = ["--dataset", dataset] if dataset else []
        result = nader("check", "good.txt", "--json", *extra, cwd=folder)
        assert result.returncode == 0, result.stdout + result.stderr
        cell = json.loads(result.stdout)["blocks"][0]
        assert cell["input_shape"] == [2, 64, size, size], (dataset, cell)
    explicit = nader(
        "check",
        "good.txt",
        "--json",
        "--dataset",
        "imagenet16-120",
        "--input-shape",
        "1,8,8,8",
        cwd=folder,
    )
    assert json.loads(explicit.stdout)["blocks"][0]["input_shape"] == [1, 8, 8, 8]
    unknown = nader("check", "good.txt", "--dataset", "nosuch", cwd=folder)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1, unknown.stderr
    assert "nosuch" in unknown.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["check", "good.txt", "--input-shape", "2,64,32"],
        ["check", "good.txt", "--input-shape", "2,0,32,32"],
        ["check", "good.txt", "--dim", "0"],
        ["check", "good.txt", "--role", "head"],
        ["check", "missing.txt"],
        ["check", "good.txt", "missing.txt", "--json"],
        ["check", "."],
        ["check", "latin1.txt"],
        ["hash", "missing.txt"],
        ["frobnicate"],
    ],
)
def test_usage_and_io_errors_exit_2(args: list[str], files: dict[str, Path]) -> None:
    (files["good"].parent / "latin1.txt").write_bytes(b"##Caf\xe9##\n0:input\n")
    result = nader(*args, cwd=files["good"].parent)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == "" or "usage" in result.stdout
    assert result.stderr


def test_hash(files: dict[str, Path], tmp_path: Path) -> None:
    result = nader("hash", "good.txt", cwd=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["Res", "Res_stem", "Res_downsample"]
    registry = default_registry()
    expected = [canonical_hash(b, registry) for b in parse_network(GOOD).blocks]
    assert [line.split(" ", 1)[0] for line in lines] == expected
    # an isomorphic rewrite hashes the same
    (tmp_path / "same.txt").write_text(
        "##Renamed##\n9:output\n5:ReLU\n4:BN\n3:Conv2d(C,3)\n0:input\n0->3\n3->4\n4->5\n5->9\n"
    )
    same = nader("hash", "same.txt", cwd=tmp_path)
    assert same.stdout.split()[0] == expected[0]
    broken = nader("hash", "bad.txt", cwd=tmp_path)
    # neither block is valid: no hash, the reasons on stderr
    assert broken.returncode == 1 and broken.stdout == ""
    assert "Wide: [output-shape]" in broken.stderr and "undefined-operator" in broken.stderr
    syntax = nader("hash", "syntax.txt", cwd=tmp_path)
    assert syntax.returncode == 1 and "line ends too early" in syntax.stderr
