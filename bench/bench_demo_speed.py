"""Is the README's main command faster than real time? Wall and CPU seconds of the whole default
pipeline on the demo, per stage, as a user runs it.

    python bench/bench_demo_speed.py --label after [--runs 3]
        [--baseline CHECKOUT --baseline-label before] [--set KEY=VALUE ...]

Each run is `python -m f2f translate VIDEO --to hi` in a fresh process with an empty cache, so
start-up, model loading and every stage count, as on a first run. It records the process's wall
time (what the user waits for), the process tree's CPU seconds (f2f and its ffmpeg children,
from the kernel's rusage), the pipeline's own wall time and each stage's from the run report,
and the load average around the run. With `--baseline` (another checkout, e.g. a `git
worktree` of main) its runs alternate with this checkout's, so both see the same load. Wall
times only mean something on an otherwise idle machine: the load average says whether it was.
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

DEMO = REPO / "examples" / "obama_weekly_address_10s.mp4"


def one_run(checkout: Path, video: Path, sets: list[str], tmp: Path) -> dict[str, Any]:
    workdir, output = tmp / "cache", tmp / "dub.mp4"
    command = [sys.executable, "-m", "f2f", "translate", str(video), "--to", "hi",
               "--workdir", str(workdir), "-o", str(output), "-q"]
    for item in sets:
        command += ["--set", item]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    load_before = os.getloadavg()[0]
    cpu, wall = children_cpu_s(), time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=checkout, capture_output=True)
    wall, cpu = time.perf_counter() - wall, children_cpu_s() - cpu
    report = json.loads(output.with_suffix(".report.json").read_text())
    return {"process_wall_s": round(wall, 2), "process_cpu_s": round(cpu, 2),
            "pipeline_wall_s": report["total_wall_s"],
            "stages_wall_s": {s["stage"]: s["wall_s"] for s in report["steps"]},
            "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def summary(runs: list[dict[str, Any]], duration_s: float) -> dict[str, Any]:
    walls = [r["process_wall_s"] for r in runs]
    return {"process_wall_s_median": round(statistics.median(walls), 2),
            "process_wall_s_best": min(walls),
            "real_time_factor_median": round(statistics.median(walls) / duration_s, 3),
            "process_cpu_s_median": round(statistics.median(r["process_cpu_s"] for r in runs), 2),
            "pipeline_wall_s_median": round(statistics.median(r["pipeline_wall_s"]
                                                              for r in runs), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser, REPO / "bench" / "results" / "demo_speed.json")
    parser.add_argument("--video", type=Path, default=DEMO)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from f2f.media import probe

    info = probe(args.video)
    duration_s = info.frame_count / info.fps
    checkouts = ab_checkouts(args)
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in checkouts}
    for _ in range(args.runs):
        for label, checkout in checkouts.items():
            with tempfile.TemporaryDirectory(prefix="f2f-demo-speed-") as tmp:
                runs[label].append(one_run(checkout, args.video.resolve(), args.sets, Path(tmp)))
    results = load_results(args.out)
    for label, checkout in checkouts.items():
        results[label] = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores",
            "command": "python bench/bench_demo_speed.py " + " ".join(argv or sys.argv[1:]),
            "commit": git_commit(checkout),
            "interleaved_with": [other for other in checkouts if other != label],
            "input": str(args.video.relative_to(REPO) if args.video.is_relative_to(REPO)
                         else args.video),
            "input_duration_s": round(duration_s, 3),
            "settings": args.sets,
            **summary(runs[label], duration_s),
            "runs": runs[label],
        }
    save_results(args.out, results)
    print(json.dumps({label: {k: v for k, v in results[label].items()
                              if k.endswith(("_median", "_best"))} for label in checkouts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
