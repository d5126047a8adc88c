"""CPU seconds of the default `viseme` lip sync on the demo, for before/after comparisons.

    python bench/bench_viseme_cpu.py --label after [--runs 3] [--workdir DIR]
        [--baseline CHECKOUT --baseline-label before]

Runs `f2f translate VIDEO --to hi --refresh lipsync` `--runs` times against one cache (a first
run fills it when empty), so only the lip-sync stage is redone, and records per run the process
tree's CPU seconds (user + sys of f2f and its ffmpeg children, from the kernel's rusage), the wall
time, the stage's own wall time and frames/s and its threads' CPU seconds, with the load average
around each run. CPU seconds are the honest figure on a shared machine: wall time grows with the
other users' load, CPU time hardly. Each `--label` is kept beside the others in the JSON
(default bench/results/viseme_cpu_demo.json), so a before and an after sit side by side.
With `--baseline` (another checkout of f2f, e.g. `git worktree add` or `git archive` of main)
its runs alternate with this checkout's, against the same cache, so both see the same load:
on a machine shared with other work, only such interleaved pairs compare fairly.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _ab import REPO, add_arguments, children_cpu_s, git_commit, load_results, save_results
from _ab import checkouts as ab_checkouts


def one_run(command: list[str], env: dict[str, str], checkout: Path, report: Path
            ) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    cpu, wall = children_cpu_s(), time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=checkout, capture_output=True)
    wall, cpu = time.perf_counter() - wall, children_cpu_s() - cpu
    step = next(s for s in json.loads(report.read_text())["steps"] if s["stage"] == "lipsync")
    metrics = step["metrics"]
    return {"process_cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
            "stage_wall_s": step["wall_s"], "frames": metrics["frames"],
            "frames_per_second": metrics["frames_per_second"],
            "thread_cpu_s": metrics["thread_cpu_s"],
            "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser, REPO / "bench" / "results" / "viseme_cpu_demo.json")
    parser.add_argument("--video", type=Path,
                        default=REPO / "examples" / "obama_weekly_address_10s.mp4")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="f2f cache to reuse (default: a temporary one, filled first)")
    args = parser.parse_args(argv)
    checkouts = ab_checkouts(args)
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in checkouts}
    with tempfile.TemporaryDirectory(prefix="f2f-viseme-cpu-") as tmp:
        workdir = args.workdir or Path(tmp) / "cache"
        output = Path(tmp) / "dub.mp4"
        base = [sys.executable, "-m", "f2f", "translate", str(args.video.resolve()), "--to",
                "hi", "--workdir", str(workdir), "-o", str(output)]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        subprocess.run(base, check=True, env=env, cwd=REPO, capture_output=True)  # fills
        for _ in range(args.runs):
            for label, checkout in checkouts.items():
                env = {**os.environ, "PYTHONPATH": str(checkout)}
                runs[label].append(one_run([*base, "--refresh", "lipsync"], env, checkout,
                                           output.with_suffix(".report.json")))
    results = load_results(args.out)
    for label, checkout in checkouts.items():
        cpu = [r["process_cpu_s"] for r in runs[label]]
        results[label] = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores "
                       "(shared)",
            "command": "python bench/bench_viseme_cpu.py " + " ".join(argv or sys.argv[1:]),
            "commit": git_commit(checkout),
            "interleaved_with": [other for other in checkouts if other != label],
            "input": str(args.video.relative_to(REPO) if args.video.is_relative_to(REPO)
                         else args.video),
            "process_cpu_s_median": round(statistics.median(cpu), 2),
            "frames_per_second_best": max(r["frames_per_second"] for r in runs[label]),
            "runs": runs[label],
        }
    save_results(args.out, results)
    print(json.dumps({label: {k: results[label][k] for k in ("process_cpu_s_median",
                                                             "frames_per_second_best")}
                      for label in checkouts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
