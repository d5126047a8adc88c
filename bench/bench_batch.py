"""Batch speed-up: the same videos with 1 and with 2 workers, on the local pool and on Ray.

    python bench/bench_batch.py --out bench/results/batch_workers.json
    python bench/bench_batch.py --clips 8 --engines local --workers 1,2,4 --set lipsync=none

Each run is a fresh `python -m f2f batch` with its own empty workdir (nothing cached), over the
first N GRID clips of ../shared/data/grid. The JSON holds wall times, speed-ups over one worker,
per-video real-time factors, and the load average before and after each run: on a shared
machine the figures are pessimistic, and the load says how shared it was.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("F2F_SHARED") or REPO.parent / "shared") / "data"


def run_batch(clips: list[Path], engine: str, workers: int, sets: list[str],
              timeout_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="f2f-bench-batch-") as tmp:
        out = Path(tmp) / "out"
        command = [sys.executable, "-m", "f2f", "-q", "batch", *map(str, clips), "--out",
                   str(out), "--workdir", str(Path(tmp) / "work"), "--engine", engine,
                   "--workers", str(workers)]
        for pair in sets:
            command += ["--set", pair]
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        load_before = os.getloadavg()
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=timeout_s, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"batch failed ({engine}, {workers} workers): {done.stderr[-2000:]}")
        report = json.loads((out / "batch_report.json").read_text(encoding="utf-8"))
    videos = report["videos"]
    media_s = sum(v["duration_s"] or 0 for v in videos)
    return {"engine": engine, "workers": workers, "wall_s": round(wall, 2),
            "batch_wall_s": report["wall_s"], "videos": len(videos),
            "media_s": round(media_s, 2), "batch_rtf": round(wall / media_s, 3),
            "per_video_rtf": [v["realtime_factor"] for v in videos],
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=4, help="first N GRID clips (default 4)")
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--set", action="append", default=["vc=none"],
                        help="config overrides for every run (default: vc=none)")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" /
                        "batch_workers.json")
    args = parser.parse_args(argv)
    clips = sorted((SHARED / "grid").glob("*.mpg"))[: args.clips]
    if len(clips) < args.clips:
        raise SystemExit(f"need {args.clips} GRID clips in {SHARED / 'grid'}")
    runs = []
    for engine in args.engines.split(","):
        for workers in (int(w) for w in args.workers.split(",")):
            print(f"{engine}, {workers} worker(s) ...", file=sys.stderr, flush=True)
            runs.append(run_batch(clips, engine, workers, args.set, args.timeout))
            print(f"  {runs[-1]['wall_s']} s", file=sys.stderr, flush=True)
    for run in runs:
        one = next((r for r in runs if r["engine"] == run["engine"] and r["workers"] == 1), None)
        run["speedup_vs_1_worker"] = round(one["wall_s"] / run["wall_s"], 3) if one else None
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "processor": platform.processor() or platform.machine(),
                          "note": "shared with other jobs while measured: pessimistic"},
              "command": " ".join([Path(sys.executable).name, *sys.argv]),
              "clips": [c.name for c in clips], "sets": args.set, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
