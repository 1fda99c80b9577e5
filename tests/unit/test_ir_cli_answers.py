"""``nader check --extract`` on pasted model answers and ``nader hash`` on invalid blocks, run as a
user runs them (``python -m nader`` in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ir_helpers import REPO_ROOT, chain

ANSWER = """Sure! Here is the block with a channel gate:

###Gate###
0:input
1:output
2:Conv2d(out_channels=C,kernel_size=3)
3:Sigmoid
4:Mul
0->2
2->3
2,3->4
4->1
```

###Gate_stem###
0:input
1:output
2:Conv2d(out_channels=dim,kernel_size=3)
0->2
2->1

This keeps the output shape.
"""


def nader(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "NADER_LOAD_PLUGINS": ""}
    return subprocess.run(
        [sys.executable, "-m", "nader", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_pasted_answer_is_rejected_as_a_file_and_checked_with_extract(tmp_path: Path) -> None:
    (tmp_path / "answer.md").write_text(ANSWER)
    plain = nader("check", "answer.md", cwd=tmp_path)
    assert plain.returncode == 1 and "syntax error" in plain.stdout
    extracted = nader("check", "--extract", "answer.md", "--json", cwd=tmp_path)
    assert extracted.returncode == 0, extracted.stdout
    payload = json.loads(extracted.stdout)
    assert [(b["name"], b["role"], b["valid"]) for b in payload["blocks"]] == [
        ("Gate", "cell", True),
        ("Gate_stem", "stem", True),
    ]
    assert payload["extracted"] == {"blocks": ["Gate", "Gate_stem"], "skipped": []}


def test_extract_reads_a_paste_from_stdin_and_says_what_it_left_out(tmp_path: Path) -> None:
    answer = ANSWER.replace("3:Sigmoid\n", "3:Sigmoid  // the gate\n")
    result = nader("check", "--extract", "-", cwd=tmp_path, stdin=answer)
    assert result.returncode == 1
    assert "Gate [cell] INVALID" in result.stdout
    assert "left out: '3:Sigmoid  // the gate'" in result.stdout
    nothing = nader("check", "--extract", "-", cwd=tmp_path, stdin="I cannot help with that.")
    assert nothing.returncode == 1 and "no block found" in nothing.stdout


def test_hash_of_an_invalid_block_exits_1_with_the_reason_and_no_hash(tmp_path: Path) -> None:
    # a cell whose output has 2C channels: nader check calls it invalid
    (tmp_path / "wide.txt").write_text(chain("Conv2d(out_channels=C*2,kernel_size=1)", name="W"))
    result = nader("hash", "wide.txt", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "wide.txt: W" in result.stderr and "[output-shape]" in result.stderr
