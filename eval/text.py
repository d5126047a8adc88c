"""Text quality measures: WER/CER for ASR, chrF/BLEU (sacrebleu) for MT. Pure functions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_NUMBER_WORDS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
                 "6": "six", "7": "seven", "8": "eight", "9": "nine"}


def normalize_english(text: str) -> str:
    """Lower case, no punctuation, single digits spelled out: the usual WER normalisation."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)  # "f2" -> "f 2"
    text = re.sub(r"\b\d\b", lambda m: _NUMBER_WORDS[m.group(0)], text)
    text = re.sub(r"[^\w\s']", " ", text).replace("'", "")
    return " ".join(text.split())


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance between two token sequences (substitution, insertion, deletion)."""
    previous = list(range(len(hyp) + 1))
    for i, ref_token in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_token in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (ref_token != hyp_token))
        previous = current
    return previous[-1]


def _rate(refs: Sequence[Sequence[str]], hyps: Sequence[Sequence[str]]) -> float:
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    total = sum(len(r) for r in refs)
    if total == 0:
        raise ValueError("the references are empty")
    return sum(edit_distance(r, h) for r, h in zip(refs, hyps, strict=True)) / total


def wer(ref: str | Sequence[str], hyp: str | Sequence[str], normalize: bool = True) -> float:
    """Word error rate; lists of sentences are pooled (errors / reference words)."""
    refs = [ref] if isinstance(ref, str) else list(ref)
    hyps = [hyp] if isinstance(hyp, str) else list(hyp)
    prep = normalize_english if normalize else (lambda t: t)
    return _rate([prep(r).split() for r in refs], [prep(h).split() for h in hyps])


def cer(ref: str | Sequence[str], hyp: str | Sequence[str], normalize: bool = True) -> float:
    """Character error rate (spaces count as characters)."""
    refs = [ref] if isinstance(ref, str) else list(ref)
    hyps = [hyp] if isinstance(hyp, str) else list(hyp)
    prep = normalize_english if normalize else (lambda t: " ".join(t.split()))
    return _rate([list(prep(r)) for r in refs], [list(prep(h)) for h in hyps])


def chrf(refs: Sequence[str], hyps: Sequence[str], word_order: int = 0) -> float:
    """Corpus chrF (sacrebleu defaults: character 6-grams, beta 2), 0..100; word_order=2 is
    chrF++ (also word uni- and bigrams), the figure FLORES-200 results are published in."""
    from sacrebleu.metrics import CHRF

    _check_pairs(refs, hyps)
    return float(CHRF(word_order=word_order).corpus_score(list(hyps), [list(refs)]).score)


def bleu(refs: Sequence[str], hyps: Sequence[str]) -> float:
    """Corpus BLEU (sacrebleu, 13a tokenisation), 0..100."""
    from sacrebleu.metrics import BLEU

    _check_pairs(refs, hyps)
    return float(BLEU().corpus_score(list(hyps), [list(refs)]).score)


def _check_pairs(refs: Sequence[str], hyps: Sequence[str]) -> None:
    if isinstance(refs, str) or isinstance(hyps, str):
        raise TypeError("chrf/bleu take lists of sentences, not one string")
    if len(refs) != len(hyps) or not refs:
        raise ValueError(f"need as many hypotheses as references, got {len(hyps)} and {len(refs)}")
