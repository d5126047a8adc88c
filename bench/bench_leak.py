"""Does the source's own mouth motion show through `viseme`? A judge-free leakage measure.

    python bench/bench_leak.py [--speakers s1 s4] [--clips 8] [--out bench/results/leak.json]

Each clip A is lip-synced by `viseme` twice, never with its own speech:

    other   driven by the next clip B's real speech (as `bench_sync`'s other_viseme)
    still   the renderer with a motion of zeros (a closed mouth all along): any lower-face motion
            left in the output can only come from the source

and the output is measured with dlib's 68 landmarks and its pixels, frame by frame, against A's
own mouth (opening, jaw) and against B's (what the dub asks for). All signals are high-passed
(minus a Gaussian of `HIGHPASS_SIGMA` frames): GRID sentences all start and end in silence, so
the slow envelope of any two clips correlates and only the syllable-rate motion tells whose
mouth the output follows. A complete replacement has `leak_opening` and `leak_jaw` (correlation
with A's opening and jaw) near the `chance` level (A's opening against B's), and lower-face pixel
motion that does not rise and fall with A's mouth (`leak_pixels`, per region). Writes JSON and a
map (PNG) of where the output's pixel motion still follows A's mouth.

Not driven by the signal it measures: the output's motion is compared with the source's, which
the backend must ignore; nothing here scores how well the output follows B.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GRID = REPO.parent / "shared" / "data" / "grid"
HIGHPASS_SIGMA = 4.0  # frames: removes the sentence envelope, keeps syllables (~5 frames)
# the canonical lower face, face units (f2f.faces.FaceFrameOfReference: eye centre, inter-ocular)
GRID_X = np.linspace(-1.3, 1.3, 53)
GRID_Y = np.linspace(0.3, 2.3, 41)
JAW = list(range(5, 12))


def measure(path: Path, reference: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """(T, 68, 2) landmarks (NaN without a face) and (T, len(GRID_Y), len(GRID_X)) grey levels
    of the canonical lower face, sampled in the face frame of `reference`'s landmarks (the
    source's: its eyes are the output's) or of the video's own."""
    import cv2

    from f2f.faces import FaceDetector, FaceFrameOfReference, FaceTracker, LandmarkPredictor
    from f2f.media import iter_frames, probe

    info = probe(path)
    tracker = FaceTracker(FaceDetector("auto"), detect_every=3)
    predictor = LandmarkPredictor()
    marks, greys = [], []
    gx, gy = np.meshgrid(GRID_X, GRID_Y)
    canonical = np.stack([gx.ravel(), gy.ravel()], axis=1)
    for index, frame in enumerate(iter_frames(path, info.fps, info.width, info.height)):
        box = tracker.update(frame)
        own = np.full((68, 2), np.nan) if box is None else predictor.predict(frame, box)
        marks.append(own)
        frame_of = reference[index] if reference is not None and index < len(reference) \
            else own
        if np.isnan(frame_of).any():
            greys.append(np.full(gx.shape, np.nan, np.float32))
            continue
        pixels = FaceFrameOfReference.of(frame_of).to_pixels(canonical).astype(np.float32)
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
        greys.append(cv2.remap(grey, pixels[:, 0].reshape(gx.shape),
                               pixels[:, 1].reshape(gx.shape), cv2.INTER_LINEAR))
    return np.asarray(marks, np.float64), np.asarray(greys, np.float32)


def features(marks: np.ndarray) -> dict[str, np.ndarray]:
    """Per frame: inner-lip opening and jaw drop (mean of points 5-11 down the face), face
    units, NaN-filled by interpolation."""
    from f2f.faces import FaceFrameOfReference, mouth_opening

    opening, jaw = [], []
    for m in marks:
        if np.isnan(m).any():
            opening.append(np.nan)
            jaw.append(np.nan)
            continue
        opening.append(mouth_opening(m))
        jaw.append(float(FaceFrameOfReference.of(m).to_face(m[JAW])[:, 1].mean()))
    return {"opening": _filled(np.asarray(opening)), "jaw": _filled(np.asarray(jaw))}


def _filled(x: np.ndarray) -> np.ndarray:
    seen = ~np.isnan(x)
    if not seen.any():
        return np.zeros_like(x)
    return np.interp(np.arange(len(x)), np.flatnonzero(seen), x[seen])


def highpass(x: np.ndarray) -> np.ndarray:
    from scipy.ndimage import gaussian_filter1d

    return x - gaussian_filter1d(x, HIGHPASS_SIGMA, axis=0, mode="nearest")


def corr(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-12))


def motion_energy(greys: np.ndarray) -> np.ndarray:
    """(T, H, W) |grey change| from the previous frame (the first frame: 0), NaN as 0."""
    change = np.abs(np.diff(np.nan_to_num(greys), axis=0, prepend=np.nan_to_num(greys[:1])))
    return change


def regions(marks: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks on the canonical grid, from the source's mean landmarks in face units."""
    from f2f.faces import FaceFrameOfReference

    face = np.nanmean([FaceFrameOfReference.of(m).to_face(m) for m in marks
                       if not np.isnan(m).any()], axis=0)
    gx, gy = np.meshgrid(GRID_X, GRID_Y)
    left, right = face[48, 0] - 0.1, face[54, 0] + 0.1
    nose, lip, chin = face[33, 1], face[57, 1], face[8, 1]
    inside_x = (gx >= left) & (gx <= right)
    jaw_left, jaw_right = face[4, 0], face[12, 0]
    return {"mouth": inside_x & (gy >= nose + 0.05) & (gy <= lip + 0.05),
            "chin": inside_x & (gy > lip + 0.05) & (gy <= chin + 0.05),
            "below_chin": inside_x & (gy > chin + 0.05) & (gy <= chin + 0.4),
            "cheeks": ~inside_x & (gx >= jaw_left) & (gx <= jaw_right) & (gy >= nose)
            & (gy <= lip + 0.1),
            "jaw_line": ~inside_x & (gy > lip + 0.1) & (gy <= chin + 0.3)
            & (gx >= jaw_left - 0.15) & (gx <= jaw_right + 0.15)}


def leak_row(out_marks: np.ndarray, out_greys: np.ndarray, source: dict[str, np.ndarray],
             driver: dict[str, np.ndarray], masks: dict[str, np.ndarray],
             source_greys: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
    """One output's correlations with the source's and the driver's mouth, and its per-pixel
    map of corr(pixel motion, |source opening change|)."""
    out = features(out_marks)
    n = min(len(out["opening"]), len(source["opening"]), len(driver["opening"]),
            len(out_greys), len(source_greys))
    hp = {k: highpass(v[:n]) for k, v in out.items()}
    src = {k: highpass(v[:n]) for k, v in source.items()}
    drv = {k: highpass(v[:n]) for k, v in driver.items()}
    speed = np.abs(np.diff(source["opening"][:n], prepend=source["opening"][0]))
    energy = motion_energy(out_greys[:n])
    energy_source = motion_energy(source_greys[:n])
    flat = energy.reshape(n, -1)
    s = speed - speed.mean()
    f = flat - flat.mean(axis=0)
    pixel_map = (s @ f) / (np.sqrt((s * s).sum() * (f * f).sum(axis=0)) + 1e-12)
    row: dict[str, Any] = {
        "leak_opening": corr(hp["opening"], src["opening"]),
        "follow_opening": corr(hp["opening"], drv["opening"]),
        "leak_jaw": corr(hp["jaw"], src["jaw"]),
        "follow_jaw": corr(hp["jaw"], drv["jaw"]),
        "opening_std": float(np.std(out["opening"][:n])),
        "leak_pixels": {}, "motion_ratio": {}}
    for name, mask in masks.items():
        row["leak_pixels"][name] = corr(energy[:, mask].mean(axis=1), speed)
        row["motion_ratio"][name] = float(energy[:, mask].mean() /
                                          (energy_source[:, mask].mean() + 1e-9))
    return row, pixel_map.reshape(energy.shape[1:])


def render(clip: Path, driver_audio: Path | None, out: Path, sets: list[str]) -> Path:
    """`viseme` on `clip`, driven by `driver_audio`'s speech, or (None) by a closed mouth."""
    from f2f.artifacts import DubTrack, VideoRef
    from f2f.media import probe, read_audio
    from stages.lipsync._common import output_frame_count
    from stages.lipsync._mouth_motion import MouthMotion
    from stages.lipsync.viseme import VisemeLipSync

    info = probe(clip)
    video = VideoRef(str(clip), info.fps, info.frame_count, info.width, info.height)
    speech = read_audio(driver_audio if driver_audio is not None else clip)
    duration = info.frame_count / info.fps
    speech = type(speech)(speech.samples[:int(duration * speech.sample_rate)],
                          speech.sample_rate)
    if len(speech.samples) < int(duration * speech.sample_rate):
        pad = np.zeros(int(duration * speech.sample_rate) - len(speech.samples), np.float32)
        speech = type(speech)(np.concatenate([speech.samples, pad]), speech.sample_rate)
    track = DubTrack(speech)
    backend = VisemeLipSync(settings(sets))
    if driver_audio is not None:
        backend.sync(video, track, out, _no_progress)
        return out
    frames = max(output_frame_count(video, track), 1)
    still = MouthMotion(np.zeros((frames, 20, 2), np.float32), np.zeros(frames, np.float32),
                        np.zeros(frames, np.float32), "a closed mouth")
    backend.render_motion(video, track, out, _no_progress, still)
    return out


def settings(sets: list[str]) -> Any:
    """VisemeLipSync.Config with `lipsync.key=value` overrides (typed as the defaults)."""
    from dataclasses import fields, replace

    from stages.lipsync.viseme import VisemeLipSync

    config = VisemeLipSync.Config()
    types = {f.name: type(getattr(config, f.name)) for f in fields(config)}
    changes: dict[str, Any] = {}
    for item in sets:
        key, value = item.removeprefix("lipsync.").split("=", 1)
        kind = types[key]
        changes[key] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return replace(config, **changes)


def _no_progress(fraction: float, message: str = "") -> None:
    pass


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("leak_opening", "follow_opening", "leak_jaw", "follow_jaw", "opening_std")
    summary: dict[str, Any] = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in keys}
    for group in ("leak_pixels", "motion_ratio"):
        summary[group] = {name: round(float(np.mean([r[group][name] for r in rows])), 4)
                          for name in rows[0][group]}
    return summary


def save_map(maps: list[np.ndarray], path: Path) -> None:
    """The mean per-pixel leak map, red = output motion rises with the source's mouth."""
    import cv2

    mean = np.nanmean(np.stack(maps), axis=0)
    scaled = np.clip(mean / 0.5, -1, 1)
    image = np.zeros((*mean.shape, 3), np.uint8)
    image[..., 0] = (255 * np.clip(scaled, 0, 1)).astype(np.uint8)  # BGR: blue = negative
    image[..., 2] = (255 * np.clip(scaled, 0, 1)).astype(np.uint8)
    image[..., 1] = (255 * np.clip(-scaled, 0, 1)).astype(np.uint8)
    image = cv2.resize(image, (mean.shape[1] * 8, mean.shape[0] * 8),
                       interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(path), image)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=Path, default=GRID)
    parser.add_argument("--speakers", nargs="+", default=["s1", "s4"],
                        help="GRID speakers (default: the judge's training speakers; the "
                             "measure needs no judge)")
    parser.add_argument("--clips", type=int, default=8, help="clips per speaker")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--conditions", nargs="+", default=["other", "still", "source"],
                        choices=["other", "still", "source"])
    parser.add_argument("--work", type=Path, help="keep the videos here (default: temp)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "leak.json")
    args = parser.parse_args(argv)

    from f2f.media import read_audio  # noqa: F401  (fails early without the media stack)

    started = time.perf_counter()
    conditions = tuple(args.conditions)
    rows: dict[str, list[dict[str, Any]]] = {c: [] for c in conditions}
    maps: dict[str, list[np.ndarray]] = {c: [] for c in conditions}
    chance: list[float] = []
    per_clip: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="f2f-bench-leak-") as tmp:
        folder = args.work or Path(tmp)
        for speaker in args.speakers:
            clips = sorted(p for p in (args.grid / speaker).glob("*.mpg"))[:args.clips]
            measured = {c: measure(c) for c in clips}
            for index, clip in enumerate(clips):
                other = clips[(index + 1) % len(clips)]
                source_marks, source_greys = measured[clip]
                source, driver = features(source_marks), features(measured[other][0])
                masks = regions(source_marks)
                n = min(len(source["opening"]), len(driver["opening"]))
                chance.append(corr(highpass(source["opening"][:n]),
                                   highpass(driver["opening"][:n])))
                name = f"{speaker}/{clip.stem}"
                per_clip[name] = {"driver": f"{speaker}/{other.stem}"}
                for condition in conditions:
                    if condition == "source":  # the untouched clip: how much A's mouth shows
                        out_marks, out_greys = source_marks, source_greys
                    else:
                        out = folder / speaker / f"{clip.stem}_{condition}.mp4"
                        out.parent.mkdir(parents=True, exist_ok=True)
                        if not out.is_file():
                            render(clip, other if condition == "other" else None, out,
                                   args.sets)
                        out_marks, out_greys = measure(out, source_marks)
                    row, pixel_map = leak_row(out_marks, out_greys, source, driver, masks,
                                              source_greys)
                    rows[condition].append(row)
                    maps[condition].append(pixel_map)
                    per_clip[name][condition] = row
                print(name, {c: round(per_clip[name][c]["leak_opening"], 3)
                             for c in conditions}, file=sys.stderr)
    summary = {c: summarise(rows[c]) for c in conditions}
    result = {"what": "correlation of viseme's output lower-face motion with the source's own "
                      "mouth (leak) and with the driving clip's (follow), high-passed",
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "machine": f"{platform.node()} {platform.machine()} (shared CPU)",
              "command": "python bench/bench_leak.py " + " ".join(argv or sys.argv[1:]),
              "settings": args.sets, "highpass_sigma_frames": HIGHPASS_SIGMA,
              "chance_opening": round(float(np.mean(chance)), 4),
              "summary": summary, "per_clip": per_clip,
              "wall_s": round(time.perf_counter() - started, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for condition in conditions:
        save_map(maps[condition], args.out.with_name(f"{args.out.stem}_{condition}_map.png"))
    tmp_out = args.out.with_name(f".{args.out.name}.tmp")
    tmp_out.write_text(json.dumps(result, indent=1))
    tmp_out.replace(args.out)
    print(json.dumps({"chance_opening": result["chance_opening"], **summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
