"""chrF, chrF++ and BLEU of every MT backend that can run here, on FLORES-200 dev and TICO-19.

Test sets: FLORES-200 dev split in two by id (< 700: the part the lexicon backend learned from
and was tuned on; >= 700: held out), and TICO-19 `en_hi_40` (held out). Also times the default
backend on a 10-minute transcript (~1,700 words of FLORES held-out text).

    OMP_NUM_THREADS=1 nice -n 10 python -m bench.bench_mt --out bench/results/mt_quality.json
    python -m bench.bench_mt --backends indictrans2 --set indictrans2.model=/path/it2-200M

Backends that are not available (weights missing) are listed with the reason, not scored.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # also runnable as `python bench/bench_mt.py`
    sys.path.insert(0, str(REPO))

from eval.mt import read_pairs, score  # noqa: E402
from f2f.artifacts import Segment, Transcript  # noqa: E402
from f2f.config import build_dataclass, parse_value  # noqa: E402
from f2f.errors import F2FError  # noqa: E402
from f2f.registry import backend_names, get_backend_class  # noqa: E402

DATA = Path(os.environ.get("F2F_SHARED") or REPO.parent / "shared") / "data"
OFFLINE_SKIP = {"manual"}  # needs a user's own translation, nothing to score
TUNE_SENTENCES = 700  # = stages.mt.build_lexicon.TUNE_SENTENCES


def test_sets() -> dict[str, tuple[list[str], list[str]]]:
    flores_en, flores_hi = read_pairs(DATA / "flores200/flores_dev_en_hi.tsv")
    return {
        "flores_dev_tuned": (flores_en[:TUNE_SENTENCES], flores_hi[:TUNE_SENTENCES]),
        "flores_dev_held_out": (flores_en[TUNE_SENTENCES:], flores_hi[TUNE_SENTENCES:]),
        "tico19_en_hi_40": read_pairs(DATA / "tico19/en_hi_40.tsv"),
    }


def _silent(fraction: float, message: str = "") -> None:
    pass


def translate(backend: Any, english: list[str]) -> tuple[list[str], float]:
    transcript = Transcript("en", tuple(Segment(i, text, float(i), float(i) + 1.0)
                                        for i, text in enumerate(english)), "bench")
    started = time.perf_counter()
    translation = backend.translate(transcript, "hi", _silent)
    return [s.text for s in translation.segments], time.perf_counter() - started


def score_backend(name: str, options: dict[str, Any],
                  sets: dict[str, tuple[list[str], list[str]]]) -> dict[str, Any]:
    cls = get_backend_class("mt", name)
    backend = cls(build_dataclass(cls.Config, options, f"{name}."))
    available = backend.availability()
    if not available.ok:
        return {"backend": name, "available": False, "reason": available.reason}
    result: dict[str, Any] = {"backend": name, "available": True, "weights": available.weights,
                              "options": options}
    for set_name, (english, hindi) in sets.items():
        hyps, seconds = translate(backend, english)
        result[set_name] = {**score(hindi, hyps, english, worst=3), "seconds": round(seconds, 2)}
    return result


def speed(name: str, english: list[str], words: int = 1700) -> dict[str, Any]:
    """Seconds to translate ~`words` words, one segment per sentence, after loading."""
    backend = get_backend_class("mt", name)()
    translate(backend, english[:2])  # load the parser and the dictionary first
    picked, count = [], 0
    while count < words:
        sentence = english[len(picked) % len(english)]
        picked.append(sentence)
        count += len(sentence.split())
    cpu_started = time.process_time()
    _, seconds = translate(backend, picked)
    cpu = time.process_time() - cpu_started  # what the run itself used, whatever else is running
    return {"backend": name, "words": count, "segments": len(picked),
            "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "load_average_1min": round(os.getloadavg()[0], 1),
            "torch_threads": os.environ.get("OMP_NUM_THREADS")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="chrF/chrF++/BLEU of the MT backends")
    parser.add_argument("--backends", nargs="*", help="default: every registered mt backend")
    parser.add_argument("--set", action="append", default=[], metavar="BACKEND.KEY=VALUE")
    parser.add_argument("--out", type=Path, help="write the JSON here (default: stdout only)")
    parser.add_argument("--speed-only", type=int, metavar="REPEATS",
                        help="only time the default backend on ~1,700 words, REPEATS times")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.speed_only:
        english = test_sets()["flores_dev_held_out"][0]
        runs = [speed("lexicon", english) for _ in range(args.speed_only)]
        report = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                  "machine": f"{platform.node()} ({os.cpu_count()} cpus, shared: pessimistic)",
                  "command": "python -m bench.bench_mt " + " ".join(argv if argv is not None
                                                                    else sys.argv[1:]),
                  "seconds": [r["seconds"] for r in runs],
                  "cpu_seconds": [r["cpu_seconds"] for r in runs], "runs": runs}
        text = json.dumps(report, indent=1)
        if args.out:
            args.out.write_text(text + "\n", encoding="utf-8")
        print(text)
        return 0
    options: dict[str, dict[str, Any]] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        backend, _, option = key.partition(".")
        options.setdefault(backend, {})[option] = parse_value(value)
    sets = test_sets()
    names = args.backends or [n for n in backend_names("mt") if n not in OFFLINE_SKIP]
    results = []
    for name in names:
        try:
            results.append(score_backend(name, options.get(name, {}), sets))
        except F2FError as exc:
            results.append({"backend": name, "available": False, "reason": str(exc)})
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} ({os.cpu_count()} cpus, shared "
                   "with other jobs: times are pessimistic)",
        "command": "python -m bench.bench_mt " + " ".join(argv if argv is not None
                                                          else sys.argv[1:]),
        "test_sets": {k: len(v[0]) for k, v in sets.items()},
        "results": results,
        "speed": speed("lexicon", sets["flores_dev_held_out"][0]),
    }
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
