"""Lip sync of every backend, judged by the shipped SyncNet on GRID speakers it never saw.

    python bench/bench_sync.py [--quick] [--out bench/results/sync_grid.json]
    python bench/bench_sync.py --speakers s1 s4 --clips 18 --backends viseme \
        --set lipsync.smoothing_frames=1.2 --work DIR --out /tmp/tune.json   # compare settings

Clips: GRID speakers s2 and s29 of `../shared/data/grid`, the judge's validation speakers (it
was trained on s1 and s4). Conditions, each scored with LSE-D, LSE-C and the AV offset of the
judge (`eval.judge`, the default expert of `eval`):

    real              the clip with its own audio (what a perfect lip sync would reach)
    misaligned_real   the clip's video with the next clip's real audio (a floor)
    hindi_none        the pipeline's Hindi dub, `--lipsync none` (the original mouth)
    hindi_<backend>   the same dub lip-synced by each available backend
    other_<backend>   the backend driven by the next clip's real English speech (`--dub-audio`)

With `--diagnose`, where the rest of the way to `real` is lost:

    own_none          the pipeline with the clip's own speech as the dub, no lip sync (what
                      decoding, timing and encoding cost)
    own_<backend>     the backend driven by the clip's own speech
    landmarks_viseme  viseme's renderer driven by the clip's own mouth landmarks (the motion
                      exactly right: what the rendering alone reaches)

The Hindi dub runs once per clip (ASR, MT, TTS and VC are cached; only the lip sync differs).
A backend that cannot run here (e.g. missing weights) is listed with its reason. `--quick`
scores 3 clips and only `none` and the default backend (a CI smoke test). `--work DIR` keeps the
videos and the pipeline cache: a video already there is scored, not made again (delete DIR after
changing a backend).
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GRID = REPO.parent / "shared" / "data" / "grid"
VIDEO_SUFFIXES = (".mpg", ".webm", ".mp4")


def held_out_clips(grid: Path, limit: int | None,
                   speakers: list[str] | None = None) -> list[Path]:
    from eval.judge import VAL_SPEAKERS

    clips = [p for s in speakers or VAL_SPEAKERS for p in sorted((grid / s).glob("*"))
             if p.suffix in VIDEO_SUFFIXES]
    return clips[:limit] if limit else clips


def lipsync_backends(quick: bool, only: list[str] | None = None
                     ) -> tuple[list[str], dict[str, str]]:
    """Backends that can run here, and why the others cannot."""
    from f2f.config import DEFAULT_BACKENDS
    from f2f.registry import backend_names, get_backend_class

    names = [DEFAULT_BACKENDS["lipsync"]] if quick else only or [
        n for n in backend_names("lipsync") if n != "none"]
    runnable, skipped = [], {}
    for name in names:
        status = get_backend_class("lipsync", name)().availability()
        if status.ok:
            runnable.append(name)
        else:
            skipped[name] = status.reason
    return runnable, skipped


def dub(clip: Path, out: Path, lipsync: str, work: Path, pool: Any,
        dub_audio: Path | None = None, sets: tuple[str, ...] = ()) -> Path:
    from f2f.config import load_config
    from f2f.pipeline import translate_video

    # `sets` apply to the lip sync only; `none` takes no lipsync.* settings
    extra = [s for s in sets if lipsync != "none"]
    config = load_config(sets=[f"lipsync={lipsync}", *extra], target_language="hi",
                         manual_dub_audio=str(dub_audio) if dub_audio else None)
    translate_video(clip, out, config, workdir=work, pool=pool)
    return out


def own_audio(clip: Path, folder: Path) -> Path:
    """The clip's own speech as a WAV file (for `--dub-audio`)."""
    import soundfile

    from f2f.media import read_audio

    path = folder / "audio" / f"{clip.parent.name}_{clip.stem}.wav"
    if not path.is_file():
        speech = read_audio(clip)
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(path, speech.samples, speech.sample_rate)
    return path


def landmark_driven(clip: Path, out: Path) -> Path:
    """`viseme`'s renderer driven by the clip's own mouth (dlib landmarks, frame by frame, as
    offsets from its closed mouth) instead of by a dub: how far the rendering alone gets when
    the motion is exactly right. The video has no audio; it is scored with the clip's own."""
    from f2f.artifacts import DubTrack, VideoRef
    from f2f.media import probe, read_audio
    from stages.lipsync._common import output_frame_count
    from stages.lipsync._mouth_motion import motion_from_mouths
    from stages.lipsync.mouth_train import extract_clip
    from stages.lipsync.viseme import VisemeLipSync

    info = probe(clip)
    video = VideoRef(str(clip), info.fps, info.frame_count, info.width, info.height)
    track = DubTrack(read_audio(clip))
    frames = max(output_frame_count(video, track), 1)
    motion = motion_from_mouths(extract_clip(clip)[0], frames, "the source's own landmarks")
    VisemeLipSync().render_motion(video, track, out, _no_progress, motion)
    return out


def _no_progress(fraction: float, message: str = "") -> None:
    pass


def crops(video: Path, cache: Path) -> tuple[Any, float]:
    """The judge's face crops of a video (`eval.lips.face_crops`), kept in `cache` (.npy): they
    do not depend on the expert, so a rescoring with another judge skips face tracking."""
    import numpy as np

    from eval.lips import EXPERT_FPS, face_crops

    if cache.is_file():
        return np.load(cache), EXPERT_FPS
    faces, fps = face_crops(video)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache.with_suffix(".tmp.npy"), faces)
    cache.with_suffix(".tmp.npy").replace(cache)
    return faces, fps


def score(video: Path, expert: Any, cache: Path, audio: Any = None) -> dict[str, float]:
    """LSE of `video` (with its own audio, or `audio`): the protocol of `eval.lips.lse`."""
    from eval.lips import lse_from_features
    from f2f.media import read_audio

    faces, fps = crops(video, cache)
    features = expert.features(faces, audio if audio is not None else read_audio(video), fps)
    return lse_from_features(*features).summary()


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    import numpy as np

    return {"clips": len(rows),
            "lse_d": round(float(np.mean([r["lse_d"] for r in rows])), 4),
            "lse_c": round(float(np.mean([r["lse_c"] for r in rows])), 4),
            "lse_c_std": round(float(np.std([r["lse_c"] for r in rows])), 4),
            "offset_within_1": int(sum(abs(r["lse_offset_frames"]) <= 1 for r in rows))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=Path, default=GRID)
    parser.add_argument("--quick", action="store_true", help="3 clips, none + default backend")
    parser.add_argument("--clips", type=int, help="score only the first N held-out clips")
    parser.add_argument("--expert", help="another SyncNet checkpoint (default: the judge)")
    parser.add_argument("--diagnose", action="store_true",
                        help="also: own_none (the pipeline with the clip's own speech as the "
                             "dub, no lip sync), own_<backend> (driven by the clip's own "
                             "speech), landmarks_viseme (the renderer driven by the clip's own "
                             "mouth landmarks)")
    parser.add_argument("--speakers", nargs="+",
                        help="GRID speakers to score (default: the judge's validation speakers; "
                             "its training speakers are for tuning, their scores are inflated)")
    parser.add_argument("--backends", nargs="+", help="lip-sync backends (default: all)")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="a lipsync.* setting for the backends' runs (videos go to a folder "
                             "named after the settings, so runs with other settings are kept)")
    parser.add_argument("--work", type=Path, help="keep videos and cache here (default: temp)")
    parser.add_argument("--make-only", action="store_true",
                        help="make the videos and face crops; the scores are not written")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" /
                        "sync_grid.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from eval.judge import load_expert
    from f2f.media import read_audio
    from f2f.pipeline import BackendPool

    started = time.perf_counter()
    expert = load_expert(args.expert)
    clips = held_out_clips(args.grid, 3 if args.quick else args.clips, args.speakers)
    backends, skipped = lipsync_backends(args.quick, args.backends)
    bad = [s for s in args.sets if not s.startswith("lipsync.")]
    if bad:
        parser.error(f"--set takes lipsync.* settings only, not {bad[0]!r}")
    variant = "out" + "".join(f"_{s.removeprefix('lipsync.')}" for s in args.sets)
    pool = BackendPool()
    per_clip: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="f2f-bench-sync-") as tmp:
        folder = args.work or Path(tmp)
        for index, clip in enumerate(clips):
            other = clips[(index + 1) % len(clips)]
            name = f"{clip.parent.name}/{clip.stem}"
            work = folder / "cache" / name
            cached = folder / "crops" / name
            real_crops = cached / "real.npy"
            rows: dict[str, Any] = {"real": score(clip, expert, real_crops),
                                    "misaligned_real": score(clip, expert, real_crops,
                                                             read_audio(other))}
            runs: list[tuple[str, str, Path | None]] = [("hindi_none", "none", None)]
            runs += [(f"hindi_{b}", b, None) for b in backends]
            runs += [(f"other_{b}", b, other) for b in backends]
            if args.diagnose:
                mine = own_audio(clip, folder)
                runs += [("own_none", "none", mine)] + [(f"own_{b}", b, mine) for b in backends]
            for condition, backend, dub_audio in runs:
                folder_name = "out" if backend == "none" else variant
                out = folder / folder_name / name / f"{condition}.mp4"
                out.parent.mkdir(parents=True, exist_ok=True)
                try:
                    if not out.is_file():
                        dub(clip, out, backend, work, pool, dub_audio, tuple(args.sets))
                    crop_file = cached / folder_name / f"{condition}.npy" \
                        if folder_name != "out" else cached / f"{condition}.npy"
                    rows[condition] = score(out, expert, crop_file)
                except Exception as exc:  # one failing run is reported, the bench goes on
                    failures[f"{name} {condition}"] = f"{type(exc).__name__}: {exc}"[:300]
            if args.diagnose and "viseme" in backends:
                out = folder / variant / name / "landmarks_viseme.mp4"
                try:
                    if not out.is_file():
                        landmark_driven(clip, out)
                    rows["landmarks_viseme"] = score(out, expert, cached / variant /
                                                     "landmarks_viseme.npy", read_audio(clip))
                except Exception as exc:
                    failures[f"{name} landmarks_viseme"] = f"{type(exc).__name__}: {exc}"[:300]
            per_clip[name] = rows
            print(name, {k: v["lse_c"] for k, v in rows.items()}, file=sys.stderr)
    if args.make_only:
        return 0
    conditions = sorted({c for rows in per_clip.values() for c in rows},
                        key=lambda c: (c != "real", c != "misaligned_real", c))
    summary = {c: summarise([rows[c] for rows in per_clip.values() if c in rows])
               for c in conditions}
    result = {"what": "LSE-D/LSE-C/offset of the shipped SyncNet judge on held-out GRID "
                      "speakers, per lip-sync condition",
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "machine": f"{platform.node()} {platform.machine()} {platform.processor()} "
                         f"(shared CPU; times pessimistic)",
              "command": "python bench/bench_sync.py " + " ".join(argv or sys.argv[1:]),
              "expert": expert.name, "settings": args.sets,
              "clips": [f"{c.parent.name}/{c.stem}" for c in clips],
              "backends": backends, "backends_not_run": skipped, "failures": failures,
              "summary": summary, "per_clip": per_clip,
              "wall_s": round(time.perf_counter() - started, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_name(f".{args.out.name}.tmp")
    tmp_out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    tmp_out.replace(args.out)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
