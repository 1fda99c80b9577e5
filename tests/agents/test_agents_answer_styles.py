"""``nader check --extract`` on model answers in the styles GPT-4o writes (``data/answer_styles``):
every verdict, block name and role as ``expected.json`` says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ANSWERS = Path(__file__).parent / "data" / "answer_styles"
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_answer_gets_the_expected_verdict_names_and_roles() -> None:
    expected = json.loads((ANSWERS / "expected.json").read_text())
    files = sorted(p.name for p in ANSWERS.glob("*.txt"))
    assert files == sorted(expected) and len(files) >= 12
    result = subprocess.run(
        [sys.executable, "-m", "nader", "check", "--extract", "--json", *files],
        cwd=ANSWERS,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "NADER_LOAD_PLUGINS": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr  # the two group=C answers are rejected
    for report in json.loads(result.stdout):
        want = expected[report["file"]]
        blocks = report["blocks"]
        assert [[b["name"], b["role"]] for b in blocks] == want["blocks"], report["file"]
        assert all(b["valid"] is want["valid"] for b in blocks), report["file"]
        if "message" in want:
            assert any(want["message"] in e["message"] for b in blocks for e in b["errors"])
        square_only = [b["square_only"] for b in blocks if b["square_only"]]
        assert bool(square_only) is want.get("square_only", False), report["file"]
