"""Aggregation and the two printed tables: NAD (paper Table 3) and search (paper Table 1).

Numbers are computed here from result records, never stored twice: the JSON output holds the
per-task (or per-run) records and the rows derived from them. ``mean ± std`` uses the sample
standard deviation (n - 1), the convention of the paper's 3-seed tables; one value has std 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MeanStd:
    mean: float
    std: float
    n: int

    def format(self, digits: int = 2, scale: float = 1.0) -> str:
        if self.n == 0:
            return "-"
        return f"{self.mean * scale:.{digits}f} ± {self.std * scale:.{digits}f}"

    def to_dict(self) -> dict[str, float | int]:
        return {"mean": self.mean, "std": self.std, "n": self.n}


def mean_std(values: Iterable[float | None]) -> MeanStd:
    """Mean and sample standard deviation of the values that are not None (NaN refused)."""
    kept = [float(v) for v in values if v is not None]
    if any(math.isnan(v) for v in kept):
        raise ValueError("mean_std: NaN among the values")
    if not kept:
        return MeanStd(math.nan, math.nan, 0)
    mean = sum(kept) / len(kept)
    if len(kept) == 1:
        return MeanStd(mean, 0.0, 1)
    variance = sum((v - mean) ** 2 for v in kept) / (len(kept) - 1)
    return MeanStd(mean, math.sqrt(variance), len(kept))


def rate(flags: Iterable[bool | None]) -> tuple[float | None, int]:
    """Share of True among the known flags (None = unknown, left out) and how many were known."""
    known = [bool(f) for f in flags if f is not None]
    return (sum(known) / len(known) if known else None, len(known))


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain fixed-width table (the CLI prints it; the JSON carries the numbers)."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- NAD (Table 3)


def nad_rows(results: Sequence[Any], ablation_labels: dict[str, str]) -> list[dict[str, Any]]:
    """Level × ablation → tasks, mean tokens per task, E, Q, SR, turns, dollars.

    ``results`` are :class:`~nader.bench.nad.TaskResult`-like records. Q and SR are rates over
    the tasks that were judged (``n_judged``); E over all tasks.
    """
    rows = []
    for level in ("micro", "macro"):
        for name, label in ablation_labels.items():
            chosen = [r for r in results if r.level == level and r.ablation == name]
            if not chosen:
                continue
            e_rate, _ = rate(r.executable for r in chosen)
            q_rate, judged = rate(r.implemented for r in chosen)
            sr_rate, _ = rate(r.success for r in chosen)
            rows.append(
                {
                    "level": level,
                    "ablation": name,
                    "label": label,
                    "tasks": len(chosen),
                    "judged": judged,
                    "input_tokens": mean_std(r.input_tokens for r in chosen).mean,
                    "output_tokens": mean_std(r.output_tokens for r in chosen).mean,
                    "E": e_rate,
                    "Q": q_rate,
                    "SR": sr_rate,
                    "turns": mean_std(r.turns for r in chosen).mean,
                    "cost_usd": sum(r.cost_usd + r.judge_cost_usd for r in chosen),
                }
            )
    return rows


def _pct(value: float | None) -> str:
    return "not judged" if value is None else f"{value:.2f}"


def format_nad_table(rows: Sequence[dict[str, Any]]) -> str:
    header = ["level", "ablation", "tasks", "tokens in/out", "E", "Q", "SR", "turns", "$"]
    body = [
        [
            r["level"],
            r["label"],
            f"{r['tasks']}" + (f" ({r['judged']} judged)" if r["judged"] != r["tasks"] else ""),
            f"{r['input_tokens']:.0f}/{r['output_tokens']:.0f}",
            _pct(r["E"]),
            _pct(r["Q"]),
            _pct(r["SR"]),
            f"{r['turns']:.2f}",
            f"{r['cost_usd']:.4f}",
        ]
        for r in rows
    ]
    return format_table(header, body)


# ---------------------------------------------------------------------------- search (Table 1)


@dataclass(frozen=True)
class RunFacts:
    """What one run directory says, in the order architectures were trained (ids ascending)."""

    strategy: str
    seed: str
    run_dir: str
    #: per architecture that used the budget, in order: its validation accuracy, or None for
    #: one stopped early (it counts toward k; its partial accuracy is never the best)
    valid: tuple[float | None, ...]
    best_test: float | None
    best_params: int | None
    best_flops: int | None
    tokens: int
    cost_usd: float
    wall_s: float | None

    def best_valid_after(self, k: int) -> float | None:
        """Best validation accuracy among the first k architectures trained (fully or stopped
        early; None if fewer, or if all k were stopped early)."""
        if len(self.valid) < k or k < 1:
            return None
        finished = [acc for acc in self.valid[:k] if acc is not None]
        return max(finished) if finished else None


def run_facts(
    summary: dict[str, Any], *, strategy: str, seed: str, run_dir: str, wall_s: float | None
) -> RunFacts:
    """Facts of a run from its ``summary.json``: trained architectures by id, the validation-best
    one's test accuracy (read once here for the report; the search never read it)."""
    spent = [
        a
        for a in summary.get("architectures", [])
        if a.get("status") in ("trained", "stopped_early") and a.get("valid_acc") is not None
    ]
    spent.sort(key=lambda a: int(a["id"]) if str(a["id"]).isdigit() else 0)
    trained = [a for a in spent if a["status"] == "trained"]
    best = max(trained, key=lambda a: a["valid_acc"], default=None)
    usage = summary.get("usage", {})
    return RunFacts(
        strategy=strategy,
        seed=seed,
        run_dir=run_dir,
        valid=tuple(float(a["valid_acc"]) if a["status"] == "trained" else None for a in spent),
        best_test=best.get("test_acc") if best else None,
        best_params=best.get("params") if best else None,
        best_flops=best.get("flops") if best else None,
        tokens=int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0)),
        cost_usd=float(usage.get("cost_usd", 0.0)),
        wall_s=wall_s,
    )


def search_rows(facts: Sequence[RunFacts], ks: Sequence[int]) -> list[dict[str, Any]]:
    """Strategy → best valid after each k (mean ± std over seeds), test of the valid-best,
    params, FLOPs, tokens and wall time (means over seeds)."""
    rows = []
    for strategy in dict.fromkeys(f.strategy for f in facts):
        runs = [f for f in facts if f.strategy == strategy]
        rows.append(
            {
                "strategy": strategy,
                "seeds": len(runs),
                "best_valid_after": {
                    str(k): mean_std(f.best_valid_after(k) for f in runs).to_dict() for k in ks
                },
                "test_of_valid_best": mean_std(f.best_test for f in runs).to_dict(),
                "params": mean_std(f.best_params for f in runs).to_dict(),
                "flops": mean_std(f.best_flops for f in runs).to_dict(),
                "tokens": mean_std(f.tokens for f in runs).to_dict(),
                "cost_usd": mean_std(f.cost_usd for f in runs).to_dict(),
                "wall_s": mean_std(f.wall_s for f in runs).to_dict(),
            }
        )
    return rows


def _ms(d: dict[str, Any], digits: int = 2, scale: float = 1.0) -> str:
    return MeanStd(d["mean"], d["std"], d["n"]).format(digits, scale)


def format_search_table(rows: Sequence[dict[str, Any]], ks: Sequence[int]) -> str:
    header = ["strategy", "seeds", *[f"valid@{k} (%)" for k in ks], "test of best (%)"]
    header += ["params (M)", "FLOPs (M)", "tokens", "wall (s)"]
    body = [
        [
            r["strategy"],
            str(r["seeds"]),
            *[_ms(r["best_valid_after"][str(k)], 2, 100) for k in ks],
            _ms(r["test_of_valid_best"], 2, 100),
            _ms(r["params"], 3, 1e-6),
            _ms(r["flops"], 2, 1e-6),
            _ms(r["tokens"], 0),
            _ms(r["wall_s"], 0),
        ]
        for r in rows
    ]
    return format_table(header, body)
