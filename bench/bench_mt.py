"""chrF and BLEU of every MT backend that can run here, on TICO-19 en_hi_40 (or another TSV).

    python -m bench.bench_mt --out bench/mt_results.json
    python -m bench.bench_mt --backends lexicon marian --set marian.model=/path/opus-mt-en-hi

Backends that are not available (weights missing) are listed with the reason, not scored.
The TSV needs `en` and `hi` columns (tab-separated, a header line).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # also runnable as `python bench/bench_mt.py`
    sys.path.insert(0, str(REPO))

from eval.text import bleu, chrf  # noqa: E402
from f2f.artifacts import Segment, Transcript  # noqa: E402
from f2f.config import build_dataclass, parse_value  # noqa: E402
from f2f.errors import F2FError  # noqa: E402
from f2f.registry import backend_names, get_backend_class  # noqa: E402

DEFAULT_TSV = Path(os.environ.get("F2F_SHARED") or REPO.parent / "shared") / "data" / "tico19" \
    / "en_hi_40.tsv"
OFFLINE_SKIP = {"manual"}  # needs a user's own translation, nothing to score


def read_tsv(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r["en"].strip() for r in rows], [r["hi"].strip() for r in rows]


def score_backend(name: str, options: dict[str, Any], english: list[str], hindi: list[str]
                  ) -> dict[str, Any]:
    cls = get_backend_class("mt", name)
    backend = cls(build_dataclass(cls.Config, options, f"{name}."))
    available = backend.availability()
    if not available.ok:
        return {"backend": name, "available": False, "reason": available.reason}
    transcript = Transcript("en", tuple(Segment(i, text, float(i), float(i) + 1.0)
                                        for i, text in enumerate(english)), "bench")
    started = time.perf_counter()
    translation = backend.translate(transcript, "hi", lambda fraction, message="": None)
    seconds = time.perf_counter() - started
    outputs = [s.text for s in translation.segments]
    return {
        "backend": name, "available": True, "weights": available.weights,
        "options": options, "sentences": len(english),
        "chrf": round(chrf(hindi, outputs), 2), "bleu": round(bleu(hindi, outputs), 2),
        "seconds": round(seconds, 2), "metrics": backend.metrics,
        "examples": [{"en": e, "ref": r, "hyp": h}
                     for e, r, h in list(zip(english, hindi, outputs, strict=True))[:3]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="chrF/BLEU of the MT backends")
    parser.add_argument("--tsv", type=Path, default=DEFAULT_TSV)
    parser.add_argument("--backends", nargs="*", help="default: every registered mt backend")
    parser.add_argument("--set", action="append", default=[], metavar="BACKEND.KEY=VALUE")
    parser.add_argument("--out", type=Path, help="write the JSON here (default: stdout only)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    options: dict[str, dict[str, Any]] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        backend, _, option = key.partition(".")
        options.setdefault(backend, {})[option] = parse_value(value)
    english, hindi = read_tsv(args.tsv)
    names = args.backends or [n for n in backend_names("mt") if n not in OFFLINE_SKIP]
    results = []
    for name in names:
        try:
            results.append(score_backend(name, options.get(name, {}), english, hindi))
        except F2FError as exc:
            results.append({"backend": name, "available": False, "reason": str(exc)})
    report = {"test_set": str(args.tsv), "results": results}
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
