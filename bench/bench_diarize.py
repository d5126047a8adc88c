"""Benchmark (not a test): diarization error and active-speaker choice on generated two-speaker
videos (tests/_two_speakers.py: GRID s1 (male, left) and s4 (female, right) taking turns, four
clip pairs), and one-speaker inputs that must stay one speaker.

    nice python bench/bench_diarize.py [--out bench/results/diarize.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "diarize.json")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from _two_speakers import make_two_speakers

    from eval.speech import diarization_error_rate
    from f2f import media
    from f2f.active_speaker import choose_faces, loudness_per_frame
    from f2f.artifacts import Speech
    from f2f.diarize import diarize
    from f2f.face_tracks import track_all_faces
    from f2f.faces import FaceDetector, LandmarkPredictor

    data = args.shared / "data"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for first in (0, 2, 4, 6):
            two = make_two_speakers(data, Path(tmp), first_clip=first)
            started = time.perf_counter()
            result = diarize(two.audio)
            seconds = time.perf_counter() - started
            hypothesis = [(t.speaker, t.start_s, t.end_s) for t in result.turns]
            info = media.probe(two.video)
            tracks = track_all_faces(media.iter_frames(two.video, info.fps, info.width,
                                                       info.height),
                                     FaceDetector("dlib"), LandmarkPredictor())
            loudness = loudness_per_frame(two.audio, info.fps, two.frames)
            choices = choose_faces(tracks, loudness, info.fps, hypothesis)
            right = []
            for c in choices:
                overlap: dict[str, float] = {}
                for s, a, b in two.turns:
                    overlap[s] = overlap.get(s, 0.0) + max(0.0, min(c.end_s, b) - max(c.start_s, a))
                side = None if c.track is None else int(
                    tracks[c.track].centre_x >= info.width / 2)  # 0 = left face, 1 = right
                right.append(side == two.faces[max(overlap, key=overlap.__getitem__)])
            rows.append({"material": f"s1+s4 clips {first},{first + 1}",
                         "audio_s": round(two.audio.duration_s, 2),
                         "speakers": len(result.speakers),
                         "der": round(diarization_error_rate(two.turns, hypothesis), 4),
                         "faces": len(tracks), "turns_to_speaking_face": round(np.mean(right), 3),
                         "margins": [c.confidence for c in choices],
                         "diarize_s": round(seconds, 2)})
            print(json.dumps(rows[-1]), flush=True)
    singles = {"demo talk (10 s)": [data / "talks" / "obama_weekly_address_10s.mp4"],
               "s1 x20 GRID clips": sorted((data / "grid" / "s1").glob("*.mpg"))[:20],
               "s4 x10 GRID clips": sorted((data / "grid" / "s4").glob("*.mpg"))[:10]}
    for name, paths in singles.items():
        speech = Speech(np.concatenate([media.read_audio(p).samples for p in paths]), 16_000)
        rows.append({"material": name, "audio_s": round(speech.duration_s, 2),
                     "speakers": len(diarize(speech).speakers), "expected_speakers": 1})
        print(json.dumps(rows[-1]), flush=True)
    pairs = [r for r in rows if "der" in r]
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": {"platform": platform.platform(),
                          "note": "shared 2-core machine, 8 jobs at once: times pessimistic"},
              "command": "python " + " ".join(sys.argv),
              "summary": {"der_mean": round(float(np.mean([r["der"] for r in pairs])), 4),
                          "der_max": max(r["der"] for r in pairs),
                          "speaking_face_share": round(float(np.mean(
                              [r["turns_to_speaking_face"] for r in pairs])), 3),
                          "one_speaker_inputs_kept_one": all(
                              r["speakers"] == 1 for r in rows if "expected_speakers" in r)},
              "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".tmp")
    tmp_out.write_text(json.dumps(result, indent=1))
    tmp_out.replace(args.out)
    print(json.dumps(result["summary"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
