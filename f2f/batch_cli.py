"""`python -m f2f batch INPUTS... --to hi --out DIR`: builds a config and calls `run_batch`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from f2f.cli_config import add_config_flags, config_from_args
from f2f.progress import ProgressEvent


def add_batch_parser(sub: Any) -> None:
    p = sub.add_parser(
        "batch", help="translate many videos (files, folders, .txt/.csv manifests)",
        description="Every video with the same config into OUT/<name>/; a rerun skips "
                    "finished videos. Manifest rows may add translation=, dub_audio=, face=, "
                    "name= per video (see docs/batch.md).")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="video files, folders of videos, or .txt/.csv manifests")
    p.add_argument("--out", required=True, metavar="DIR", help="one folder per video in here")
    p.add_argument("--engine", default="local", choices=("local", "ray"),
                   help="local: a process pool here (default); ray: tasks on a Ray cluster "
                        "(RAY_ADDRESS, or a local instance)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local: worker processes (default: one per two cores); ray: CPUs of "
                        "the local instance it starts (ignored when joining a cluster)")
    p.add_argument("--max-retries", type=int, default=2, metavar="N",
                   help="runs again a video whose worker died, up to N times (default: 2)")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="Ray cluster to join (default: RAY_ADDRESS, else a local instance)")
    p.add_argument("--cpus-per-video", type=float, default=1.0, metavar="N",
                   help="ray: CPUs each video's task asks for (default: 1)")
    p.add_argument("--gpus-per-video", type=float, metavar="N",
                   help="ray: GPUs each task asks for (default: 1 when --device is not cpu "
                        "and the cluster has GPUs, else 0)")
    p.add_argument("--chunk-s", type=float, metavar="SECONDS",
                   help="cut videos longer than 1.5x this at silences about every SECONDS, "
                        "translate the chunks on different workers, join them")
    add_config_flags(p)


class _VideoBar:
    """One tqdm bar over the batch's videos."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None  # a tqdm bar once the first event says how many videos

    def __call__(self, event: ProgressEvent) -> None:
        if not self.enabled or event.stage != "batch":
            return
        if self._bar is None:
            from tqdm import tqdm

            total = int(event.message.split()[0].split("/")[1])  # events say "k/N ..."
            self._bar = tqdm(total=total, desc="videos", unit="video", file=sys.stderr)
        self._bar.n = round(event.fraction * self._bar.total)
        self._bar.set_postfix_str(event.message.partition(" ")[2][:40], refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _table(summary: Any) -> str:
    lines = [f"  {'video':<24} {'status':<8} {'time':>8} {'RTF':>6}  error"]
    for row in summary.rows:
        rtf = f"{row.realtime_factor:.2f}" if row.realtime_factor is not None else "-"
        lines.append(f"  {row.name[:24]:<24} {row.status:<8} {row.wall_s:>7.1f}s {rtf:>6}  "
                     f"{row.error}")
    return "\n".join(lines)


def run_batch_command(args: argparse.Namespace) -> int:
    from f2f.batch import run_batch
    from f2f.batch_engines import make_engine

    config = config_from_args(args)
    options = {}
    if args.engine == "ray":
        options = {"address": args.ray_address, "cpus_per_video": args.cpus_per_video,
                   "gpus_per_video": args.gpus_per_video}
    engine = make_engine(args.engine, args.workers, args.max_retries, **options)
    bar = _VideoBar(enabled=not args.quiet and sys.stderr.isatty())
    try:
        summary = run_batch(args.inputs, args.out, config, engine, workdir=args.workdir,
                            use_cache=not args.no_cache, refresh=tuple(args.refresh),
                            progress=bar, quiet_workers=not args.verbose,
                            chunk_s=args.chunk_s)
    finally:
        bar.close()
    if not args.quiet:
        print(_table(summary), file=sys.stderr)
        counts = {s: sum(r.status == s for r in summary.rows) for s in ("done", "skipped")}
        print(f"{counts['done']} done, {counts['skipped']} done earlier, "
              f"{len(summary.failed)} failed in {summary.wall_s:.1f} s "
              f"({summary.engine}, {summary.workers} worker(s)); report: "
              f"{summary.report_paths['json']}", file=sys.stderr)
    return 1 if summary.failed else 0
