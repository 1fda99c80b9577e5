"""``nader compile``: fit a network file to a budget (or a width) and build it (DESIGN §2).

    nader compile FILE [--skeleton NAME] [--dataset NAME] [--depths 5,5,5]
                       [--width W | --max-params P --max-flops F] [--out model.py|model.onnx] [--json]

Without ``--width`` or a budget, the dataset's NAS-Bench-201 budget is used (1.5M params; 0.2
GFLOPs on CIFAR, 0.05 on ImageNet16-120). Giving ``--max-params`` and/or ``--max-flops`` replaces
that preset entirely (a bound not given is no bound). Budgets accept ``1.5M``, ``0.2G``, ``2e8``.
Exit codes: 0 compiled, 1 the network is invalid or no width fits, 2 usage or I/O errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nader.cli.check import _positive
from nader.errors import (
    BlockSyntaxError,
    ConfigError,
    PluginError,
    VerifyError,
    WidthSearchError,
)

_SUFFIXES = {"k": 1e3, "m": 1e6, "g": 1e9}


def parse_quantity(text: str) -> int:
    """``1.5M`` → 1_500_000, ``0.2G`` → 200_000_000, ``2e8`` and ``1_500_000`` as written."""
    cleaned = text.strip().replace("_", "").replace(",", "")
    scale = 1.0
    if cleaned and cleaned[-1].lower() in _SUFFIXES:
        scale = _SUFFIXES[cleaned[-1].lower()]
        cleaned = cleaned[:-1]
    try:
        value = float(cleaned) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number such as 1.5M or 2e8, got {text!r}"
        ) from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return int(round(value))


def _depths(text: str) -> tuple[int, ...]:
    return tuple(_positive(part) for part in text.split(","))


def add_parser(subparsers: Any) -> None:
    from nader.backends.skeletons import SKELETONS

    compile_ = subparsers.add_parser(
        "compile", help="fit a network file to a budget (or width), build it, export it"
    )
    compile_.add_argument("file", metavar="FILE")
    compile_.add_argument("--skeleton", default="nader", choices=sorted(SKELETONS))
    compile_.add_argument(
        "--dataset",
        help="a NAS-Bench-201 preset (cifar10, cifar100, ImageNet16-120, imagenet) or any "
        "registered dataset (see nader plugins; default: the skeleton's)",
    )
    compile_.add_argument("--depths", type=_depths, metavar="N,N,...", help="cells per stage")
    sizing = compile_.add_mutually_exclusive_group()
    sizing.add_argument(
        "--width", type=_positive, metavar="W", help="base width (stage 1 channels)"
    )
    sizing.add_argument("--max-params", type=parse_quantity, metavar="P")
    compile_.add_argument(
        "--max-flops", type=parse_quantity, metavar="F", help="per sample, NAS-Bench-201 convention"
    )
    compile_.add_argument(
        "--out", metavar="PATH", help="write model.py (PyTorch source) or model.onnx"
    )
    compile_.add_argument(
        "--class-name", default="Network", help="class name in a written model.py"
    )
    compile_.add_argument("--json", action="store_true", help="machine-readable output")
    compile_.set_defaults(handler=run_compile)


def _dataset(name: str, runtime: Any) -> Any:
    """A NAS-Bench-201 preset (with its budget) by name; otherwise any registered dataset.

    A registered dataset without a preset is loaded to learn its image shape and classes (what
    the training worker does), and has no budget: give ``--width`` or ``--max-params``.
    """
    from nader.backends.presets import dataset_preset, preset_for

    try:
        return dataset_preset(name)
    except ConfigError:
        if name not in runtime.datasets:
            known = ", ".join(sorted(runtime.datasets.names()))
            raise ConfigError(
                f"unknown dataset {name!r}; presets: cifar10, cifar100, ImageNet16-120, "
                f"imagenet; registered datasets: {known}"
            ) from None
    from nader.data.load import load_dataset

    return preset_for(load_dataset(name, runtime=runtime))


def _fail(message: str, code: int) -> int:
    print(f"nader compile: {message}", file=sys.stderr)
    return code


def run_compile(args: argparse.Namespace, runtime: Any) -> int:
    from nader.backends.skeletons import skeleton_named
    from nader.backends.width import CostBudget
    from nader.data.errors import DatasetError
    from nader.ir.parser import parse_network

    if args.width is not None and args.max_flops is not None:
        return _fail("--width and --max-flops exclude each other", 2)
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".py", ".onnx"):
        return _fail(f"--out must end in .py or .onnx, got {args.out!r}", 2)
    try:
        skeleton = skeleton_named(args.skeleton)
        if args.depths is not None:
            skeleton = skeleton.with_depths(args.depths)
        dataset = _dataset(args.dataset or skeleton.default_dataset, runtime)
    except (ConfigError, PluginError, DatasetError) as err:
        return _fail(str(err), 2)
    budget: CostBudget | None = None
    if args.width is None:
        if args.max_params is not None or args.max_flops is not None:
            budget = CostBudget(args.max_params, args.max_flops)
        elif dataset.max_params is not None or dataset.max_flops is not None:
            budget = CostBudget(dataset.max_params, dataset.max_flops)
        else:
            return _fail(
                f"dataset {dataset.name!r} has no budget preset; give --width or a budget", 2
            )
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return _fail(f"cannot read {args.file}: {err}", 2)

    from nader.backends.compiler import compile_network

    try:
        network = parse_network(text, args.file)
        result = compile_network(
            network,
            runtime.operators,
            runtime.lowerings,
            skeleton=skeleton,
            dataset=dataset,
            width=args.width,
            budget=budget,
        )
    except BlockSyntaxError as err:
        return _fail(str(err), 1)
    except VerifyError as err:
        return _fail(f"{args.file} is not a valid network:\n{err}", 1)
    except WidthSearchError as err:
        return _fail(str(err), 1)
    if out is not None:
        try:
            _write(result, out, args)
        except OSError as err:
            return _fail(f"cannot write {out}: {err}", 2)
    payload = {"file": args.file, **result.to_dict(), "out": str(out) if out else None}
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        _print_human(payload)
    return 0


def _write(result: Any, out: Path, args: argparse.Namespace) -> None:
    from nader.backends.export import export_onnx, network_source

    if out.suffix.lower() == ".onnx":
        export_onnx(result.module, (1, *result.plan.input_shape[1:]), out)
    else:
        source = network_source(
            result.plan, result.module, class_name=args.class_name, source=args.file
        )
        out.write_text(source, encoding="utf-8")


def _print_human(payload: dict[str, Any]) -> None:
    how = (
        "given"
        if payload["step"] is None
        else f"largest that fits, valid widths step {payload['step']}"
    )
    print(
        f"{payload['file']}: skeleton {payload['skeleton']} {tuple(payload['depths'])}, "
        f"dataset {payload['dataset']}"
    )
    print(f"  width {payload['width']} ({how})")
    print(f"  params {payload['params']:,}")
    print(
        f"  flops {payload['flops']:,}: NAS-Bench-201 convention (multiply-adds of Conv2d and Linear "
        "layers, biases included)"
    )
    print(
        f"  fvcore_flops {payload['fvcore_flops']:,}: fvcore's count of the built module "
        "(multiply-adds of conv, linear and matmul, biases not counted); matches the IR's "
        "own multiply-add count"
    )
    if payload["out"]:
        print(f"  wrote {payload['out']}")
