"""Turns talking-face videos into a training folder: face crops + 16 kHz audio per clip.

    python -m lipgan.preprocess VIDEOS_OR_DIR [...] --out DATA [--size 96] [--split speaker]

Reads plain folders of videos and the LRS2 layout (`main/<video id>/<utterance>.mp4`, with its
`train.txt` / `val.txt` lists when they sit in the input folder). Faces are found and tracked with
`f2f.faces` and cropped by `f2f.facecrop` (the rule the lip-sync stage and `eval` use too).
Resumable: finished clips are skipped. Clips that cannot be used (unreadable, no audio, no face
in too many frames) are counted and listed in DATA/failed.tsv, never dropped silently.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from f2f.errors import ConfigError, F2FError, MediaError, NoFaceError, run_command
from f2f.facecrop import FACE_SIZE, crop_face, face_region

if TYPE_CHECKING:  # for the annotations; preprocess() imports it where it builds one
    from f2f.faces import FaceDetector

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".mpg", ".mpeg", ".avi", ".mov", ".mkv", ".webm", ".m4v"}
FPS = 25.0


@dataclass(frozen=True)
class PreprocessConfig:
    size: int = FACE_SIZE
    max_faceless: float = 0.2  # a clip with more frames without a face is rejected
    detect_every: int = 5
    detector: str = "auto"
    split: str = "clip"  # "clip" or "speaker" (first folder under the input)
    val_fraction: float = 0.1
    val_speakers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    path: Path
    clip_id: str  # relative path without suffix, e.g. "s1/bbaf2n"
    speaker: str  # first folder under the input, else the parent folder's name


def find_videos(inputs: Sequence[str | Path]) -> list[Source]:
    sources: list[Source] = []
    for item in map(Path, inputs):
        if item.is_file():
            sources.append(Source(item, item.stem, item.parent.name or "root"))
        elif item.is_dir():
            base = item / "main" if (item / "main").is_dir() else item  # LRS2
            for path in sorted(p for p in base.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES):
                rel = path.relative_to(base).with_suffix("")
                speaker = rel.parts[0] if len(rel.parts) > 1 else path.parent.name
                sources.append(Source(path, rel.as_posix(), speaker))
        else:
            raise ConfigError(f"input not found: {item}")
    ids = [s.clip_id for s in sources]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ConfigError(f"two inputs give the same clip id: {sorted(duplicates)[:3]}; "
                          "pass their common parent folder instead")
    return sources


def crop_faces(path: Path, config: PreprocessConfig, detector: FaceDetector
               ) -> tuple[np.ndarray, int]:
    """Face crops (N, size, size, 3) RGB uint8 at 25 fps and how many frames had no face.

    The crop is `f2f.facecrop`'s, the one the lip-sync stage and `eval` use, so an expert or a
    generator trained on these crops is run and scored on the same ones.
    """
    from f2f.media import probe

    if not probe(path).has_audio:
        raise MediaError("no audio stream")
    return video_face_crops(path, detector, size=config.size, detect_every=config.detect_every,
                            max_faceless=config.max_faceless)


def video_face_crops(path: str | Path, detector: FaceDetector, size: int = FACE_SIZE,
                     fps: float = FPS, detect_every: int = 5, max_faceless: float = 1.0
                     ) -> tuple[np.ndarray, int]:
    """Face crops of every frame resampled to `fps`; a frame without a face takes the nearest
    detected one. Raises MediaError when more than `max_faceless` of the frames have none."""
    from f2f.faces import track_faces
    from f2f.media import iter_frames, probe

    info = probe(path)
    if not info.has_video:
        raise MediaError(f"no video stream in {path}")
    current: list[np.ndarray] = []

    def frames() -> Iterator[np.ndarray]:
        for frame in iter_frames(path, fps, info.width, info.height):
            current[:] = [frame]
            yield frame

    crops: list[np.ndarray | None] = []
    for box in track_faces(frames(), detector, detect_every=detect_every):
        region = None if box is None else face_region(box, current[0].shape[:2])
        crops.append(None if region is None else crop_face(current[0], region, size))
    if not crops:
        raise MediaError(f"no frames decoded from {path}")
    faceless = sum(c is None for c in crops)
    if faceless > max_faceless * len(crops) or faceless == len(crops):
        raise NoFaceError(f"no face in {faceless} of {len(crops)} frames of {path}")
    present = {i: c for i, c in enumerate(crops) if c is not None}
    # a faceless frame takes the nearest frame's crop (a found frame is its own nearest)
    filled = [present[min(present, key=lambda j: abs(j - i))] for i in range(len(crops))]
    return np.stack(filled).astype(np.uint8), faceless


def _in_val(source: Source, config: PreprocessConfig) -> bool:
    if config.val_speakers:
        return source.speaker in config.val_speakers
    key = source.speaker if config.split == "speaker" else source.clip_id
    digest = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16)
    return digest / 0xFFFFFFFF < config.val_fraction


def _lrs2_lists(inputs: Sequence[str | Path]) -> dict[str, str]:
    """clip id -> split from LRS2's own lists, when an input folder has them."""
    splits: dict[str, str] = {}
    for item in map(Path, inputs):
        for name, split in (("train", "train"), ("val", "val"), ("test", "val")):
            listing = item / f"{name}.txt"
            if item.is_dir() and listing.is_file():
                for line in listing.read_text().splitlines():
                    if line.strip():
                        splits[line.split()[0]] = split
    return splits


def preprocess(inputs: Sequence[str | Path], out: str | Path,
               config: PreprocessConfig = PreprocessConfig()) -> dict[str, object]:
    """Writes DATA (see lipgan.data) and returns counts: done, skipped, failed."""
    from f2f.faces import FaceDetector
    from f2f.media import read_audio

    out = Path(out)
    sources = find_videos(inputs)
    if not sources:
        raise ConfigError(f"no videos ({', '.join(sorted(VIDEO_SUFFIXES))}) in {list(inputs)}")
    detector = FaceDetector(backend=config.detector)
    log.info("lipgan.preprocess: %d videos -> %s (detector %s)", len(sources), out,
             config.detector)
    lists = _lrs2_lists(inputs)
    split_of: dict[str, list[str]] = {"train": [], "val": []}
    failed: list[tuple[str, str, str]] = []
    done = skipped = 0
    try:
        from tqdm import tqdm
        progress = tqdm(sources, desc="preprocess", unit="clip", disable=None)
    except ImportError:
        progress = sources
    for source in progress:
        folder = out / "clips" / source.clip_id
        if (folder / "meta.json").is_file():
            skipped += 1
        else:
            try:
                faces, faceless = crop_faces(source.path, config, detector)
                speech = read_audio(source.path, 16_000)
                if speech.samples.size < 16_000 * 0.3:
                    raise MediaError("audio shorter than 0.3 s")
            except F2FError as exc:
                failed.append((source.clip_id, str(source.path), str(exc).replace("\t", " ")))
                log.warning("lipgan.preprocess: skipping %s: %s", source.path, exc)
                continue
            folder.mkdir(parents=True, exist_ok=True)
            np.save(folder / "faces.npy", faces)
            speech.save_wav(folder / "audio.wav")
            meta = {"source": str(source.path), "speaker": source.speaker, "fps": FPS,
                    "n_frames": int(len(faces)), "faceless_frames": int(faceless),
                    "size": config.size, "audio_s": round(speech.duration_s, 3)}
            (folder / "meta.json").write_text(json.dumps(meta, indent=1))  # last: marks done
            done += 1
        split = lists.get(source.clip_id) or ("val" if _in_val(source, config) else "train")
        split_of[split].append(source.clip_id)
    for split, ids in split_of.items():
        (out / f"{split}.txt").write_text("".join(f"{i}\n" for i in ids))
    (out / "failed.tsv").write_text("clip_id\tpath\treason\n" + "".join(
        "\t".join(row) + "\n" for row in failed))
    summary = {"videos": len(sources), "processed": done, "already_done": skipped,
               "failed": len(failed), "train": len(split_of["train"]),
               "val": len(split_of["val"]), "config": asdict(config)}
    (out / "manifest.json").write_text(json.dumps(summary, indent=1))
    return summary


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lipgan.preprocess", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="video files or folders (LRS2 root works)")
    parser.add_argument("--out", required=True, help="output DATA folder")
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--split", choices=("clip", "speaker"), default="clip")
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--val-speakers", default="",
                        help="comma-separated speaker folders for validation, e.g. s4")
    parser.add_argument("--detector", default="auto", help="f2f.faces backend: auto, dlib, haar")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    config = PreprocessConfig(size=args.size, split=args.split, val_fraction=args.val_fraction,
                              val_speakers=tuple(s for s in args.val_speakers.split(",") if s),
                              detector=args.detector)
    def run() -> int:
        summary = preprocess(args.inputs, args.out, config)
        print(json.dumps({k: v for k, v in summary.items() if k != "config"}))
        return 0
    return run_command(run, debug=args.debug)


if __name__ == "__main__":
    sys.exit(cli())
