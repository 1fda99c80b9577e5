"""``nader check`` and ``nader hash`` (DESIGN §2).

Exit codes: 0 when every block is valid, 1 when any block (or the file's syntax) is invalid,
2 on usage or I/O errors — a file that cannot be read is reported before anything is checked.

``nader check --extract`` reads each FILE (``-``: standard input, for a paste) as a model answer:
the blocks are taken out of prose and ``` fences by the same step the agents use
(:func:`nader.agents.extraction.extract_blocks`), then checked. It is a flag, not a guess: a block
file stays strict (a stray line in it is a syntax error, never silently dropped), and the lines
extraction leaves out of a block are listed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nader.errors import BlockSyntaxError
from nader.ir.check import FileReport, check_network, check_text
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
    check.add_argument("files", nargs="+", metavar="FILE", help="block file ('-': stdin)")
    check.add_argument(
        "--extract",
        action="store_true",
        help="read each FILE as a model answer: take the blocks out of prose and ``` fences "
        "(as the agents do), then check them",
    )
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
    check.add_argument(
        "--dataset",
        help="probe the blocks at this dataset's image size (unless --input-shape); with "
        "--width, also its classes",
    )
    check.set_defaults(handler=run_check)

    hash_ = subparsers.add_parser("hash", help="print the canonical hash of each block")
    hash_.add_argument("file", metavar="FILE")
    hash_.set_defaults(handler=run_hash)


def _read(path: str) -> str:
    data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
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


def _extracted(text: str) -> tuple[str | None, dict[str, list[str]]]:
    """The blocks of a model answer as block text (``None``: none found), and what was taken."""
    from nader.agents.extraction import extract_blocks

    blocks = extract_blocks(text, ("Block",))
    found = {"blocks": [b.name for b in blocks], "skipped": [s for b in blocks for s in b.skipped]}
    return ("".join(b.text for b in blocks) or None), found


def _no_block(path: str) -> FileReport:
    message = "no block found in the answer: expected a ##Name## header, N:Op(...) and A->B lines"
    error = BlockSyntaxError(message, line=1, column=1, source=path)
    return FileReport(file=path, syntax_error=error)


def run_check(args: argparse.Namespace, runtime: Any) -> int:
    role = None if args.role == "auto" else Role(args.role)
    image_size = _dataset_image_size(args.dataset)
    texts = _read_all(args.files, "check")
    if texts is None:
        return 2
    reports = []
    extracted: list[dict[str, list[str]] | None] = []
    for path, text in zip(args.files, texts, strict=True):
        found = None
        if args.extract:
            block_text, found = _extracted(text)
            if block_text is None:
                reports.append(_no_block(path))
                extracted.append(found)
                continue
            text = block_text
        extracted.append(found)
        reports.append(
            check_text(
                text,
                runtime.operators,
                source=path,
                role=role,
                input_shape=args.input_shape,
                dim=args.dim,
                stem_scale=args.stem_scale,
                image_size=image_size,
            )
        )
    networks = [_network_summary(report, args, runtime) for report in reports]
    if args.json:
        payload: Any = [
            {
                **r.to_dict(),
                **({"network": n} if n is not None else {}),
                **({"extracted": e} if e is not None else {}),
            }
            for r, n, e in zip(reports, networks, extracted, strict=True)
        ]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        for report, summary, found in zip(reports, networks, extracted, strict=True):
            if found is not None:
                print(f"{report.file}: extracted {len(found['blocks'])} block(s) from the answer")
                for line in found["skipped"]:
                    print(f"  left out: {line!r} (not a node or edge line)")
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


def _dataset_image_size(name: str | None) -> tuple[int, int] | None:
    """(H, W) of a known dataset's images, as a run on it probes its blocks (IR only: the
    dataset presets, no data read).

    :raises ConfigError: a dataset with no preset (one line; the CLI exits 2).
    """
    if name is None:
        return None
    from nader.backends.presets import dataset_preset

    size = dataset_preset(name).image_size
    return (size, size)


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
    """The canonical hash of each valid block; an invalid block (what ``nader check`` rejects)
    gets no hash, its errors go to stderr, and the exit status is 1."""
    texts = _read_all([args.file], "hash")
    if texts is None:
        return 2
    try:
        network = parse_network(texts[0], args.file)
    except BlockSyntaxError as err:
        print(str(err), file=sys.stderr)
        return 1
    status = 0
    for report in check_network(network, runtime.operators):
        if not report.valid or report.hash is None:
            status = 1
            for error in report.errors:
                print(f"{args.file}: {report.name}: {error}", file=sys.stderr)
            continue
        print(f"{report.hash} {report.name}")
    return status
