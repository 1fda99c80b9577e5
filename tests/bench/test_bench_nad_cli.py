"""``nader bench nad`` as a user runs it: offline, resumed, replayed, and with warmed experience."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nader.cli.main import main

SUBSET = ["--blocks", "googlenet,convnext", "--limit", "3"]


def _bench(out: Path, *extra: str) -> dict:
    assert main(["bench", "nad", "--out", str(out), *SUBSET, *extra]) == 0
    return json.loads((out / "nad.json").read_text())


def _lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def _facts(tasks: list[dict]) -> list[tuple]:
    keys = (
        "ablation",
        "task",
        "executable",
        "implemented",
        "turns",
        "input_tokens",
        "output_tokens",
    )
    return sorted(tuple(t[k] for k in keys) for t in tasks)


def test_offline_bench_with_feedback_on_and_off_resumes_and_replays(tmp_path, capsys):
    first = tmp_path / "first"
    data = _bench(first, "--immediate-feedback", "on,off")
    printed = capsys.readouterr().out
    assert "level" in printed and "LIF, no LDE" in printed and "no LIF, no LDE" in printed
    tasks = data["tasks"]
    assert len(tasks) == 2 * 6  # 3 micro + 3 macro, two ablations
    assert {t["ablation"] for t in tasks} == {"lif-on_lde-off", "lif-off_lde-off"}
    for task in tasks:
        if task["level"] == "micro":
            assert task["implemented"] in (True, False) and task["checks"]
        else:  # the offline designer cannot judge
            assert task["implemented"] is None and task["judge"] == "not judged"
        assert task["success"] == (
            None if task["implemented"] is None else task["executable"] and task["implemented"]
        )
        assert task["input_tokens"] > 0 and task["turns"] >= 1
    rows = {(r["level"], r["ablation"]): r for r in data["table"]}
    assert rows[("micro", "lif-on_lde-off")]["tasks"] == 3
    assert rows[("macro", "lif-on_lde-off")]["Q"] is None

    # a second run finds everything done: no new line, same table
    again = _bench(first, "--immediate-feedback", "on,off")
    assert len(_lines(first)) == 12 and again["table"] == data["table"]

    # replay of the recording, offline: the same answers give the same results
    replayed = tmp_path / "replayed"
    _bench(
        replayed,
        "--immediate-feedback",
        "on,off",
        "--set",
        "llm.provider=replay",
        "--set",
        "llm.model=offline-designer",
        "--set",
        f"llm.replay_from={first}",
    )
    assert _facts(_lines(replayed)) == _facts(tasks)


def test_a_killed_bench_resumes_without_redoing_tasks(tmp_path):
    out = tmp_path / "bench"
    _bench(out, "--levels", "micro")
    done = _lines(out)
    kept = done[:1]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
    _bench(out, "--levels", "micro")
    redone = _lines(out)
    assert len(redone) == len(done) and redone[0] == kept[0]
    assert _facts(redone) == _facts(done)


def test_design_experience_warmed_from_the_authors_experience_file(tmp_path, official):
    out = tmp_path / "lde"
    source = official / "experiences" / "develop_experience.json"
    data = _bench(
        out, "--levels", "micro", "--design-experience", "on", "--experience-from", str(source)
    )
    assert all(t["ablation"] == "lif-on_lde-on" for t in data["tasks"])
    assert all(t["tips_used"] > 0 for t in data["tasks"])  # the warmed pool answered


@pytest.mark.slow
def test_whole_suite_offline(tmp_path):
    out = tmp_path / "all"
    assert main(["bench", "nad", "--out", str(out), "--immediate-feedback", "on,off"]) == 0
    data = json.loads((out / "nad.json").read_text())
    assert len(data["tasks"]) == 2 * 42


def test_design_experience_warmed_from_a_previous_bench(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    learned = _bench(first, "--levels", "micro", "--design-experience", "on")
    assert learned["tasks"][0]["tips_used"] == 0  # an empty pool has nothing to hand out yet
    warmed = _bench(
        second, "--levels", "micro", "--design-experience", "on", "--experience-from", str(first)
    )
    assert warmed["tasks"][0]["tips_used"] > 0
    assert (second / "lif-on_lde-on" / "memory").is_dir()


def test_a_misspelt_table_is_refused_and_session_tables_are_accepted(tmp_path, capsys):
    """One config serves a session and the bench, so the session's tables are read (and only
    [llm] and [agents] used); a table neither knows, such as a misspelt [agnets], is an error."""
    config = tmp_path / "bench.toml"
    config.write_text('[agnets]\nmax_try = 2\n[llm]\nprovider = "offline"\nmodel = "offline"\n')
    assert main(["bench", "nad", str(config), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "agnets" in err[0] and "did you mean 'agents'" in err[0], err
    assert not (tmp_path / "o").exists()
    # a misspelt key inside a table reads as in a session config: one line, the closest key
    config.write_text("[agents]\nmax_tyr = 2\n")
    assert main(["bench", "nad", str(config), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"nader: error: {config}: agents.max_tyr: unknown key (did you mean 'max_try'?)"]


def test_a_session_config_with_a_prescreen_runs_the_bench_on_single_dialogues(tmp_path):
    """The bench measures one Modifier dialogue per task: agents.prescreen_k is set to 1 there."""
    config = tmp_path / "session.toml"
    config.write_text(
        '[run]\nname = "x"\n[base]\nnetwork = "n.txt"\n[train]\nepochs = 1\n'
        '[llm]\nprovider = "offline"\nmodel = "offline-designer"\n'
        "[agents]\nprescreen_k = 3\n"
    )
    report = _bench(tmp_path / "o", str(config))
    assert report["tasks"] and all(t["turns"] >= 1 for t in report["tasks"])
