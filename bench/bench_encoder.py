"""x264 presets and thread counts for the lip-sync output: CPU time, wall time, size and PSNR
against the decoded source frames (what the loop feeds the encoder), on the demo clip.

    python bench/bench_encoder.py --out bench/results/encoder_720p.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_INPUT = REPO / "examples" / "obama_weekly_address_10s.mp4"
SETTINGS = (("veryfast", 0), ("superfast", 0), ("superfast", 1), ("ultrafast", 0),
            ("ultrafast", 1))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def encode(ffmpeg: str, raw: Path, size: str, fps: float, preset: str, threads: int,
           out: Path) -> dict[str, Any]:
    cpu, started = _children_cpu(), time.perf_counter()
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", size,
                    "-r", f"{fps:.6f}", "-i", str(raw), "-c:v", "libx264", "-preset", preset,
                    "-threads", str(threads), "-crf", "18", "-pix_fmt", "yuv420p", str(out)],
                   check=True)
    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
    psnr = subprocess.run([ffmpeg, "-hide_banner", "-i", str(out), "-f", "rawvideo", "-pix_fmt",
                           "rgb24", "-s", size, "-r", f"{fps:.6f}", "-i", str(raw), "-lavfi",
                           "[0:v]format=rgb24[a];[a][1:v]psnr", "-f", "null", "-"],
                          capture_output=True, text=True).stderr
    found = re.search(r"average:([0-9.]+)", psnr)
    return {"preset": preset, "threads": threads, "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3), "bytes": out.stat().st_size,
            "psnr_db": float(found.group(1)) if found else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from f2f.media import ffmpeg_exe, probe

    info, ffmpeg = probe(args.input), ffmpeg_exe()
    size = f"{info.width}x{info.height}"
    with tempfile.TemporaryDirectory(prefix="f2f-enc-") as tmp:
        raw = Path(tmp) / "frames.rgb"
        subprocess.run([ffmpeg, "-v", "error", "-i", str(args.input), "-map", "0:v:0",
                        "-pix_fmt", "rgb24", "-f", "rawvideo", str(raw)], check=True)
        runs = [encode(ffmpeg, raw, size, info.fps, preset, threads, Path(tmp) / "out.mp4")
                for preset, threads in SETTINGS]
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "cpu": platform.processor() or
                    platform.machine(), "load_average_1min": round(os.getloadavg()[0], 2)},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "input": str(args.input), "frames": info.frame_count, "size": size, "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for run in runs:
        print(run)


if __name__ == "__main__":
    main()
