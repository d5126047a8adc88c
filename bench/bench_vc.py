"""Benchmark (not a test): does voice conversion bring an eSpeak Hindi dub closer to the speaker,
judged on that speaker's speech the conversion never saw, and how long does it take?

    nice python bench/bench_vc.py [--backends none world knn] [--quick] [--out FILE]

Cases (the judge is always resemblyzer similarity to audio the backend was not given):
- grid: one 3 s clip of a speaker is the input audio; the dub says the clip's sentence in Hindi;
  the judge is the mean embedding of other clips of that speaker (s1, s2, s29, s4).
- long: 21-25 clips of one speaker joined (> 1 min) are the input; a 4-sentence dub; judged on
  other clips of that speaker.
- demo: the first half of the 10 s demo talk is the input; judged on its second half.
- long_extra (only with --kinds long_extra): two more 25-clip windows of s1 (clips 30-54 and
  60-84, dubbed with clips 55-58 / 85-88), judged on clips 0-7: in neither window nor the
  judge of `long` s1 x25 (the last 8 clips), the case the long candidates were tuned on.
Writes bench/results/vc.json (date, machine, command, per case and backend: similarity, wall
and CPU seconds of this process, the load average).
`--speed` instead times the default backend (`--speed-cases`, see `_speed_inputs`: a 10 s dub
with the whole 10 s demo as input, where the gate converts nothing; a 10 s GRID dub with 9 s of
its speaker, where it converts; a ~1 min dub with the demo) into vc_speed.json: the first call
(which also loads pyworld and the encoder, as the pipeline's stage does), then `--repeats` calls
per case, min and median wall and CPU seconds, the machine's load average before and after and
a digest of the output (equal digests: the same audio); `--label` names the code measured.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def _clips(grid: Path, speaker: str) -> list[Path]:
    return sorted(p for p in (grid / speaker).iterdir() if p.suffix in (".mpg", ".webm"))


def _cases(data: Path, quick: bool) -> list[dict[str, Any]]:
    grid = data / "grid"
    cases = []
    for speaker in ("s1", "s2", "s29", "s4"):
        clips = _clips(grid, speaker)
        for clip in clips[: 1 if quick else 3]:
            cases.append({"kind": "grid", "name": f"{speaker}/{clip.stem}", "input": [clip],
                          "texts": [f"{speaker}/{clip.stem}"], "judge": clips[-6:]})
    for speaker, n in (("s1", 25), ("s4", 21)):
        clips = _clips(grid, speaker)
        cases.append({"kind": "long", "name": f"{speaker} x{n}", "input": clips[:n],
                      "texts": [f"{speaker}/{c.stem}" for c in clips[n:n + 4]],
                      "judge": clips[-4:] if speaker == "s4" else clips[-8:]})
    clips = _clips(grid, "s1")
    for start in (30, 60):
        cases.append({"kind": "long_extra", "name": f"s1 x25 from {start}",
                      "input": clips[start:start + 25],
                      "texts": [f"s1/{c.stem}" for c in clips[start + 25:start + 29]],
                      "judge": clips[:8]})  # in neither window, nor `long`'s judge
    cases.append({"kind": "demo", "name": "obama_weekly_address_10s",
                  "input": [data / "talks" / "obama_weekly_address_10s.mp4"],
                  "texts": ["s1/bbaf3s", "s1/bbas3a", "s1/bgaa6n"], "judge": None})
    return cases


def _dub(texts: list[str]) -> Any:
    from bench_cyclegan import hindi_for

    from f2f.artifacts import TranslatedSegment, Translation
    from f2f.registry import get_backend_class

    segments = tuple(TranslatedSegment(i, "", hindi_for(t), 3.0 * i, 3.0 * i + 3.0)
                     for i, t in enumerate(texts))
    return get_backend_class("tts", "espeak")().synthesize(Translation("en", "hi", segments),
                                                          lambda f, m: None)


def _run_case(case: dict[str, Any], backends: list[str], tmp: Path) -> dict[str, Any]:
    from f2f.artifacts import Speech
    from f2f.media import read_audio
    from f2f.registry import get_backend_class
    from f2f.voiceprint import cosine, speaker_embedding

    audio = [read_audio(p, 16_000) for p in case["input"]]
    reference = Speech(np.concatenate([a.samples for a in audio]), 16_000)
    if case["judge"] is None:  # demo: input = first half, judge = second half
        half = reference.samples.size // 2
        judge = speaker_embedding(Speech(reference.samples[half:], 16_000))
        reference = Speech(reference.samples[:half], 16_000)
    else:
        judge = np.mean([speaker_embedding(read_audio(p, 16_000)) for p in case["judge"]],
                        axis=0)
    dub = _dub(case["texts"])
    row: dict[str, Any] = {"kind": case["kind"], "name": case["name"],
                           "input_s": round(reference.duration_s, 2),
                           "dub_s": round(sum(s.speech.duration_s for s in dub.segments), 2)}
    for name in backends:
        started, cpu_started = time.perf_counter(), time.process_time()
        metrics: dict[str, Any] = {}
        if name == "none":
            out = dub
        else:
            backend = get_backend_class("vc", name)()
            out = backend.convert(dub, reference, tmp, lambda f, m: None)
            metrics = dict(backend.metrics)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
        joined = Speech(np.concatenate([s.speech.samples for s in out.segments]),
                        out.segments[0].speech.sample_rate)
        row[name] = {"similarity": round(cosine(speaker_embedding(joined), judge), 4),
                     "seconds": round(seconds, 2), "cpu_s": round(cpu_s, 2),
                     "load_average": round(__import__("os").getloadavg()[0], 1),
                     **{k: v for k, v in metrics.items() if k != "held_out_scores"}}
    return row


def _summary(rows: list[dict[str, Any]], backends: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("grid", "long", "long_extra", "demo"):
        chosen = [r for r in rows if r["kind"] == kind]
        if not chosen:
            continue
        out[kind] = {name: round(float(np.mean([r[name]["similarity"] for r in chosen])), 4)
                     for name in backends}
        if "none" in backends:
            out[kind]["gain_over_none"] = {
                name: round(out[kind][name] - out[kind]["none"], 4) for name in backends
                if name != "none"}
            out[kind]["worst_gain"] = {
                name: round(min(r[name]["similarity"] - r["none"]["similarity"]
                                for r in chosen), 4) for name in backends if name != "none"}
    return out


SPEED_CASES = ("demo", "grid", "demo_1min")


def _speed_inputs(shared: Path, case: str) -> tuple[Any, Any]:
    """(speaker reference, dub) of a `--speed` case: `demo`: the whole 10 s demo talk and a 10 s
    dub (four GRID sentences; the gate finds nothing that helps); `grid`: three s4 clips (9 s)
    and four other s4 sentences (10 s; the gate converts); `demo_1min`: the demo, a ~1 min dub
    (the four sentences six times)."""
    from f2f.artifacts import Speech
    from f2f.media import read_audio

    data = shared / "data"
    if case == "grid":
        clips = _clips(data / "grid", "s4")
        reference = Speech(np.concatenate([read_audio(p, 16_000).samples for p in clips[:3]]),
                           16_000)
        return reference, _dub([f"s4/{c.stem}" for c in clips[3:7]])
    reference = read_audio(data / "talks" / "obama_weekly_address_10s.mp4", 16_000)
    sentences = ["s1/bbaf3s", "s1/bbas3a", "s1/bgaa6n", "s1/bbaz4n"]
    return reference, _dub(sentences * (6 if case == "demo_1min" else 1))


def speed(shared: Path, cases: list[str], repeats: int) -> list[dict[str, Any]]:
    import hashlib
    import os
    import tempfile

    from f2f.config import DEFAULT_BACKENDS
    from f2f.registry import get_backend_class

    name = DEFAULT_BACKENDS["vc"]
    rows = []
    for index, case in enumerate(cases):
        reference, dub = _speed_inputs(shared, case)
        times, cpu_times = [], []
        load_before = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as tmp:
            # the first case's first call also loads pyworld and the speaker encoder, as the
            # pipeline's VC stage does (`first_call_s`); the repeats after it are timed warm
            for repeat in range(repeats + (1 if index == 0 else 0)):
                backend = get_backend_class("vc", name)()
                started, cpu_started = time.perf_counter(), time.process_time()
                out = backend.convert(dub, reference, Path(tmp), lambda f, m: None)
                times.append(round(time.perf_counter() - started, 3))
                cpu_times.append(round(time.process_time() - cpu_started, 3))
        first = {}
        if index == 0:
            first = {"first_call_s": times.pop(0), "first_call_cpu_s": cpu_times.pop(0)}
        digest = hashlib.sha1(b"".join(s.speech.samples.tobytes() for s in out.segments))
        # CPU seconds are this process's own work: on a shared machine wall time is pessimistic
        rows.append({"case": case, "backend": name, "input_s": round(reference.duration_s, 2),
                     "dub_s": round(sum(s.speech.duration_s for s in dub.segments), 2),
                     "dub_clips": len(dub.segments), **first, "seconds": times,
                     "min_s": min(times), "median_s": float(np.median(times)),
                     "cpu_seconds": cpu_times, "median_cpu_s": float(np.median(cpu_times)),
                     "load_average_1min": [round(load_before, 1),
                                           round(os.getloadavg()[0], 1)],
                     "output_sha1": digest.hexdigest(), "choice": backend.metrics})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["none", "world", "knn"])
    parser.add_argument("--quick", action="store_true", help="one GRID clip per speaker")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--kinds", nargs="+", default=["grid", "long", "demo"])
    parser.add_argument("--speed", action="store_true", help="time the default on a 10 s dub")
    parser.add_argument("--speed-cases", nargs="+", default=list(SPEED_CASES),
                        choices=SPEED_CASES)
    parser.add_argument("--repeats", type=int, default=3, help="--speed: timed calls per case")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--label", default="", help="stored with the results")
    args = parser.parse_args()
    args.out = args.out or REPO / "bench" / "results" / ("vc_speed.json" if args.speed
                                                         else "vc.json")
    import logging
    import tempfile

    import torch

    torch.set_num_threads(1)
    logging.basicConfig(level=logging.WARNING)
    if args.speed:
        rows = speed(args.shared, args.speed_cases, args.repeats)
    else:
        rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [c for c in _cases(args.shared / "data", args.quick) if c["kind"] in args.kinds]
        for case in [] if args.speed else cases:
            rows.append(_run_case(case, args.backends, Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": {"platform": platform.platform(), "cpus": __import__("os").cpu_count(),
                          "note": "shared 2-core machine, 8 jobs at once: times pessimistic"},
              "command": "python " + " ".join(sys.argv), "label": args.label,
              "summary": ({r["case"]: {k: r[k] for k in ("first_call_s", "min_s", "median_s",
                                                         "median_cpu_s") if k in r}
                           | {"vc_choice": r["choice"].get("vc_choice")} for r in rows}
                          if args.speed else _summary(rows, args.backends)),
              "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".tmp")
    tmp_out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    tmp_out.replace(args.out)
    print(json.dumps(result["summary"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
