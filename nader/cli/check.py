"""``nader check`` and ``nader hash`` (DESIGN §2).

Exit codes: 0 when every block is valid, 1 when any block (or the file's syntax) is invalid,
2 on usage or I/O errors — a file that cannot be read is reported before anything is checked.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nader.errors import BlockSyntaxError, VerifyError
from nader.ir.canonical import canonical_hash
from nader.ir.check import FileReport, check_text
from nader.ir.graph import Role
from nader.ir.parser import parse_network


def _shape(text: str) -> tuple[int, int, int, int]:
    try:
        parts = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected B,C,H,W integers, got {text!r}") from None
    if len(parts) != 4 or any(p <= 0 for p in parts):
        raise argparse.ArgumentTypeError(f"expected four positive integers B,C,H,W, got {text!r}")
    return parts  # type: ignore[return-value]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_parser(subparsers: Any) -> None:
    check = subparsers.add_parser("check", help="verify block files (shapes, wiring, costs, hash)")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument(
        "--role",
        choices=["auto", "cell", "stem", "downsample"],
        default="auto",
        help="role of every block (auto: from the block's name, else its position)",
    )
    check.add_argument("--input-shape", type=_shape, metavar="B,C,H,W", help="probe input shape")
    check.add_argument("--dim", type=_positive, metavar="N", help="output channels at the probe")
    check.add_argument(
        "--stem-scale",
        type=_positive,
        metavar="N",
        help="require the stem to reduce H and W by exactly N (default: any integer reduction)",
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument(
        "--width", type=_positive, metavar="W", help="also report the whole network at this width"
    )
    check.add_argument("--skeleton", default="nader", help="network skeleton for --width")
    check.add_argument("--dataset", help="input size and classes for --width")
    check.set_defaults(handler=run_check)

    hash_ = subparsers.add_parser("hash", help="print the canonical hash of each block")
    hash_.add_argument("file", metavar="FILE")
    hash_.set_defaults(handler=run_hash)


def _read(path: str) -> str:
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise OSError(f"not UTF-8 text ({err.reason} at byte {err.start})") from err


def _read_all(paths: list[str], command: str) -> list[str] | None:
    """Every file's text, or ``None`` after reporting each file that cannot be read."""
    texts: list[str] = []
    failed = False
    for path in paths:
        try:
            texts.append(_read(path))
        except OSError as err:
            print(f"nader {command}: cannot read {path}: {err.strerror or err}", file=sys.stderr)
            failed = True
    return None if failed else texts


def _print_human(report: FileReport) -> None:
    for block in report.blocks:
        status = "ok" if block.valid else "INVALID"
        print(f"{report.file}: {block.name} [{block.role.value}] {status}")
        if block.valid:
            print(
                f"  input {block.input_shape} -> output {block.output_shape}  dim={block.probe.dim}"
                + (f"  stem scale {block.stem_scale}" if block.stem_scale else "")
            )
            print(f"  params {block.params:,}  flops {block.flops:,}  hash {block.hash}")
        for note in block.notes:
            print(f"  note: {note}")
        for error in block.errors:
            print(f"  error: {error}")
    if report.syntax_error is not None:
        where = f" {report.syntax_error.block}" if report.syntax_error.block else ""
        print(f"{report.file}:{where} INVALID (syntax error)")
        print("  " + str(report.syntax_error).replace("\n", "\n  "))


def run_check(args: argparse.Namespace, runtime: Any) -> int:
    role = None if args.role == "auto" else Role(args.role)
    texts = _read_all(args.files, "check")
    if texts is None:
        return 2
    reports = [
        check_text(
            text,
            runtime.operators,
            source=path,
            role=role,
            input_shape=args.input_shape,
            dim=args.dim,
            stem_scale=args.stem_scale,
        )
        for path, text in zip(args.files, texts, strict=True)
    ]
    networks = [_network_summary(report, args, runtime) for report in reports]
    if args.json:
        payload: Any = [
            {**r.to_dict(), **({"network": n} if n is not None else {})}
            for r, n in zip(reports, networks, strict=True)
        ]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        for report, summary in zip(reports, networks, strict=True):
            _print_human(report)
            if summary is not None and "error" in summary:
                print(f"  network: {summary['error']}")
            elif summary is not None:
                print(
                    f"  network on skeleton {summary['skeleton']}, dataset {summary['dataset']}, "
                    f"width {summary['width']}: params {summary['params']:,}  "
                    f"flops {summary['flops']:,}"
                )
    failed = any(n is not None and "error" in n for n in networks)
    return 0 if all(r.valid for r in reports) and not failed else 1


def _network_summary(
    report: FileReport, args: argparse.Namespace, runtime: Any
) -> dict[str, Any] | None:
    """With ``--width``: the whole network's params and FLOPs (IR only, no torch)."""
    if args.width is None or not report.valid or report.network is None:
        return None
    from nader.backends.costs import summarize_network
    from nader.errors import NaderError

    try:
        return summarize_network(
            report.network,
            runtime.operators,
            skeleton_name=args.skeleton,
            dataset_name=args.dataset,
            width=args.width,
        )
    except NaderError as err:
        return {"error": str(err)}


def run_hash(args: argparse.Namespace, runtime: Any) -> int:
    texts = _read_all([args.file], "hash")
    if texts is None:
        return 2
    try:
        network = parse_network(texts[0], args.file)
    except BlockSyntaxError as err:
        print(str(err), file=sys.stderr)
        return 1
    status = 0
    for block in network.blocks:
        try:
            digest = canonical_hash(block, runtime.operators)
        except VerifyError as err:
            status = 1
            for error in err.diagnostics:
                print(f"{args.file}: {error}", file=sys.stderr)
            continue
        print(f"{digest} {block.name}")
    return status
