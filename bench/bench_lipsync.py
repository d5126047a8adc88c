"""Speed of the whole lip-sync stage (decode, track, render, paste, encode) at 360p.

    python bench/bench_lipsync.py --seconds 10 --out bench/lipsync.json

Input: the shared Obama clip scaled to 640x360 (or --video). Backends: `viseme`, and `wav2lip`
with a randomly initialised full-size generator (speed does not depend on the weights) in fp32
and bf16. Writes one JSON object with frames/s and peak RSS per run.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_VIDEO = REPO.parent / "shared" / "data" / "talks" / "obama_weekly_address_10s.mp4"


def _scaled_input(source: Path, seconds: float, height: int, folder: Path) -> Path:
    from f2f.media import run_ffmpeg

    out = folder / f"input_{height}p.mp4"
    run_ffmpeg(["-i", str(source), "-t", f"{seconds:.3f}", "-vf", f"scale=-2:{height}",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-c:a", "aac",
                str(out)], "scaling the benchmark input")
    return out


def _run(backend, video, track, out: Path) -> dict:
    started = time.perf_counter()
    result = backend.sync(video, track, out, lambda fraction, message="": None)
    seconds = time.perf_counter() - started
    return {"frames": result.frame_count, "seconds": round(seconds, 2),
            "frames_per_second": round(result.frame_count / seconds, 2),
            "stage_metrics": backend.metrics,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backends", default="viseme,wav2lip-fp32,wav2lip-bf16")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "lipsync.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    import torch

    from f2f.artifacts import DubTrack, VideoRef
    from f2f.media import probe, read_audio
    from stages.lipsync.viseme import VisemeLipSync
    from stages.lipsync.wav2lip import Wav2LipSync

    torch.set_num_threads(args.threads)
    results: dict = {"python": platform.python_version(), "torch": torch.__version__,
                     "threads": args.threads, "device": args.device,
                     "input": f"{args.video.name}, first {args.seconds} s at {args.height}p",
                     "runs": {}}
    with tempfile.TemporaryDirectory(prefix="f2f-bench-") as tmp:
        folder = Path(tmp)
        clip = _scaled_input(args.video, args.seconds, args.height, folder)
        info = probe(clip)
        video = VideoRef(str(clip), info.fps, info.frame_count, info.width, info.height)
        track = DubTrack(read_audio(clip), source="manual")
        results["size"] = f"{info.width}x{info.height}"
        checkpoint = folder / "wav2lip_random.pth"
        for name in args.backends.split(","):
            if name == "viseme":
                backend = VisemeLipSync(device=args.device)
            elif name.startswith("wav2lip"):
                if not checkpoint.exists():
                    from lipgan.models.wav2lip import Wav2Lip

                    state = {"module." + k: v for k, v in Wav2Lip().state_dict().items()}
                    torch.save({"state_dict": state}, checkpoint)
                config = Wav2LipSync.Config(checkpoint=str(checkpoint),
                                            bf16=name.endswith("bf16"))
                backend = Wav2LipSync(config, device=args.device)
            else:
                parser.error(f"unknown backend {name}")
            results["runs"][name] = _run(backend, video, track, folder / f"{name}.mp4")
            print(name, json.dumps(results["runs"][name]["frames_per_second"]), "frames/s",
                  flush=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
