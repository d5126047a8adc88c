"""Are two checkouts' `viseme` renders the same? Frame by frame, before any video encoding.

    python bench/bench_viseme_pixels.py --baseline CHECKOUT [--video V] [--crops DIR]

The demo's face track (f2f.face_track, this checkout) and the video's own audio as the dub
drive the mouth renderer (MouthReplacer) of this checkout and of `--baseline` (e.g. a
`git archive` of main), each in its own process. Compared are the rendered frames themselves,
not their H.264 encodings (x264 spreads any change over the rest of a group of pictures, so
decoded outputs differ by ~42 dB even where the renders are identical): how many frames are
bit-identical, and for the others the PSNR over the mouth box (landmarks 48-67, 25 px margin),
the lower face (jaw, nose and mouth landmarks, 100 px margin: the crop kept) and the whole frame
(when nothing changed outside the crop). `--crops` writes old | new | 4x difference PNGs of
the changed frames. Writes bench/results/viseme_pixels_demo.json.
"""

from __future__ import annotations

import argparse
import hashlib
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
MOUTH = (list(range(48, 68)), 25)  # landmarks and margin (pixels): the mouth box
# the lower face (jaw, nose, mouth) with a margin past the renderer's region (at most 0.45
# inter-ocular distances, ~55 px on the demo, beyond these landmarks): the crop compared
LOWER_FACE = ([*range(2, 15), *range(29, 36), *range(48, 68)], 100)


def boxes_around(landmarks: np.ndarray, which: tuple[list[int], int], width: int,
                 height: int) -> np.ndarray:
    """(N, 4) x0, y0, x1, y1 around the chosen landmarks of each frame, with the margin."""
    points, margin = landmarks[:, which[0]], which[1]
    low = np.floor(points.min(axis=1) - margin).astype(int)
    high = np.ceil(points.max(axis=1) + margin).astype(int)
    return np.stack([np.clip(low[:, 0], 0, width), np.clip(low[:, 1], 0, height),
                     np.clip(high[:, 0], 0, width), np.clip(high[:, 1], 0, height)], axis=1)


def render(video: Path, track_path: Path, out: Path) -> None:
    """(in the checkout's own process) renders every frame; saves mouth crops and hashes."""
    import dataclasses

    from f2f.faces import FaceBox
    from f2f.media import iter_frames, probe, read_audio
    from stages.lipsync._common import FaceFrame, samples_16k
    from stages.lipsync._mouth_model import load_audio_mouth
    from stages.lipsync._mouth_motion import build_motion
    from stages.lipsync._mouth_range import SpeakerRange
    from stages.lipsync._mouth_render import MouthReplacer, RenderSettings

    info = probe(video)
    track = np.load(track_path)
    boxes = boxes_around(track["landmarks"], LOWER_FACE, info.width, info.height)
    # hand frames over where this checkout's loop would (its renderer may draw into them)
    owned = {"owned": True} if "owned" in {f.name for f in dataclasses.fields(FaceFrame)} else {}
    speech = read_audio(video)
    frames = list(iter_frames(video, info.fps, info.width, info.height))
    motion = build_motion(speech, samples_16k(speech), (), info.fps, len(frames), "auto",
                          load_audio_mouth()[0], 0.3, 0.03, 0.7)
    renderer = MouthReplacer(SpeakerRange(motion), RenderSettings())
    crops, whole, outside = [], [], []
    cpu = 0.0  # the renderer's own CPU seconds, without this loop's hashing
    for start in range(0, len(frames), 8):
        items = [FaceFrame(i, frames[i], FaceBox(*(int(v) for v in track["boxes"][i][:4])),
                           track["landmarks"][i], **owned)
                 for i in range(start, min(start + 8, len(frames)))]
        tick = time.process_time()
        rendered = renderer.render(items)
        cpu += time.process_time() - tick
        for item, frame in zip(items, rendered, strict=True):
            x0, y0, x1, y1 = boxes[item.index]
            crops.append(frame[y0:y1, x0:x1].copy())
            whole.append(hashlib.md5(frame.tobytes()).hexdigest())
            rest = frame.copy()
            rest[y0:y1, x0:x1] = 0
            outside.append(hashlib.md5(rest.tobytes()).hexdigest())
    np.savez(out, *crops)
    out.with_suffix(".json").write_text(json.dumps({"whole": whole, "outside": outside,
                                                    "render_cpu_s": round(cpu, 3)}))


def psnr(a: np.ndarray, b: np.ndarray, pixels: int | None = None) -> float:
    """dB; `pixels`: the MSE spread over that many pixels (the rest known to be equal)."""
    se = float(((a.astype(np.float64) - b) ** 2).sum())
    mse = se / (pixels or a.size // a.shape[-1]) / a.shape[-1]
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="the other f2f checkout")
    parser.add_argument("--video", type=Path,
                        default=REPO / "examples" / "obama_weekly_address_10s.mp4")
    parser.add_argument("--crops", type=Path, default=None, help="folder for PNG crops")
    parser.add_argument("--out", type=Path,
                        default=REPO / "bench" / "results" / "viseme_pixels_demo.json")
    parser.add_argument("--render", nargs=2, type=Path, help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)
    if args.render:
        render(args.video, *args.render)
        return 0
    if args.baseline is None:
        parser.error("--baseline is required")
    from f2f.face_track import FaceSettings, compute_face_track
    from f2f.media import probe

    info = probe(args.video)
    with tempfile.TemporaryDirectory(prefix="f2f-viseme-pixels-") as tmp:
        track = compute_face_track(args.video, info.fps, info.width, info.height, FaceSettings())
        track_path = Path(tmp) / "track.npz"
        np.savez(track_path, boxes=track.boxes, landmarks=track.landmarks)
        results = {}
        for name, checkout in (("baseline", args.baseline.resolve()), ("this", REPO)):
            out = Path(tmp) / f"{name}.npz"
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "--video",
                            str(args.video.resolve()), "--render", str(track_path), str(out)],
                           check=True, cwd=checkout,
                           env={**os.environ, "PYTHONPATH": str(checkout)})
            with np.load(out) as data:
                crops = [data[f"arr_{i}"] for i in range(len(data.files))]
            results[name] = (crops, json.loads(out.with_suffix(".json").read_text()))
    (old, old_meta), (new, new_meta) = results["baseline"], results["this"]
    frame_px = info.width * info.height
    lower = boxes_around(track.landmarks, LOWER_FACE, info.width, info.height)
    mouth_box = boxes_around(track.landmarks, MOUTH, info.width, info.height) - np.tile(
        lower[:, :2], 2)  # in crop coordinates
    changed = []
    for i in range(len(old)):
        if old_meta["whole"][i] == new_meta["whole"][i]:
            continue
        same_outside = old_meta["outside"][i] == new_meta["outside"][i]
        x0, y0, x1, y1 = mouth_box[i]
        changed.append({"frame": i,
                        "mouth_psnr_db": round(psnr(old[i][y0:y1, x0:x1], new[i][y0:y1, x0:x1]),
                                               2),
                        "lower_face_psnr_db": round(psnr(old[i], new[i]), 2),
                        "whole_psnr_db": round(psnr(old[i], new[i], frame_px), 2)
                        if same_outside else None, "changed_outside_mouth_box": not same_outside})
    if args.crops is not None and changed:
        import cv2

        args.crops.mkdir(parents=True, exist_ok=True)
        for row in changed:
            i = row["frame"]
            diff = np.clip(np.abs(old[i].astype(int) - new[i]) * 4, 0, 255).astype(np.uint8)
            tile = np.concatenate([old[i], new[i], diff], axis=1)
            cv2.imwrite(str(args.crops / f"frame_{i:04d}.png"),
                        cv2.cvtColor(tile, cv2.COLOR_RGB2BGR))
    mouth = [r["mouth_psnr_db"] for r in changed]
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores (shared)",
        "command": "python bench/bench_viseme_pixels.py " + " ".join(argv or sys.argv[1:]),
        "input": str(args.video.relative_to(REPO) if args.video.is_relative_to(REPO)
                     else args.video),
        "dub": "the video's own audio (a fixed, pipeline-free driver)",
        "frames": len(old),
        "identical_frames": len(old) - len(changed),
        "changed_mouth_psnr_db_min": min(mouth) if mouth else None,
        "changed_mouth_psnr_db_median": float(np.median(mouth)) if mouth else None,
        "changed": changed,
        "render_cpu_s": {"baseline": old_meta["render_cpu_s"], "this": new_meta["render_cpu_s"]},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("frames", "identical_frames",
                                             "changed_mouth_psnr_db_min",
                                             "changed_mouth_psnr_db_median", "render_cpu_s")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
