"""``nader export RUN_DIR [--arch ID|best] --out model.py|model.onnx|model.pt``.

Rebuilds an architecture of a run exactly as its worker built it (the run's skeleton and
dataset, the architecture's network text and width), loads its trained weights from
``arch/<id>/checkpoint.pt`` and writes:

* ``model.py``: readable PyTorch source of the architecture (no weights; nader never imports it);
* ``model.pt``: the trained state dict, whose keys are those of the module in ``model.py``;
* ``model.onnx``: the ONNX graph with the trained weights as initializers.

Exit codes: 0 written, 1 the architecture has no trained weights, 2 usage or I/O errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nader.errors import NaderError

_FORMATS = (".py", ".pt", ".onnx")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export", help="export a trained architecture of a run (model.py, model.pt, model.onnx)"
    )
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument(
        "--arch", default="best", metavar="ID|best", help="architecture id (default: best)"
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="PATH",
        help="model.py (source), model.pt (trained state dict for model.py) or model.onnx",
    )
    parser.add_argument("--class-name", default="Network", help="class name in a model.py")
    parser.set_defaults(handler=run_export)


def _fail(message: str, code: int) -> int:
    print(f"nader export: {message}", file=sys.stderr)
    return code


def resolve_arch(summary: dict[str, Any], wanted: str) -> dict[str, Any]:
    """The summary record of ``wanted`` (an id, or ``best`` for the run's best by validation)."""
    archs = {str(a.get("id")): a for a in summary.get("architectures", [])}
    ident = summary.get("best") if wanted == "best" else wanted
    if ident is None:
        raise NaderError("the run has no best architecture yet (nothing trained)")
    if str(ident) not in archs:
        known = ", ".join(archs) or "none"
        raise NaderError(f"no architecture {ident!r} in the run; known: {known}")
    return archs[str(ident)]


def run_export(args: argparse.Namespace, runtime: Any) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in _FORMATS:
        return _fail(f"--out must end in {', '.join(_FORMATS)}, got {args.out!r}", 2)
    run_dir = Path(args.run_dir)
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        return _fail(f"{run_dir} is not a readable nader run directory: {err}", 2)
    arch = resolve_arch(summary, str(args.arch))
    arch_id = str(arch["id"])
    checkpoint = run_dir / "arch" / arch_id / "checkpoint.pt"
    if not checkpoint.exists():
        return _fail(f"architecture {arch_id} has no trained weights ({checkpoint} missing)", 1)
    result = compile_trained(run_dir, arch, config, runtime)
    from nader.backends.export import (
        export_onnx,
        load_trained_weights,
        network_source,
        save_state_dict,
    )

    load_trained_weights(result.module, checkpoint)
    suffix = out.suffix.lower()
    try:
        if suffix == ".onnx":
            export_onnx(result.module, (1, *result.plan.input_shape[1:]), out)
        elif suffix == ".pt":
            save_state_dict(result.module, out)
        else:
            source = network_source(
                result.plan,
                result.module,
                class_name=args.class_name,
                source=f"{run_dir} architecture {arch_id}",
            )
            out.write_text(source, encoding="utf-8")
    except OSError as err:
        return _fail(f"cannot write {out}: {err}", 2)
    print(f"{out}: architecture {arch_id} (width {result.width}, {result.params:,} params)")
    return 0


def compile_trained(
    run_dir: Path, arch: dict[str, Any], config: dict[str, Any], runtime: Any
) -> Any:
    """Compile ``arch`` as the training worker did: same skeleton, dataset shape and width."""
    from nader.backends.compiler import compile_network
    from nader.backends.presets import preset_for
    from nader.backends.skeletons import skeleton_named
    from nader.data.load import load_dataset
    from nader.ir.parser import parse_network

    arch_id = str(arch["id"])
    network_file = run_dir / "arch" / arch_id / "network.txt"
    try:
        text = network_file.read_text(encoding="utf-8")
    except OSError as err:
        raise NaderError(f"cannot read {network_file}: {err}") from err
    dataset_cfg = config.get("dataset", {})
    data = load_dataset(
        dataset_cfg.get("name", "digits"),
        data_dir=dataset_cfg.get("data_dir"),
        split_file=dataset_cfg.get("split_file"),
        seed=int(dataset_cfg.get("seed", 0)),
        runtime=runtime,
    )
    width = arch.get("width")
    if width is None:
        raise NaderError(f"architecture {arch_id} has no width in summary.json")
    return compile_network(
        parse_network(text, str(network_file)),
        runtime.operators,
        runtime.lowerings,
        skeleton=skeleton_named(config.get("base", {}).get("skeleton", "nader")),
        dataset=preset_for(data),
        width=int(width),
    )
