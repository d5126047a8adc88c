"""Benchmark (not a test): the median F0 of each eSpeak variant a speaker's voice is chosen from.

    nice python bench/bench_espeak_voices.py [--out FILE]

Speaks a few Hindi sentences in each of `stages.tts.espeak.SPEAKER_VARIANT_F0_HZ`'s variants
(the flutter-free copies the per-speaker path uses; default rate and pitch) and in the plain
language voice; median F0 of the voiced frames (WORLD DIO + StoneMask, `f2f.speaker_voices`).
Writes bench/results/espeak_voices.json (date, machine, command, Hz per variant): the source of
the table in `stages/tts/espeak.py`.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SENTENCES = ("नमस्ते, आज हम आपको एक नई कहानी सुनाएंगे।", "यह बहुत अच्छा दिन है।",
             "कल सुबह हम बाज़ार जाएंगे और सब्ज़ियाँ खरीदेंगे।",
             "क्या आप मेरी बात सुन रहे हैं?")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" /
                        "espeak_voices.json")
    args = parser.parse_args()
    import numpy as np

    from f2f.artifacts import TranslatedSegment, Translation
    from f2f.speaker_voices import median_f0_hz
    from stages.tts.espeak import SPEAKER_VARIANT_F0_HZ, EspeakTTS

    translation = Translation("en", "hi", tuple(
        TranslatedSegment(i, "", s, 5.0 * i, 5.0 * i + 4.0) for i, s in enumerate(SENTENCES)))
    tts = EspeakTTS(language="hi")
    rows = {}
    for variant in ["", *SPEAKER_VARIANT_F0_HZ]:
        voices = {s.id: f"hi+{variant}" for s in translation.segments} if variant else None
        speech = tts.synthesize(translation, lambda f, m="": None, voices)
        f0 = [median_f0_hz(s.speech) for s in speech.segments]
        rows[variant or "hi"] = {"median_f0_hz": round(float(np.median(f0)), 1),
                                 "per_sentence_hz": [round(x, 1) for x in f0]}
        print(variant or "hi", rows[variant or "hi"], flush=True)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": {"platform": platform.platform()},
              "command": "python " + " ".join(sys.argv), "variants": rows}
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
