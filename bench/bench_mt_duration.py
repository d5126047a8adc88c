"""The MT's spoken-duration model, fitted on real eSpeak NG speech and checked on other text.

The slot-aware choice (stages/mt/_fit.py) estimates how long the TTS voice will take to say a
candidate. This fits that estimate's weights by least squares on eSpeak NG hi (default
options) saying FLORES dev Hindi references, rows 0-349 (each whole sentence and one random
2-7 word piece of it, so short dub lines are covered too), and checks it on rows 350-699; the
held-out rows 700-996 are not read. It reports both the fitted weights and, for the weights
in use, the ratio real/estimated seconds on the check part (what the 1.15x limit must absorb).

    OMP_NUM_THREADS=1 nice -n 19 python -m bench.bench_mt_duration \
        --out bench/results/mt_duration.json
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.bench_mt_slots import SHARED, spoken_seconds  # noqa: E402
from f2f.registry import get_backend_class  # noqa: E402
from stages.mt._fit import (DURATION_FEATURES, MODEL_RATE_SYL_S, duration_features,  # noqa: E402
                            estimate_seconds)

FIT_ROWS, CHECK_ROWS = range(0, 350), range(350, 700)  # FLORES dev 700-996 stay unseen


def texts_of(rows: list[dict[str, str]], seed: int = 0) -> list[str]:
    """Each reference and one 2-7 word piece of it."""
    rng = random.Random(seed)
    texts = []
    for row in rows:
        words = row["hi"].split()
        n = rng.randint(2, 7)
        start = rng.randint(0, max(0, len(words) - n))
        texts += [row["hi"], " ".join(words[start:start + n])]
    return texts


def errors(real: np.ndarray, estimate: np.ndarray) -> dict[str, float]:
    ratio = real / np.maximum(estimate, 1e-3)
    return {"mean_ratio": round(float(ratio.mean()), 4),
            "p90_ratio": round(float(np.quantile(ratio, 0.9)), 4),
            "p95_ratio": round(float(np.quantile(ratio, 0.95)), 4),
            "mean_abs_s": round(float(np.abs(real - estimate).mean()), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    with (SHARED / "data/flores200/flores_dev_en_hi.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    tts = get_backend_class("tts", "espeak")()
    fit_texts = texts_of([rows[i] for i in FIT_ROWS])
    check_texts = texts_of([rows[i] for i in CHECK_ROWS], seed=1)
    fit_real = np.array(spoken_seconds(tts, fit_texts))
    check_real = np.array(spoken_seconds(tts, check_texts))
    design = np.array([[*duration_features(t), 1] for t in fit_texts], float)
    weights, *_ = np.linalg.lstsq(design, fit_real, rcond=None)
    in_use = np.array([estimate_seconds(t, MODEL_RATE_SYL_S) for t in check_texts])
    short = np.array([len(t.split()) <= 7 for t in check_texts])
    report: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} ({os.cpu_count()} cpus, shared)",
        "command": "python -m bench.bench_mt_duration " + " ".join(argv or sys.argv[1:]),
        "tts": "espeak hi (default options: 165 wpm)",
        "fit": f"FLORES dev hi rows {FIT_ROWS.start}-{FIT_ROWS.stop - 1}: {len(fit_texts)} texts",
        "check": f"rows {CHECK_ROWS.start}-{CHECK_ROWS.stop - 1}: {len(check_texts)} texts",
        "fitted_weights_s": dict(zip([*DURATION_FEATURES, "intercept"],
                                     [round(float(w), 4) for w in weights], strict=True)),
        "check_in_use": errors(check_real, in_use),
        "check_in_use_short": errors(check_real[short], in_use[short]),
        "check_in_use_long": errors(check_real[~short], in_use[~short])}
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
