"""ASR models side by side: WER on real GRID and LJ Speech clips, and long inputs made from them.

    python bench/bench_asr.py --models tiny.en base --out bench/results/asr_cpu2.json

For each faster-whisper model: WER and speed on GRID clips (the 6 top-level ones plus
`--per-speaker` from each speaker folder, in INDEX.tsv order) and on LJ Speech; then long inputs
made in the run: the GRID clips joined with pauses, and the demo talk looped `--loop-copies`
times. A long input is judged by how many of the words its pieces give one by one it keeps
(and by WER on the joined GRID clips), not by the speech coverage the backend reports itself:
that figure comes from the same VAD that chose the chunks, so it is shown but judges nothing.
Speed is wall time and CPU time of this process; on a shared machine wall time is pessimistic.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # runnable as `python bench/bench_asr.py`
    sys.path.insert(0, str(REPO))

from eval.text import normalize_english, wer  # noqa: E402
from f2f.artifacts import Speech, Transcript  # noqa: E402
from f2f.media import read_audio  # noqa: E402
from f2f.registry import get_backend_class  # noqa: E402

SHARED = Path(os.environ.get("F2F_SHARED") or REPO.parent / "shared") / "data"
DEMO = SHARED / "talks" / "obama_weekly_address_10s.mp4"
RATE = 16000


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads of this process
    return usage.ru_utime + usage.ru_stime


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "load_average_at_start": list(os.getloadavg()),
            "note": "2 cores shared with other jobs: wall times are pessimistic"}


def grid_clips(per_speaker: int) -> list[tuple[Path, str]]:
    """(clip, reference) for the top-level GRID clips and the first `per_speaker` of each
    speaker folder."""
    grid = SHARED / "grid"
    with (grid / "transcripts.tsv").open(encoding="utf-8") as handle:
        clips = [(grid / r["file"], r["transcript"])
                 for r in csv.DictReader(handle, delimiter="\t")]
    taken: dict[str, int] = {}
    with (grid / "INDEX.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if taken.get(row["speaker"], 0) < per_speaker:
                taken[row["speaker"]] = taken.get(row["speaker"], 0) + 1
                clips.append((grid / row["path"], row["transcript"]))
    return clips


def ljspeech_clips() -> list[tuple[Path, str]]:
    folder = SHARED / "ljspeech"
    with (folder / "metadata.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="|", quoting=csv.QUOTE_NONE))
    return [(folder / f"{clip_id}.wav", normalized) for clip_id, _text, normalized in rows]


class Timed:
    """Runs a backend's transcribe and keeps its wall and CPU seconds."""

    def __init__(self, backend: Any) -> None:
        self.backend, self.wall_s, self.cpu_s, self.audio_s = backend, 0.0, 0.0, 0.0

    def __call__(self, speech: Speech) -> Transcript:
        wall, cpu = time.perf_counter(), _cpu_s()
        transcript = self.backend.transcribe(speech, "en", lambda fraction, message="": None)
        self.wall_s += time.perf_counter() - wall
        self.cpu_s += _cpu_s() - cpu
        self.audio_s += speech.duration_s
        return transcript

    def speed(self) -> dict[str, float]:
        return {"audio_s": round(self.audio_s, 1), "wall_s": round(self.wall_s, 1),
                "cpu_s": round(self.cpu_s, 1),
                "wall_rtf": round(self.wall_s / max(self.audio_s, 1e-9), 3),
                "cpu_s_per_audio_s": round(self.cpu_s / max(self.audio_s, 1e-9), 3)}


def _words(transcript: Transcript) -> int:
    return len(normalize_english(transcript.text).split())


def score_clips(run: Callable[[Speech], Transcript], clips: list[tuple[Path, str]]
                ) -> tuple[dict[str, Any], list[Speech], list[int]]:
    refs, hyps, audio, counts = [], [], [], []
    for path, reference in clips:
        speech = read_audio(path, RATE)
        transcript = run(speech)
        refs.append(reference)
        hyps.append(transcript.text)
        audio.append(speech)
        counts.append(_words(transcript))
    return {"clips": len(clips), "wer": round(wer(refs, hyps), 4),
            "examples": [[r, h] for r, h in list(zip(refs, hyps, strict=True))[:4]]}, audio, counts


def joined(pieces: list[Speech], pause_s: float) -> Speech:
    gap = np.zeros(int(pause_s * RATE), np.float32)
    parts = [p for piece in pieces for p in (piece.samples.astype(np.float32), gap)]
    return Speech(np.concatenate(parts[:-1]), RATE)


def long_input(run: Timed, speech: Speech, piece_words: int, reference: str | None = None
               ) -> dict[str, Any]:
    before = (run.wall_s, run.cpu_s)
    transcript = run(speech)
    metrics = run.backend.metrics
    result = {
        "audio_s": round(speech.duration_s, 1), "words": _words(transcript),
        "words_of_pieces_one_by_one": piece_words,
        "word_ratio": round(_words(transcript) / max(piece_words, 1), 4),
        "cues": len(transcript.segments),
        "wall_s": round(run.wall_s - before[0], 1), "cpu_s": round(run.cpu_s - before[1], 1),
        "reported_speech_coverage": metrics.get("speech_coverage"),
        "reported_longest_uncovered_s": metrics.get("longest_uncovered_s"),
        "chunks": metrics.get("chunks"), "chunks_retried": metrics.get("chunks_retried"),
        "chunks_unresolved": metrics.get("chunks_unresolved"),
    }
    if reference is not None:
        result["wer"] = round(wer(reference, transcript.text), 4)
    result["_text"] = transcript.text
    return result


def bench_model(model: str, args: argparse.Namespace) -> dict[str, Any]:
    cls = get_backend_class("asr", "faster-whisper")
    backend = cls(cls.Config(model=model, cpu_threads=args.threads))
    status = backend.availability()
    if not status.ok:
        return {"model": model, "available": False, "reason": status.reason}
    backend._load()  # loading time is not transcription time
    out: dict[str, Any] = {"model": model, "available": True, "weights": status.weights}
    clips = grid_clips(args.per_speaker)
    grid_run = Timed(backend)
    out["grid"], grid_audio, grid_counts = score_clips(grid_run, clips)
    out["grid"]["speed"] = grid_run.speed()
    lj_run = Timed(backend)
    out["ljspeech"], _, _ = score_clips(lj_run, ljspeech_clips())
    out["ljspeech"]["speed"] = lj_run.speed()

    long_run = Timed(backend)
    grid_joined = joined(grid_audio, args.pause_s)
    reference = " ".join(r for _, r in clips)
    first = long_input(long_run, grid_joined, sum(grid_counts), reference)
    again = long_input(long_run, grid_joined, sum(grid_counts), reference)
    first["same_transcript_on_rerun"] = first.pop("_text") == again.pop("_text")
    out["grid_joined"] = first

    demo = read_audio(DEMO, RATE)
    one = _words(Timed(backend)(demo))
    loop = Speech(np.tile(demo.samples, args.loop_copies), RATE)
    looped = long_input(long_run, loop, one * args.loop_copies)
    looped.pop("_text")
    looped["copies"] = args.loop_copies
    out["demo_loop"] = looped
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    parser.add_argument("--per-speaker", type=int, default=5,
                        help="GRID clips taken from each speaker folder (besides the 6 others)")
    parser.add_argument("--loop-copies", type=int, default=18, help="18 x 10.2 s = 3 min")
    parser.add_argument("--pause-s", type=float, default=0.5, help="between joined GRID clips")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "asr_cpu2.json")
    args = parser.parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    results = [bench_model(model, args) for model in args.models]
    report = {"date": started.isoformat(timespec="seconds"), "machine": machine(),
              "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
              "settings": {k: str(v) for k, v in vars(args).items()}, "models": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    for r in results:
        if r.get("available"):
            print(f"{r['model']:>8}: GRID WER {r['grid']['wer']:.3f}, LJ WER "
                  f"{r['ljspeech']['wer']:.3f}, joined GRID words "
                  f"{r['grid_joined']['word_ratio']:.2f}"
                  f", demo loop words {r['demo_loop']['word_ratio']:.2f} in "
                  f"{r['demo_loop']['wall_s']:.0f} s wall / {r['demo_loop']['cpu_s']:.0f} s CPU")
        else:
            print(f"{r['model']:>8}: not available: {r['reason']}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
