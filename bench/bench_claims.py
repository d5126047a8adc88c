"""The README's smaller figures, measured: ASR word error rate on the shipped clips, eSpeak TTS
speed, and how long a second identical run takes (everything cached).

    python bench/bench_claims.py --out bench/results/claims_cpu2.json

Writes one JSON object with the date, the machine and the command. The clips are the ones in
tests/data (GRID, LJ Speech); `--grid DIR` points at another folder of GRID clips with a
transcripts.tsv (e.g. ../shared/data/grid for all six).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_pipeline import machine  # noqa: E402
from eval.text import normalize_english, wer  # noqa: E402
from f2f.media import read_audio  # noqa: E402
from f2f.registry import get_backend_class  # noqa: E402

DATA = REPO / "tests" / "data"
HINDI = ("नमस्ते, आज हम आपको एक छोटी सी कहानी सुनाएंगे। एक गाँव में एक किसान रहता था, "
         "जो हर सुबह अपने खेत में काम करने जाता था।")


def asr_wer(grid: Path) -> dict[str, Any]:
    cls = get_backend_class("asr", "faster-whisper")
    asr = cls(cls.Config())
    out: dict[str, Any] = {"backend": "faster-whisper", "model": cls.Config().model}
    with (grid / "transcripts.tsv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if (grid / r["file"]).is_file()]
    refs, hyps = [], []
    for row in rows:
        text = asr.transcribe(read_audio(grid / row["file"]), "en", lambda f, m="": None).text
        refs.append(row["transcript"])
        hyps.append(normalize_english(text))
    out["grid"] = {"clips": len(rows), "folder": str(grid), "wer": round(wer(refs, hyps), 4),
                   "pairs": [{"reference": r, "heard": h} for r, h in zip(refs, hyps, strict=True)]}
    lj = DATA / "ljspeech"
    with (lj / "metadata.csv").open(encoding="utf-8") as handle:
        lj_rows = list(csv.reader(handle, delimiter="|", quoting=csv.QUOTE_NONE))
    refs, hyps = [], []
    for clip_id, _text, normalized in lj_rows:
        refs.append(normalized)
        hyps.append(asr.transcribe(read_audio(lj / f"{clip_id}.wav"), "en",
                                   lambda f, m="": None).text)
    out["ljspeech"] = {"clips": len(lj_rows), "wer": round(wer(refs, hyps), 4)}
    return out


def tts_speed(repeats: int = 3) -> dict[str, Any]:
    from f2f.artifacts import TranslatedSegment, Translation

    cls = get_backend_class("tts", "espeak")
    tts = cls(cls.Config(), language="hi")
    translation = Translation("en", "hi", (TranslatedSegment(0, "", HINDI, 0.0, 10.0),))
    tts.synthesize(translation, lambda f, m="": None)  # loads the library once
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        speech = tts.synthesize(translation, lambda f, m="": None)
        wall = time.perf_counter() - started
        audio_s = sum(s.speech.duration_s for s in speech.segments)
        runs.append({"wall_s": round(wall, 4), "audio_s": round(audio_s, 3),
                     "times_real_time": round(audio_s / wall, 1)})
    return {"backend": "espeak", "text_chars": len(HINDI), "runs": runs,
            "median_times_real_time": sorted(r["times_real_time"] for r in runs)[len(runs) // 2]}


def cached_rerun(clip: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="f2f-bench-rerun-") as tmp:
        walls = []
        for name in ("first", "second"):
            cmd = [sys.executable, "-m", "f2f", "-q", "translate", str(clip), "-o",
                   str(Path(tmp) / f"{name}.mp4"), "--workdir", str(Path(tmp) / "cache")]
            started = time.perf_counter()
            subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
            walls.append(round(time.perf_counter() - started, 3))
            report = json.loads((Path(tmp) / f"{name}.report.json").read_text())
        cached = all(s["cached"] for s in report["steps"] if s["backend"] != "none")
    return {"clip": str(clip.relative_to(REPO)), "first_wall_s": walls[0],
            "second_wall_s": walls[1], "second_all_cached": cached,
            "note": "CLI wall time, process start and imports included"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the JSON here (default: stdout)")
    parser.add_argument("--grid", type=Path, default=DATA / "grid")
    args = parser.parse_args(argv)
    result = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "machine": machine(), "command": " ".join(["python", *sys.argv]),
              "asr": asr_wer(args.grid), "tts": tts_speed(),
              "cached_rerun": cached_rerun(DATA / "grid" / "bbaf2n.mpg")}
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
