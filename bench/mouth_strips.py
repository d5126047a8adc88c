"""Mouth strips: the lower face of a source video and its lip-synced output, side by side.

    python bench/mouth_strips.py ORIGINAL OUTPUT --out docs/viseme_strip.png [--every 0.5]
    python bench/mouth_strips.py ORIGINAL BEFORE AFTER --out strip.png --frames 99-108  # rows
    python bench/mouth_strips.py ORIGINAL OUTPUT --sheets DIR   # every frame, a sheet a second

The crop around the mouth is found on the original frame (dlib landmarks), so both rows show the
same pixels. Row 1: original, then one row per output, one column per sample time or frame.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np


def _crops(original: Path, outputs: list[Path], indices: set[int] | None, size: int
           ) -> dict[int, tuple[np.ndarray, ...]]:
    """Per frame index: the original's mouth crop, then each output's at the same pixels."""
    import cv2

    from f2f.faces import FaceDetector, FaceTracker, LandmarkPredictor, interocular
    from f2f.media import iter_frames, probe

    info = probe(original)
    streams = [iter_frames(original, info.fps, info.width, info.height)]
    for output in outputs:
        out_info = probe(output)
        streams.append(iter_frames(output, out_info.fps, out_info.width, out_info.height))
    tracker = FaceTracker(FaceDetector("auto"), detect_every=5)
    predictor = LandmarkPredictor()
    crops: dict[int, tuple[np.ndarray, ...]] = {}
    for index, frames in enumerate(zip(*streams, strict=False)):
        before = frames[0]
        box = tracker.update(before)
        if indices is not None and index not in indices:
            continue
        if box is None:
            continue
        marks = predictor.predict(before, box)
        scale = interocular(marks)
        cx, cy = marks[48:68].mean(axis=0)
        half = 0.9 * scale
        x0, y0 = int(max(0, cx - half)), int(max(0, cy - 0.75 * half))
        x1, y1 = int(min(info.width, cx + half)), int(min(info.height, cy + 1.25 * half))
        crops[index] = tuple(cv2.resize(np.ascontiguousarray(f[y0:y1, x0:x1]), (size, size),
                                        interpolation=cv2.INTER_AREA) for f in frames)
    return crops


def _label(image: np.ndarray, text: str) -> np.ndarray:
    import cv2

    out = image.copy()
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


def _write(path: Path, image: np.ndarray) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.png")
    cv2.imwrite(str(tmp), image[:, :, ::-1])
    tmp.replace(path)


def strip(original: Path, outputs: list[Path], out: Path, every_s: float, size: int,
          frames: range | None = None) -> None:
    """One column per sample time (every `every_s`), or per frame of `frames`; one row for the
    original, then one per output."""
    from f2f.media import probe

    info = probe(original)
    count = int(info.frame_count / info.fps / every_s) + 1
    wanted = set(frames) if frames is not None else {
        int(round(k * every_s * info.fps)) for k in range(count)}
    crops = _crops(original, outputs, wanted, size)
    digits = 2 if frames is not None else 1
    columns = [np.concatenate([_label(b, f"{i / info.fps:.{digits}f}s"), *rest], axis=0)
               for i, (b, *rest) in sorted(crops.items())]
    _write(out, np.concatenate(columns, axis=1))


def sheets(original: Path, output: Path, folder: Path, size: int) -> None:
    from f2f.media import probe

    info = probe(output)
    per = int(round(info.fps))
    crops = _crops(original, [output], None, size)
    for second in range(0, max(crops) // per + 1):
        tiles = [_label(crops[i][1], f"{i / info.fps:.2f}") for i in
                 range(second * per, (second + 1) * per) if i in crops]
        if not tiles:
            continue
        cols = 5
        tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % cols)
        rows = [np.concatenate(tiles[r:r + cols], axis=1) for r in range(0, len(tiles), cols)]
        _write(folder / f"sheet_{second:03d}.png", np.concatenate(rows, axis=0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("original", type=Path)
    parser.add_argument("output", type=Path, nargs="+",
                        help="lip-synced video(s); a strip shows one row each")
    parser.add_argument("--out", type=Path, help="strip PNG (before/after every --every s)")
    parser.add_argument("--every", type=float, default=0.5)
    parser.add_argument("--frames", help="a frame range FIRST-LAST instead of --every")
    parser.add_argument("--sheets", type=Path, help="folder for per-second sheets of all frames")
    parser.add_argument("--size", type=int, default=112)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.out:
        frames = None
        if args.frames:
            first, last = (int(v) for v in args.frames.split("-"))
            frames = range(first, last + 1)
        strip(args.original, args.output, args.out, args.every, args.size, frames)
    if args.sheets:
        sheets(args.original, args.output[0], args.sheets, args.size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
