"""Slot-aware MT: how many segments need more than 1.15x speed-up, before and after the choice.

For the demo and the shared GRID clips: ASR (the default faster-whisper tiny.en) gives the time
slots, the default MT translates each segment once plainly and once slot-aware, and the default
TTS (eSpeak NG) speaks both, so the speed-up is measured on real synthesised audio, not on the
MT's own estimate. The TTS rate the MT uses is calibrated first, on FLORES dev Hindi references
(text the slot choice never sees). Two figures per segment:
- `speedup_*`: what the pipeline's timing fit (default settings) actually applies: speech runs
  on into the pause after its segment before it is sped up past 1.1x (`f2f/timing.py`);
- `in_segment_*`: spoken seconds / the ASR segment's own span, as if no pause could be used.

    OMP_NUM_THREADS=1 nice -n 10 python -m bench.bench_mt_slots --grid 20 \
        --out bench/results/mt_slots.json

The demo and GRID clips 0-19 are the clips the rules were developed on; GRID clips 20-59 were
never looked at while writing them (the held-out figure):

    OMP_NUM_THREADS=1 nice -n 10 python -m bench.bench_mt_slots --no-demo --grid-from 20 \
        --grid 40 --out bench/results/mt_slots_heldout.json
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from f2f.artifacts import TranslatedSegment, Translation  # noqa: E402
from f2f.config import TimingConfig  # noqa: E402
from f2f.media import read_audio  # noqa: E402
from f2f.timing import fit_to_timeline  # noqa: E402
from f2f.registry import get_backend_class  # noqa: E402
from stages.mt._fit import syllables  # noqa: E402

SHARED = Path(os.environ.get("F2F_SHARED") or REPO.parent / "shared")
LIMIT = 1.15


def _silent(fraction: float, message: str = "") -> None:
    pass


def spoken_seconds(tts: Any, texts: list[str]) -> list[float]:
    segments = tuple(TranslatedSegment(i, "", t, float(i), float(i) + 1.0)
                     for i, t in enumerate(texts))
    speech = tts.synthesize(Translation("en", "hi", segments, "bench"), _silent)
    return [s.speech.samples.shape[0] / s.speech.sample_rate for s in speech.segments]


def spoken_and_applied(tts: Any, translation: Translation,
                       duration_s: float) -> tuple[list[float], dict[int, float]]:
    """The real TTS speech's seconds per segment, and per segment id the speed-up the default
    timing fit applies to it (one synthesis for both)."""
    speech = tts.synthesize(translation, _silent)
    seconds = [s.speech.samples.shape[0] / s.speech.sample_rate for s in speech.segments]
    track = fit_to_timeline(speech, translation, duration_s, TimingConfig(), fps=25.0)
    return seconds, {t.id: round(1.0 / t.stretch, 3) if t.stretch > 0 else 1.0
                     for t in track.timings}


def calibrate(tts: Any, n: int = 40) -> float:
    with (SHARED / "data/flores200/flores_dev_en_hi.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[:n]
    texts = [r["hi"] for r in rows]
    seconds = spoken_seconds(tts, texts)
    return sum(syllables(t) for t in texts) / sum(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", type=int, default=20, help="how many GRID clips")
    parser.add_argument("--grid-from", type=int, default=0,
                        help="first GRID clip (20: clips the rules were never developed on)")
    parser.add_argument("--no-demo", action="store_true", help="leave the demo clip out")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    tts = get_backend_class("tts", "espeak")()
    rate = calibrate(tts)
    asr = get_backend_class("asr", "faster-whisper")()
    mt_class = get_backend_class("mt", "lexicon")
    plain_mt = mt_class(replace(mt_class.Config(), fit_slots=False))
    fit_mt = mt_class(replace(mt_class.Config(), speaking_rate_syl_s=rate))
    with (SHARED / "data/grid/INDEX.tsv").open(encoding="utf-8") as handle:
        grid = [SHARED / "data/grid" / r["path"]
                for r in csv.DictReader(handle, delimiter="\t")][
                    args.grid_from:args.grid_from + args.grid]
    demo = [] if args.no_demo else [REPO / "examples/obama_weekly_address_10s.mp4"]
    clips = [*demo, *grid]
    rows: list[dict[str, Any]] = []
    for clip in clips:
        audio = read_audio(clip)
        transcript = asr.transcribe(audio, "en", _silent)
        fit_mt.fit_to_timeline(audio.duration_s, TimingConfig().use_following_silence)
        plain = plain_mt.translate(transcript, "hi", _silent)
        fitted = fit_mt.translate(transcript, "hi", _silent)
        choices = {c["segment_id"]: c for c in fit_mt.metrics.get("slot_fit", [])}
        before, applied_before = spoken_and_applied(tts, plain, audio.duration_s)
        after, applied_after = spoken_and_applied(tts, fitted, audio.duration_s)
        for seg, p, f, b, a in zip(transcript.segments, plain.segments, fitted.segments,
                                   before, after, strict=True):
            if not p.text.strip():
                continue  # nothing said: no speed-up to judge
            slot = max(seg.end_s - seg.start_s, 1e-3)
            rows.append({"clip": clip.name, "segment": seg.id, "slot_s": round(slot, 3),
                         "en": seg.text, "plain": p.text, "chosen": f.text,
                         "estimate": choices.get(seg.id),
                         "speedup_before": applied_before[seg.id],
                         "speedup_after": applied_after[seg.id],
                         "in_segment_before": round(b / slot, 3),
                         "in_segment_after": round(a / slot, 3)})
    n = max(len(rows), 1)
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} ({os.cpu_count()} cpus, shared)",
        "command": "python -m bench.bench_mt_slots " + " ".join(argv or sys.argv[1:]),
        "tts": "espeak (default options)", "speaking_rate_syl_s": round(rate, 3),
        "limit": LIMIT, "clips": len(clips), "segments": len(rows),
        "demo": not args.no_demo, "grid_clips": [args.grid_from, args.grid_from + len(grid)],
        "fit_before": round(sum(r["speedup_before"] <= LIMIT for r in rows) / n, 4),
        "fit_after": round(sum(r["speedup_after"] <= LIMIT for r in rows) / n, 4),
        "in_segment_fit_before": round(sum(r["in_segment_before"] <= LIMIT for r in rows) / n, 4),
        "in_segment_fit_after": round(sum(r["in_segment_after"] <= LIMIT for r in rows) / n, 4),
        "rows": rows}
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
