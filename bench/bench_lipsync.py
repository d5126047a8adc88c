"""Speed and memory of the whole lip-sync stage (decode, track, render, paste, encode).

    python bench/bench_lipsync.py                        # the demo clip, 720p, all runs below
    python bench/bench_lipsync.py --height 360 --runs wav2lip-bf16
    python bench/bench_lipsync.py --reference ~/Wav2Lip  # also the reference inference.py
    python bench/bench_lipsync.py --runs loop --loop-to 240 --no-golden   # memory vs length

Runs (each in a fresh process, so its peak RSS is its own):
- `loop`: the shared loop alone (decode, detection, landmarks, encode) with a pass-through renderer:
  what every backend pays besides its own rendering;
- `viseme`: the default backend;
- `wav2lip-fp32`, `wav2lip-bf16`: the wav2lip stage with the seeded random full-size generator of
  `wav2lip_golden/make_checkpoint.py` (speed does not depend on the weights);
- `reference` (with `--reference DIR`, a checkout of Rudrabha/Wav2Lip): its `inference.py` with
  `--box` set to the box f2f tracked on the first frame (no detection) and the same checkpoint.
  Its wall time includes its own start-up and final ffmpeg mux, as a user would see it.
`golden` records what bf16 changes on the golden generator outputs (fp32 is the reference).

The JSON (default bench/results/lipsync_cpu.json) has the date, machine, load average and command.
On a shared machine the times are pessimistic: `cpu_s` (user + system time of the run and its
ffmpeg children) is the less load-dependent figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("F2F_SHARED") or REPO.parent / "shared") / "data"
DEFAULT_VIDEO = REPO / "examples" / "obama_weekly_address_10s.mp4"
GOLDEN = SHARED / "wav2lip_golden"
RUNS = ("loop", "viseme", "wav2lip-fp32", "wav2lip-bf16")


def _cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _PassThrough:
    needs_landmarks = True  # so the loop pays for landmarks, as viseme does

    def render(self, batch):
        return [item.frame for item in batch]


def run_one(name: str, video_path: Path, checkpoint: Path, threads: int, device: str
            ) -> dict[str, Any]:
    """One run in this process: the stage's wall and CPU time, frames/s and peak RSS."""
    sys.path.insert(0, str(REPO))
    import torch

    torch.set_num_threads(threads)
    from f2f.artifacts import DubTrack, VideoRef
    from f2f.media import probe, read_audio

    info = probe(video_path)
    video = VideoRef(str(video_path), info.fps, info.frame_count, info.width, info.height)
    track = DubTrack(read_audio(video_path), source="manual")
    with tempfile.TemporaryDirectory(prefix="f2f-bench-") as tmp:
        out = Path(tmp) / "out.mp4"
        cpu, started = _cpu_s(), time.perf_counter()
        if name == "loop":
            from stages.lipsync._common import LoopOptions, run_lipsync

            _, metrics = run_lipsync(video, track, out, lambda f, m="": None, _PassThrough(),
                                     LoopOptions(), "loop")
        else:
            if name == "viseme":
                from stages.lipsync.viseme import VisemeLipSync

                backend: Any = VisemeLipSync(device=device)
            else:
                from stages.lipsync.wav2lip import Wav2LipSync

                config = Wav2LipSync.Config(checkpoint=str(checkpoint),
                                            bf16=name.endswith("bf16"))
                backend = Wav2LipSync(config, device=device)
            backend.sync(video, track, out, lambda f, m="": None)
            metrics = backend.metrics
        seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
        boxes = json.loads((out.parent / "face_boxes.json").read_text())["boxes"]
    return {"frames": metrics["frames"], "seconds": round(seconds, 2),
            "frames_per_second": round(metrics["frames"] / seconds, 2),
            "cpu_s": round(cpu, 2), "stage_metrics": metrics,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "first_box": boxes[0]}


def measure(name: str, video: Path, checkpoint: Path, threads: int, device: str
            ) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--one", name, "--video",
               str(video), "--checkpoint", str(checkpoint), "--threads", str(threads),
               "--device", device]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_reference(checkout: Path, video: Path, checkpoint: Path, box: list[int] | None,
                  threads: int, folder: Path) -> dict[str, Any]:
    """The reference inference.py with a fixed box, timed as a child process."""
    if box is None:
        return {"error": "no face box to give the reference (f2f found no face on frame 0)"}
    x0, y0, x1, y1 = box
    out = folder / "reference.mp4"
    command = [sys.executable, "inference.py", "--checkpoint_path", str(checkpoint),
               "--face", str(video.resolve()), "--audio", str(video.resolve()),
               "--outfile", str(out), "--box", str(y0), str(y1), str(x0), str(x1)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "CUDA_VISIBLE_DEVICES": ""}
    log_path = folder / "reference.log"
    started = time.perf_counter()
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(command, cwd=checkout, env=env, stdout=log_file,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage: its peak RSS
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    result: dict[str, Any] = {"command": " ".join(command), "cwd": str(checkout),
                              "seconds": round(seconds, 2),
                              "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                              "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "exit_code": code}
    if code != 0:
        result["error"] = log_path.read_text(errors="replace").strip().splitlines()[-3:]
    return result


def golden_precision(checkpoint: Path, threads: int) -> dict[str, Any]:
    """f2f's path on the golden clip and box, fp32 and bf16, against the reference outputs."""
    import numpy as np
    import torch

    sys.path.insert(0, str(REPO))
    torch.set_num_threads(threads)
    from f2f.faces import FaceBox
    from f2f.media import iter_frames, probe, read_audio
    from lipgan.audio import melspectrogram
    from lipgan.checkpoint import model_from_checkpoint, read_checkpoint
    from stages.lipsync._common import FaceFrame
    from stages.lipsync._crop_model import NO_PADS, CropSettings, model_inputs
    from stages.lipsync.wav2lip import mel_window_batch

    golden = np.load(GOLDEN / "golden.npz")
    clip = SHARED / "grid" / "bbaf2n.mpg"
    info = probe(clip)
    top, bottom, left, right = (int(v) for v in golden["box_y1_y2_x1_x2"])
    box = FaceBox(left, top, right, bottom)
    frames = [FaceFrame(i, f, box) for i, f in enumerate(
        iter_frames(clip, info.fps, info.width, info.height)) if i < 16]
    windows = mel_window_batch(melspectrogram(read_audio(GOLDEN / "audio_16k.wav").samples),
                               info.fps)
    inputs = model_inputs(frames, windows, CropSettings(pads=NO_PADS, bgr=True))
    assert inputs is not None
    model = model_from_checkpoint("wav2lip", read_checkpoint(checkpoint), checkpoint, "cpu")
    from stages.lipsync._crop_model import bf16_is_fast

    result: dict[str, Any] = {"frames": 16, "bf16_is_fast_here": bf16_is_fast("cpu")}
    for precision in ("fp32", "bf16"):
        started = time.process_time()
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                    enabled=precision == "bf16"):
            pred = model(torch.from_numpy(inputs.audio), torch.from_numpy(inputs.faces))
        cpu = time.process_time() - started
        error = np.abs(pred.float().numpy() - golden["pred_first16"])
        result[precision] = {"pred_first16_mean_abs_error": float(f"{error.mean():.3g}"),
                             "pred_first16_max_abs_error": float(f"{error.max():.3g}"),
                             "in_8bit_levels_max": round(float(error.max()) * 255, 2),
                             "generator_cpu_s_16_frames": round(cpu, 2)}
    return result


def _machine() -> dict[str, Any]:
    return {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--height", type=int, default=0, help="scale to this height (0: as is)")
    parser.add_argument("--seconds", type=float, default=0.0, help="only the first seconds")
    parser.add_argument("--loop-to", type=float, default=0.0,
                        help="loop the input to this many seconds (memory against length)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--runs", default=",".join(RUNS))
    parser.add_argument("--reference", type=Path, help="a checkout of Rudrabha/Wav2Lip")
    parser.add_argument("--no-golden", action="store_true")
    parser.add_argument("--note", default="", help="free text stored in the JSON")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "lipsync_cpu.json")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.video, args.checkpoint, args.threads,
                                 args.device)))
        return 0
    sys.path.insert(0, str(REPO))
    from f2f.media import probe, run_ffmpeg

    results: dict[str, Any] = {
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": _machine(), "threads": args.threads, "device": args.device,
        "note": args.note, "runs": {}}
    with tempfile.TemporaryDirectory(prefix="f2f-bench-") as tmp:
        folder = Path(tmp)
        video = args.video
        if args.height or args.loop_to or args.seconds:
            video = folder / "input.mp4"
            loop = ["-stream_loop", "-1"] if args.loop_to else []
            seconds = args.loop_to or args.seconds
            length = ["-t", f"{seconds:.3f}"] if seconds else []
            scale = ["-vf", f"scale=-2:{args.height}"] if args.height else []
            run_ffmpeg([*loop, "-i", str(args.video), *length, *scale, "-c:v", "libx264",
                        "-preset", "veryfast", "-crf", "18", "-c:a", "aac", str(video)],
                       "making the benchmark input")
        info = probe(video)
        results["input"] = {"file": args.video.name, "width": info.width, "height": info.height,
                            "frames": info.frame_count, "duration_s": round(info.duration_s, 2)}
        checkpoint = folder / "wav2lip_random.pth"
        subprocess.run([sys.executable, str(GOLDEN / "make_checkpoint.py"), str(checkpoint)],
                       check=True, capture_output=True)
        for name in [n for n in args.runs.split(",") if n]:
            if name not in RUNS:
                parser.error(f"unknown run {name!r}; runs: {', '.join(RUNS)}")
            results["runs"][name] = measure(name, video, checkpoint, args.threads, args.device)
            print(name, json.dumps({k: results["runs"][name].get(k) for k in
                                    ("seconds", "frames_per_second", "cpu_s", "peak_rss_mb")}),
                  flush=True)
        if args.reference:
            first_box = next((r.get("first_box") for r in results["runs"].values()
                              if r.get("first_box")), None)
            results["runs"]["reference"] = run_reference(args.reference, video, checkpoint,
                                                         first_box, args.threads, folder)
            print("reference", json.dumps(results["runs"]["reference"]), flush=True)
            stage = results["runs"].get("wav2lip-bf16", {}).get("seconds")
            if stage and "seconds" in results["runs"]["reference"]:
                results["reference_over_wav2lip_bf16"] = round(
                    results["runs"]["reference"]["seconds"] / stage, 2)
        if not args.no_golden:
            results["golden"] = golden_precision(checkpoint, args.threads)
            print("golden", json.dumps(results["golden"]), flush=True)
    results["machine"]["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".tmp")
    tmp_out.write_text(json.dumps(results, indent=1) + "\n")
    tmp_out.replace(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
