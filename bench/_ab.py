"""What the interleaved A/B benchmarks share (bench_viseme_cpu, bench_demo_speed): the checkouts
whose runs alternate, the CPU seconds and commit of each, and the results file, where each
label's entry sits beside the others'."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def git_commit(checkout: Path) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout, check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def add_arguments(parser: argparse.ArgumentParser, default_out: Path) -> None:
    parser.add_argument("--label", required=True, help="name of this measurement, e.g. after")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another f2f checkout whose runs alternate with this one's")
    parser.add_argument("--baseline-label", default="before")


def checkouts(args: argparse.Namespace) -> dict[str, Path]:
    """Label -> checkout, the baseline first: each round runs them in this order."""
    mine = {args.label: REPO}
    return mine if args.baseline is None else {args.baseline_label: args.baseline.resolve(),
                                               **mine}


def load_results(out: Path) -> dict[str, Any]:
    return json.loads(out.read_text()) if out.is_file() else {}


def save_results(out: Path, results: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps(results, indent=2) + "\n")
    partial.replace(out)  # a reader never sees half a file
