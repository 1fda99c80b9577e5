"""The ``register_trackers`` hook and the built-in trackers, without a session: what a tracker
writes is read back by TensorBoard's own reader, and a failing tracker never stops a run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from nader import hookimpl
from nader.errors import ConfigError
from nader.plugins import build_runtime
from nader.tracking import ArchitectureEvent, TrackerFanOut, TrackingConfig, build_trackers

HISTORY = [
    {
        "epoch": e,
        "train_loss": 2.0 / e,
        "train_acc": 0.3 * e,
        "valid_acc": 0.25 * e,
        "lr": 0.1,
        "images_per_second": 900.0,
        "seconds": 1.5,
    }
    for e in (1, 2, 3)
]


def record(arch_id: str, acc: float | None, status: str = "trained") -> dict[str, Any]:
    return {
        "id": arch_id,
        "status": status,
        "valid_acc": acc,
        "params": 1000,
        "flops": 5000,
        "extra": {"history": HISTORY},
    }


class Collecting:
    def __init__(self, config: TrackingConfig, run_dir: Path) -> None:
        self.calls: list[tuple[str, Any]] = []
        COLLECTED.append(self)

    def on_epoch(self, arch_id: str, item: Mapping[str, Any]) -> None:
        self.calls.append(("epoch", arch_id))

    def on_architecture(self, event: ArchitectureEvent) -> None:
        self.calls.append(("arch", (event.index, event.best_id, event.best_valid_acc)))

    def on_run_end(self, summary: Mapping[str, Any]) -> None:
        self.calls.append(("end", summary["best"]))

    def close(self) -> None:
        self.calls.append(("close", None))


class Broken(Collecting):
    def on_architecture(self, event: ArchitectureEvent) -> None:
        raise RuntimeError("disk full")


COLLECTED: list[Collecting] = []


class TrackerPlugin:
    @hookimpl
    def register_trackers(self, register: Any) -> None:
        register("collect", Collecting)
        register("broken", Broken)


def test_a_plugin_tracker_gets_every_call_and_the_best_so_far(tmp_path: Path) -> None:
    COLLECTED.clear()
    runtime = build_runtime(load_entry_points=False, extra_plugins=[("trk", TrackerPlugin())])
    assert runtime.plugin("trk").registered == {"trackers": ["collect", "broken"]}
    fan = build_trackers(TrackingConfig(trackers=["broken", "collect"]), runtime, tmp_path)
    fan.on_epoch("0", HISTORY[0])
    fan.on_architecture(record("0", 0.5), {})
    fan.on_architecture(record("1", None, "no_progress"), {})
    fan.on_architecture(record("2", 0.7), {})
    fan.on_run_end({"best": "2"})
    fan.close()
    broken, collect = COLLECTED
    assert fan.names == ["collect"] and "disk full" in fan.problems[0]
    assert collect.calls == [
        ("epoch", "0"),
        ("arch", (1, "0", 0.5)),
        ("arch", (2, "0", 0.5)),
        ("arch", (3, "2", 0.7)),
        ("end", "2"),
        ("close", None),
    ]


def test_an_unknown_tracker_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no tracker named 'wandb'; available: jsonl, mlflow"):
        build_trackers(TrackingConfig(trackers=["wandb"]), build_runtime(), tmp_path)


def test_tensorboard_events_read_back_with_tensorboards_reader(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    fan = build_trackers(
        TrackingConfig(trackers=["tensorboard"]), build_runtime(load_entry_points=False), tmp_path
    )
    fan.on_epoch("0", HISTORY[0])  # live epochs first; the record's history must not repeat it
    fan.on_architecture(record("0", 0.5), {"input_tokens": 10, "output_tokens": 2})
    fan.on_architecture(record("1", 0.8), {"input_tokens": 30, "output_tokens": 5})
    fan.on_run_end({"best": "1", "usage": {"input_tokens": 42, "output_tokens": 6}})
    fan.close()
    events = EventAccumulator(str(tmp_path / "tracking" / "tensorboard"))
    events.Reload()
    curve = events.Scalars("arch/0/valid_acc")
    assert [(s.step, round(s.value, 4)) for s in curve] == [(1, 0.25), (2, 0.5), (3, 0.75)]
    assert [s.value for s in events.Scalars("run/best_valid_acc")] == pytest.approx([0.5, 0.8])
    assert [(s.step, s.value) for s in events.Scalars("llm/input_tokens")] == [
        (1, 10),
        (2, 30),
        (3, 42),
    ]
    assert "arch/1/train_loss" in events.Tags()["scalars"]


def test_jsonl_tracker_writes_one_object_per_event(tmp_path: Path) -> None:
    import json

    fan = build_trackers(
        TrackingConfig(trackers=["jsonl"], dir="mirror"), build_runtime(), tmp_path
    )
    fan.on_epoch("0", HISTORY[0])
    fan.on_architecture(record("0", 0.5), {})
    fan.on_run_end({"best": "0", "usage": {}})
    fan.close()
    lines = [json.loads(x) for x in (tmp_path / "mirror" / "events.jsonl").read_text().splitlines()]
    assert [x["event"] for x in lines] == ["epoch", "architecture", "run_end"]
    assert lines[1]["best_id"] == "0" and lines[0]["valid_acc"] == 0.25


def test_mlflow_without_its_extra_says_which_extra(tmp_path: Path) -> None:
    try:
        import mlflow  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("mlflow is installed")
    with pytest.raises(ConfigError, match=r"pip install 'nader\[mlflow\]'"):
        build_trackers(TrackingConfig(trackers=["mlflow"]), build_runtime(), tmp_path)


def test_an_empty_fan_out_does_nothing() -> None:
    fan = TrackerFanOut()
    fan.on_epoch("0", HISTORY[0])
    fan.on_architecture(record("0", 0.5), {})
    fan.on_run_end({})
    fan.close()
    assert fan.names == [] and fan.problems == []
