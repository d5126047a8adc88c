"""The small speed-ups of the 2026-12-02 round, each measured on its own (docs/lipsync.md):

    python bench/bench_speed_probes.py [--out bench/results/speed_probes.json]

- encoder feed: the demo's first 100 frames encoded by f2f's writer (yuv420p from OpenCV) and
  through ffmpeg's rgb24 input path (as before), the encoder's CPU seconds and each decode's
  mean absolute error to the source frames;
- ASR threads: the demo transcribed by faster-whisper with 1 and with 2 decoder threads, CPU
  seconds of the transcription (model loaded first) and whether the words are the same;
- weights hash: Whisper's model hashed from its file and read back from the memo;
- exit: `translate` on the demo (fresh cache) ending through the interpreter's teardown and
  through f2f's quick exit: seconds from `main` returning to the process's end.
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

import numpy as np

from _ab import REPO, children_cpu_s

DEMO = REPO / "examples" / "obama_weekly_address_10s.mp4"
# run in a child: main(), then the given exit; prints when main returned
EXIT_PROBE = """
import sys, time
from f2f.cli import main
code = main(sys.argv[2:])
print(f"main-returned {time.time():.4f}", file=sys.stderr, flush=True)
if sys.argv[1] == "quick":
    from f2f.__main__ import _exit_quickly
    _exit_quickly(code)
sys.exit(code)
"""


def encoder_feed(tmp: Path, frames_wanted: int = 100) -> dict[str, Any]:
    from f2f.media import ffmpeg_exe, iter_frames, probe
    from f2f.video_writer import VideoWriter

    info = probe(DEMO)
    frames = [f for _, f in zip(range(frames_wanted),
                                iter_frames(DEMO, info.fps, info.width, info.height))]
    source = np.stack(frames).astype(np.int16)
    out: dict[str, Any] = {"frames": len(frames)}
    new, old = tmp / "yuv420p_feed.mp4", tmp / "rgb24_feed.mp4"
    cpu = children_cpu_s()
    with VideoWriter(new, info.fps, info.width, info.height, preset="ultrafast",
                     threads=1) as writer:
        for frame in frames:
            writer.write(frame)
    out["yuv420p_feed_encoder_cpu_s"] = round(children_cpu_s() - cpu, 3)
    cpu = children_cpu_s()
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{info.width}x{info.height}", "-r", str(info.fps), "-i", "-",
                    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-threads", "1",
                    "-pix_fmt", "yuv420p", str(old)], input=source.astype(np.uint8).tobytes(),
                   check=True)
    out["rgb24_feed_encoder_cpu_s"] = round(children_cpu_s() - cpu, 3)
    for name, path in (("yuv420p_feed", new), ("rgb24_feed", old)):
        decoded = np.stack(list(iter_frames(path, info.fps, info.width, info.height)))
        out[f"{name}_mean_abs_error_to_source"] = round(
            float(np.abs(decoded.astype(np.int16) - source).mean()), 3)
    return out


def asr_threads() -> dict[str, Any]:
    from f2f.media import read_audio
    from stages.asr.faster_whisper import FasterWhisperASR

    speech = read_audio(DEMO)
    out: dict[str, Any] = {}
    texts = {}
    for threads in (1, 2):
        asr = FasterWhisperASR(FasterWhisperASR.Config(cpu_threads=threads))
        asr._load()
        cpu, wall = time.process_time(), time.perf_counter()
        transcript = asr.transcribe(speech, "en", lambda *a, **k: None)
        out[f"threads_{threads}"] = {"cpu_s": round(time.process_time() - cpu, 3),
                                     "wall_s": round(time.perf_counter() - wall, 3)}
        texts[threads] = " ".join(s.text for s in transcript.segments)
    out["same_words"] = texts[1] == texts[2]
    return out


def weights_hash() -> dict[str, Any]:
    from f2f import weights
    from stages.asr.faster_whisper import FasterWhisperASR

    model = FasterWhisperASR().model_dir() / "model.bin"
    weights._FINGERPRINTS.clear()
    wall = time.perf_counter()
    weights.file_sha256(model)  # from the file
    hashed = time.perf_counter() - wall
    weights._FINGERPRINTS.clear()
    weights.file_sha256(model, remember=True)  # fills the memo (or reads it)
    weights._FINGERPRINTS.clear()
    wall = time.perf_counter()
    weights.file_sha256(model, remember=True)  # from the memo, as a new process would
    return {"file": str(model), "megabytes": round(model.stat().st_size / 1e6, 1),
            "hashed_s": round(hashed, 3), "from_memo_s": round(time.perf_counter() - wall, 4)}


def exit_cost(tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for how in ("teardown", "quick"):
        command = [sys.executable, "-c", EXIT_PROBE, how, "translate", str(DEMO), "--to", "hi",
                   "--workdir", str(tmp / f"cache_{how}"), "-o", str(tmp / f"{how}.mp4"), "-q"]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        ended = time.time()
        returned = float(done.stderr.split("main-returned ")[1].split()[0])
        out[f"{how}_s_after_main"] = round(ended - returned, 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path,
                        default=REPO / "bench" / "results" / "speed_probes.json")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="f2f-speed-probes-") as tmp:
        result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores",
                  "command": "python bench/bench_speed_probes.py " + " ".join(argv or sys.argv[1:]),
                  "load_average_before": round(os.getloadavg()[0], 2),
                  "encoder_feed": encoder_feed(Path(tmp)), "asr_threads": asr_threads(),
                  "weights_hash": weights_hash(), "exit": exit_cost(Path(tmp)),
                  "load_average_after": round(os.getloadavg()[0], 2)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
