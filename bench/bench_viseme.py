"""The default `viseme` lip sync on the demo: does the mouth stay in the speaker's own range?

    python bench/bench_viseme.py [--video examples/obama_weekly_address_10s.mp4] [--set K=V ...]

Runs `f2f translate` (default backends, the usual cache: only the lip-sync stage is redone),
then measures with dlib's 68 landmarks on every frame of the output and of the original: the
inner-lip opening (f2f.faces.mouth_opening) and its frame-to-frame change. Reports the ratios
(output / original; the issue's targets: opening 0.7-1.4, change 0.6-1.5), the output's opening
in the dub's pauses next to the original's closed level, and the stage's frames/s with the load
average (the machine is shared: speeds are pessimistic). Writes bench/results/viseme_demo.json.
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

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def openings(path: Path) -> np.ndarray:
    """Per-frame inner-lip opening / inter-ocular distance (NaN without a face)."""
    from f2f.faces import FaceDetector, FaceTracker, LandmarkPredictor, mouth_opening
    from f2f.media import iter_frames, probe

    info = probe(path)
    tracker = FaceTracker(FaceDetector("auto"), detect_every=5)
    predictor = LandmarkPredictor()
    values = []
    for frame in iter_frames(path, info.fps, info.width, info.height):
        box = tracker.update(frame)
        values.append(np.nan if box is None else mouth_opening(predictor.predict(frame, box)))
    return np.asarray(values)


def renderer_speed(video: Path, dub_wav: Path, frames: int = 120) -> dict[str, float]:
    """The mouth renderer alone (reference, warp, interior, colour, blend) on the first
    `frames` frames, landmarks computed beforehand as the streaming loop would: wall and
    process-CPU frames/s (CPU time is what an idle core would take; this machine is shared)."""
    from f2f.faces import FaceDetector, FaceTracker, LandmarkPredictor
    from f2f.media import iter_frames, probe, read_audio
    from stages.lipsync._common import FaceFrame, samples_16k
    from stages.lipsync._mouth_model import load_audio_mouth
    from stages.lipsync._mouth_motion import build_motion
    from stages.lipsync._mouth_range import SpeakerRange
    from stages.lipsync._mouth_render import MouthReplacer, RenderSettings

    info = probe(video)
    tracker = FaceTracker(FaceDetector("auto"), detect_every=5)
    predictor = LandmarkPredictor()
    items = []
    for index, frame in enumerate(iter_frames(video, info.fps, info.width, info.height)):
        if index >= frames:
            break
        box = tracker.update(frame)
        items.append(FaceFrame(index, frame, box, None if box is None else
                               predictor.predict(frame, box)))
    speech = read_audio(dub_wav)
    motion = build_motion(speech, samples_16k(speech), (), info.fps, len(items), "auto",
                          load_audio_mouth()[0], 0.3, 0.03, 0.7)
    renderer = MouthReplacer(SpeakerRange(motion), RenderSettings())
    renderer.render(items[:1])  # imports and first reference outside the timing
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(1, len(items), 8):
        renderer.render(items[start:start + 8])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = len(items) - 1
    return {"renderer_frames": n, "renderer_frames_per_second_wall": round(n / wall, 1),
            "renderer_frames_per_second_cpu": round(n / cpu, 1),
            "size": f"{info.width}x{info.height}"}


def mean_change(values: np.ndarray) -> float:
    step = np.abs(np.diff(values))
    return float(np.nanmean(step))


def pause_frames(dub_wav: Path, fps: float, frames: int, min_frames: int = 4) -> np.ndarray:
    """Frames inside pauses of the dub (silent for at least `min_frames` in a row), minus one
    frame at each end (the mouth is allowed one frame to close)."""
    from f2f.media import read_audio
    from stages.lipsync._mouth_shapes import speech_activity

    silent = speech_activity(read_audio(dub_wav), fps, frames) <= 0.0
    out = np.zeros(frames, bool)
    start = None
    for i, s in enumerate(np.append(silent, False)):
        if s and start is None:
            start = i
        elif not s and start is not None:
            if i - start >= min_frames:
                out[start + 1:i - 1] = True
            start = None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", type=Path, default=REPO / "examples" /
                        "obama_weekly_address_10s.mp4")
    parser.add_argument("--set", action="append", default=[], help="extra f2f --set options")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" /
                        "viseme_demo.json")
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory(prefix="f2f-viseme-") as tmp:
        output = Path(tmp) / "dub.mp4"
        command = [sys.executable, "-m", "f2f", "translate", str(args.video), "--to", "hi",
                   "-o", str(output), "--refresh", "lipsync"]
        for item in args.set:
            command += ["--set", item]
        load_before = os.getloadavg()
        started = time.perf_counter()
        subprocess.run(command, check=True, env=env, cwd=REPO, capture_output=True)
        wall = time.perf_counter() - started
        load_after = os.getloadavg()
        report = json.loads(output.with_suffix(".report.json").read_text())
        lipsync = next(s for s in report["steps"] if s["stage"] == "lipsync")
        fit = next(s for s in report["steps"] if s["stage"] == "fit")
        original, dubbed = openings(args.video), openings(output)
        wav = _fit_wav(fit["key"])  # the dub audio the lip sync was driven by
    n = min(len(original), len(dubbed))
    original, dubbed = original[:n], dubbed[:n]
    pauses = pause_frames(wav, 25.0, n) if wav else np.zeros(n, bool)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores (shared)",
        "command": "python bench/bench_viseme.py " + " ".join(argv or sys.argv[1:]),
        "input": str(args.video.relative_to(REPO) if args.video.is_relative_to(REPO)
                     else args.video),
        "frames": n,
        "original_mean_opening": round(float(np.nanmean(original)), 4),
        "output_mean_opening": round(float(np.nanmean(dubbed)), 4),
        "opening_ratio": round(float(np.nanmean(dubbed) / np.nanmean(original)), 3),
        "original_mean_change": round(mean_change(original), 4),
        "output_mean_change": round(mean_change(dubbed), 4),
        "change_ratio": round(mean_change(dubbed) / mean_change(original), 3),
        "pause_frames": int(pauses.sum()),
        "output_opening_in_pauses_max": round(float(np.nanmax(dubbed[pauses])), 4)
        if pauses.any() else None,
        "output_opening_in_pauses_mean": round(float(np.nanmean(dubbed[pauses])), 4)
        if pauses.any() else None,
        "pauses": [[int(i), round(float(dubbed[i]), 4)] for i in np.flatnonzero(pauses)],
        "original_closed_level_p10": round(float(np.nanpercentile(original, 10)), 4),
        "renderer_speed": renderer_speed(args.video, wav) if wav else None,
        "lipsync_metrics": lipsync["metrics"],
        "lipsync_stage_wall_s": lipsync["wall_s"],
        "pipeline_wall_s_lipsync_redone": round(wall, 2),
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "targets": {"opening_ratio": [0.7, 1.4], "change_ratio": [0.6, 1.5]},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("opening_ratio", "change_ratio", "pause_frames",
                                             "output_opening_in_pauses_max",
                                             "original_closed_level_p10")}))
    return 0


def _fit_wav(key: str) -> Path | None:
    """The fitted dub audio in the pipeline cache (the lip sync's input)."""
    from f2f.weights import f2f_home

    for root in (Path(os.environ.get("F2F_CACHE", "")), f2f_home() / "cache"):
        path = root / "fit" / key / "speech.wav"
        if path.is_file():
            return path
    return None


if __name__ == "__main__":
    raise SystemExit(main())
