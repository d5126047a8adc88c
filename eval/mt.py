"""MT quality of one backend on an en/hi TSV: chrF, chrF++ and BLEU, and its worst sentences.

    python -m f2f eval mt ../shared/data/flores200/flores_dev_en_hi.tsv --mt lexicon --json
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.text import bleu, chrf
from f2f.errors import ConfigError, MediaError


def read_pairs(tsv: str | Path) -> tuple[list[str], list[str]]:
    """The `en` and `hi` columns of a tab-separated file with a header line."""
    if not Path(tsv).is_file():
        raise MediaError(f"MT test set not found: {tsv} (a TSV with 'en' and 'hi' columns)")
    with open(tsv, encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
                if r.get("en") and r.get("hi")]
    if not rows:
        raise ConfigError(f"{tsv}: needs a header line with 'en' and 'hi' columns and rows")
    return [r["en"].strip() for r in rows], [r["hi"].strip() for r in rows]


def score(refs: Sequence[str], hyps: Sequence[str], sources: Sequence[str],
          worst: int = 5) -> dict[str, Any]:
    """Corpus chrF / chrF++ / BLEU plus the `worst` sentences by sentence chrF."""
    per_sentence = sorted(
        ((chrf([r], [h]), s, r, h) for s, r, h in zip(sources, refs, hyps, strict=True)),
        key=lambda x: x[0])
    return {"sentences": len(refs), "chrf": round(chrf(refs, hyps), 2),
            "chrf++": round(chrf(refs, hyps, word_order=2), 2),
            "bleu": round(bleu(refs, hyps), 2),
            "worst": [{"chrf": round(c, 1), "en": s, "ref": r, "hyp": h}
                      for c, s, r, h in per_sentence[:worst]]}


def evaluate_mt(tsv: str | Path, backend: str | None = None, sets: Sequence[str] = (),
                worst: int = 5) -> dict[str, Any]:
    """Translates the `en` column with an MT backend (the configured default unless named)."""
    from f2f.artifacts import Segment, Transcript
    from f2f.config import backend_config, load_config
    from f2f.progress import for_stage, silent
    from f2f.registry import get_backend_class
    from f2f.stage import MTBackend

    english, hindi = read_pairs(tsv)
    config = load_config(sets=list(sets) + ([f"mt={backend}"] if backend else []))
    choice = config.stage("mt")
    mt = get_backend_class("mt", choice.backend)(backend_config("mt", choice))
    status = mt.availability()
    if not status.ok:
        raise ConfigError(f"MT backend '{choice.backend}' cannot run: {status.reason}")
    segments = tuple(Segment(i, text, float(i), float(i) + 1.0) for i, text in enumerate(english))
    started = time.perf_counter()
    assert isinstance(mt, MTBackend)  # the registry checks each "mt" backend's base class
    translation = mt.translate(Transcript("en", segments), "hi",
                               for_stage(silent, "mt"))
    seconds = time.perf_counter() - started
    result = score(hindi, [s.text for s in translation.segments], english, worst)
    return {"backend": choice.backend, "testset": str(tsv), "seconds": round(seconds, 2),
            **result}


def format_report(result: dict[str, Any]) -> str:
    lines = [f"{result['backend']} on {result['testset']} ({result['sentences']} sentences): "
             f"chrF {result['chrf']:.1f}  chrF++ {result['chrf++']:.1f}  "
             f"BLEU {result['bleu']:.1f}  ({result['seconds']:.1f} s)", "worst sentences:"]
    for item in result["worst"]:
        lines += [f"  [{item['chrf']:.1f}] {item['en']}", f"      hyp: {item['hyp']}",
                  f"      ref: {item['ref']}"]
    return "\n".join(lines)
