"""What a worker does with one candidate: compile its network text, train it, report numbers.

Runs in a worker process (local executor) or a Ray task, so it takes and returns plain JSON-able
dicts. The network text was verified before it was queued and is parsed here again by our own
parser — it is data, never code. The compile step confirms the analytic costs with fvcore.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def train_candidate(payload: dict[str, Any]) -> dict[str, Any]:
    """Compile ``payload["network_text"]`` at ``payload["width"]`` and train it.

    Returns the trainer's job output (``status``, ``valid_acc``, ``test_acc``, ``epochs`` ...)
    plus ``params``, ``flops`` and ``fvcore_flops`` of the compiled network.
    """
    import torch

    from nader.backends.compiler import compile_network
    from nader.backends.skeletons import skeleton_named
    from nader.backends.train import TrainConfig, build_seeded, train_model
    from nader.data import load_dataset
    from nader.ir.parser import parse_network
    from nader.plugins.manager import build_runtime

    threads = payload.get("threads")
    if threads:
        torch.set_num_threads(int(threads))
    runtime = build_runtime()
    dataset_cfg = payload["dataset"]
    data = load_dataset(
        dataset_cfg["name"],
        data_dir=dataset_cfg.get("data_dir"),
        split_file=dataset_cfg.get("split_file"),
        seed=int(dataset_cfg.get("seed", 0)),
        runtime=runtime,
    )
    preset = preset_for(data)
    network = parse_network(payload["network_text"], f"architecture {payload['arch_id']}")
    config = TrainConfig.model_validate(payload["train"])

    built: dict[str, Any] = {}

    def build() -> torch.nn.Module:
        built["result"] = compile_network(
            network,
            runtime.operators,
            runtime.lowerings,
            skeleton=skeleton_named(payload["skeleton"]),
            dataset=preset,
            width=int(payload["width"]),
        )
        return built["result"].module

    model = build_seeded(build, config.seed)
    compiled = built["result"]
    checkpoint = payload.get("checkpoint")
    result = train_model(
        model, data, config, checkpoint_path=Path(checkpoint) if checkpoint else None
    )
    output = result.as_job_output()
    output.update(
        params=compiled.params,
        flops=compiled.flops,
        fvcore_flops=compiled.fvcore_flops,
        width=compiled.width,
    )
    return output


def preset_for(data: Any, max_params: int | None = None, max_flops: int | None = None) -> Any:
    """The compiler's view of a loaded dataset (classes, channels, square image size, budget)."""
    from nader.backends.presets import DatasetPreset
    from nader.errors import ConfigError

    height, width = data.image_size
    if height != width:
        raise ConfigError(
            f"dataset {data.name!r} has {height}x{width} images; skeletons need square ones"
        )
    return DatasetPreset(
        name=data.name,
        num_classes=data.num_classes,
        image_size=height,
        channels=data.channels,
        max_params=max_params,
        max_flops=max_flops,
    )
