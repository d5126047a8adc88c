"""Long inputs: VAD speech regions -> chunks -> words, judged and retried, never dropped silently.

Left to itself, Whisper decodes 30 s windows one after the other, skips a window that its
no-speech and log-prob thresholds judge silent, and re-decodes a poor window by sampling at
rising temperatures. On long, less clean speech that dropped minutes of talk and gave another
transcript on every run. Here the VAD decides where speech is; each chunk of speech (shorter
than one window) is decoded with those thresholds off, judged, and retried with other settings
when it comes back empty, repetitive or with speech left out. A chunk that stays bad keeps its
best attempt and is listed in the metrics, so the report can say what may be missing.

Backend-neutral: a backend gives a `DecodeFn` (samples + settings -> word timings).
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)
SAMPLE_RATE = 16000
RawWord = tuple[str, float, float, float]  # text, start_s, end_s, probability


@dataclass(frozen=True)
class Span:
    """A stretch of the input in seconds."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class ChunkRules:
    max_chunk_s: float = 24.0  # under Whisper's 30 s window: one chunk is one decoding pass
    max_join_gap_s: float = 3.0  # longer silences start a new chunk (they invite hallucinations)
    min_split_s: float = 3.0  # a retried chunk is not cut into pieces shorter than this
    max_missed_speech_s: float = 4.0  # VAD speech this long without a word: speech left out
    max_words_per_s: float = 7.0  # more than anyone speaks: a hallucinated loop
    min_words_per_s: float = 1.3  # fewer in this much VAD speech: the decoder skipped some
    min_checked_speech_s: float = 6.0  # ... checked only on chunks with this much speech
    relative_rate: float = 0.85  # a chunk this far under the input's median words per second is
    # decoded again in halves (a decoder skipping phrases of one speaker's steady talk)
    max_compression_ratio: float = 2.4  # Whisper's own test for repetitive text
    sampling_fallback: bool = True  # last resort for a chunk that stays bad: seeded sampling


@dataclass(frozen=True)
class Attempt:
    """One way to decode a piece: beam search (temperature 0) or seeded sampling."""

    beam_size: int
    temperature: float = 0.0
    seed: int = 0

    @property
    def label(self) -> str:
        if self.temperature > 0:
            return f"sampling t={self.temperature:g} seed={self.seed}"
        return f"beam {self.beam_size}"


DecodeFn = Callable[[np.ndarray, Attempt], list[RawWord]]  # times relative to the piece


@dataclass(frozen=True)
class ChunkResult:
    span: Span
    words: tuple[RawWord, ...]  # absolute times
    attempts: int
    problem: str | None  # None when an attempt passed every check


# ------------------------------------------------------------------ planning


def plan_chunks(regions: Sequence[Span], rules: ChunkRules | None = None) -> list[Span]:
    """Joins neighbouring speech regions into chunks of at most `max_chunk_s`."""
    rules = rules or ChunkRules()
    pieces: list[Span] = []
    for region in sorted(regions, key=lambda r: r.start_s):
        if region.duration_s <= 0:
            continue
        count = max(1, math.ceil(region.duration_s / rules.max_chunk_s))
        step = region.duration_s / count  # a region too long for one chunk: equal parts
        pieces += [Span(region.start_s + i * step, region.start_s + (i + 1) * step)
                   for i in range(count)]
    chunks: list[Span] = []
    for piece in pieces:
        if chunks:
            last = chunks[-1]
            if (piece.start_s - last.end_s <= rules.max_join_gap_s
                    and piece.end_s - last.start_s <= rules.max_chunk_s):
                chunks[-1] = Span(last.start_s, max(last.end_s, piece.end_s))
                continue
        chunks.append(piece)
    return chunks


def clip(regions: Sequence[Span], span: Span) -> list[Span]:
    """The parts of `regions` inside `span`."""
    out = []
    for r in regions:
        start, end = max(r.start_s, span.start_s), min(r.end_s, span.end_s)
        if end > start:
            out.append(Span(start, end))
    return out


def split_point(samples: np.ndarray, span: Span, regions: Sequence[Span]) -> float:
    """Where to cut a chunk in two: the widest pause between its regions near the middle,
    else the quietest 100 ms of its middle half."""
    middle = (span.start_s + span.end_s) / 2
    inner = clip(regions, span)
    gaps = [(b.start_s - a.end_s, (a.end_s + b.start_s) / 2) for a, b in itertools.pairwise(inner)]
    quarter = span.duration_s / 4
    central = [(width, at) for width, at in gaps if abs(at - middle) <= quarter and width > 0.1]
    if central:
        return max(central)[1]
    frame = SAMPLE_RATE // 10
    lo = int((middle - quarter) * SAMPLE_RATE)
    hi = int((middle + quarter) * SAMPLE_RATE)
    window = samples[max(lo, 0):max(hi, 0)]
    if window.size < 2 * frame:
        return middle
    usable = window[: window.size // frame * frame].reshape(-1, frame).astype(np.float64)
    quietest = int(np.argmin(np.mean(np.square(usable), axis=1)))
    return (lo + quietest * frame + frame / 2) / SAMPLE_RATE


# ------------------------------------------------------------------ judging one result


def _norm(text: str) -> str:
    return re.sub(r"[^\w']+", "", text.lower())


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(len(zlib.compress(data)), 1)


def _loops(tokens: Sequence[str], max_n: int = 8) -> bool:
    """A short phrase 4+ times in a row, or a 3-8 word phrase 3+ times: a decoding loop."""
    for n in range(1, max_n + 1):
        needed = 4 if n < 3 else 3
        for i in range(len(tokens) - needed * n + 1):
            phrase = tokens[i:i + n]
            if all(tokens[i + k * n:i + (k + 1) * n] == phrase for k in range(1, needed)):
                return True
    return False


def collapse_loops(words: Sequence[RawWord], max_n: int = 8) -> list[RawWord]:
    """Keeps two copies of a phrase that `_loops` would call a loop."""
    out = list(words)
    for n in range(1, max_n + 1):
        needed = 4 if n < 3 else 3
        i = 0
        while i + 2 * n <= len(out):
            phrase = [_norm(w[0]) for w in out[i:i + n]]
            count = 1
            while [_norm(w[0]) for w in out[i + count * n:i + (count + 1) * n]] == phrase:
                count += 1
            if count >= needed:
                del out[i + 2 * n:i + count * n]
            i += 1
    return out


def missed_speech_s(words: Sequence[RawWord], speech: Sequence[Span], slack_s: float = 0.5
                    ) -> float:
    """The longest stretch of `speech` that no word comes within `slack_s` of."""
    heard = [Span(w[1] - slack_s, w[2] + slack_s) for w in words]
    longest = 0.0
    for gap in subtract(speech, heard):
        longest = max(longest, gap.duration_s)
    return longest


def find_problem(words: Sequence[RawWord], speech: Sequence[Span],
                 rules: ChunkRules) -> str | None:
    """Why a decoded chunk cannot be trusted, or None."""
    speech_s = sum(s.duration_s for s in speech)
    if not words:
        return "empty" if speech_s >= 0.5 else None
    text = " ".join(w[0].strip() for w in words)
    tokens = [t for t in (_norm(w[0]) for w in words) if t]
    if _loops(tokens) or (
            len(text) > 60 and compression_ratio(text) > rules.max_compression_ratio):
        return "repetitive"
    if len(tokens) > rules.max_words_per_s * max(speech_s, 1.0):
        return "too many words"
    if missed_speech_s(words, speech) > rules.max_missed_speech_s:
        return "speech left out"
    if speech_s >= rules.min_checked_speech_s and len(tokens) < rules.min_words_per_s * speech_s:
        return "too few words"
    return None


# ------------------------------------------------------------------ decoding with retries


def _decode(decode: DecodeFn, samples: np.ndarray, span: Span, attempt: Attempt
            ) -> list[RawWord]:
    a, b = int(round(span.start_s * SAMPLE_RATE)), int(round(span.end_s * SAMPLE_RATE))
    raw = decode(samples[a:b], attempt)
    return [(t, s + span.start_s, e + span.start_s, p) for t, s, e, p in raw]


def _score(words: Sequence[RawWord], problem: str | None, speech: Sequence[Span]
           ) -> tuple[bool, float, int]:
    """Higher is better among failed attempts: not a loop, least speech without words, most
    words."""
    garbage = problem in ("repetitive", "too many words")
    return (not garbage, -round(missed_speech_s(words, speech)), len(words))


def _best(candidates: list[tuple[list[RawWord], str | None, int]], span: Span,
          speech: Sequence[Span]) -> ChunkResult:
    words, problem, _ = max(candidates, key=lambda c: _score(c[0], c[1], speech))
    tries = max(c[2] for c in candidates)
    return ChunkResult(span, tuple(collapse_loops(words)), tries, problem)


def transcribe_span(decode: DecodeFn, samples: np.ndarray, span: Span, regions: Sequence[Span],
                    beam_size: int, rules: ChunkRules, depth: int = 0,
                    first: list[RawWord] | None = None, suspect: str | None = None
                    ) -> ChunkResult:
    """Decodes one chunk; on a problem, cuts it in two (recursively), then tries sampling.

    `first` is an attempt already made; `suspect` a problem found by comparing chunks."""
    speech = clip(regions, span)
    if first is None:
        first = _decode(decode, samples, span, Attempt(beam_size))
    problem = find_problem(first, speech, rules) or suspect
    if problem is None:
        return ChunkResult(span, tuple(first), 1, None)
    log.info("asr: %.1f-%.1f s came back %s; retrying", span.start_s, span.end_s, problem)
    candidates: list[tuple[list[RawWord], str | None, int]] = [(first, problem, 1)]
    if depth < 2 and span.duration_s >= 2 * rules.min_split_s:
        cut = split_point(samples, span, regions)
        cut = min(max(cut, span.start_s + rules.min_split_s), span.end_s - rules.min_split_s)
        halves = [transcribe_span(decode, samples, part, regions, beam_size, rules, depth + 1)
                  for part in (Span(span.start_s, cut), Span(cut, span.end_s))]
        words = [w for h in halves for w in h.words]
        tries = 1 + sum(h.attempts for h in halves)
        bad = [h.problem for h in halves if h.problem]
        if not bad:
            return ChunkResult(span, tuple(words), tries, None)
        candidates.append((words, bad[0], tries))
    if not rules.sampling_fallback:
        return _best(candidates, span, speech)
    # Sampling at a moderate temperature, seeded by where the chunk starts: reproducible.
    seed = int(round(span.start_s * SAMPLE_RATE)) % (2 ** 31)
    sampled = _decode(decode, samples, span, Attempt(beam_size, temperature=0.5, seed=seed))
    tries = candidates[-1][2] + 1
    sampled_problem = find_problem(sampled, speech, rules)
    if sampled_problem is None:
        return ChunkResult(span, tuple(sampled), tries, None)
    candidates.append((sampled, sampled_problem, tries))
    return _best(candidates, span, speech)


def transcribe_long(decode: DecodeFn, samples: np.ndarray, regions: Sequence[Span],
                    beam_size: int, rules: ChunkRules | None = None,
                    on_chunk: Callable[[float], None] | None = None) -> list[ChunkResult]:
    """Every chunk of `regions`, in order; `on_chunk(end_s)` after each for progress."""
    rules = rules or ChunkRules()
    results = []
    for span in plan_chunks(regions, rules):
        results.append(transcribe_span(decode, samples, span, regions, beam_size, rules))
        if on_chunk is not None:
            on_chunk(span.end_s)
    return _recheck_slow_chunks(decode, samples, regions, beam_size, rules, results)


def _speech_s(regions: Sequence[Span], span: Span) -> float:
    return sum(s.duration_s for s in clip(regions, span))


def _recheck_slow_chunks(decode: DecodeFn, samples: np.ndarray, regions: Sequence[Span],
                         beam_size: int, rules: ChunkRules, results: list[ChunkResult]
                         ) -> list[ChunkResult]:
    """Decodes again, in halves, the chunks with far fewer words per second of speech than the
    input's median; keeps a retry only when it holds more words and is no loop."""
    rates = [len(r.words) / _speech_s(regions, r.span) for r in results
             if r.problem is None and _speech_s(regions, r.span) >= rules.min_checked_speech_s]
    if len(rates) < 3:
        return results
    typical = float(np.median(rates))
    out = []
    for result in results:
        speech_s = _speech_s(regions, result.span)
        if (result.problem is None and result.attempts == 1
                and speech_s >= rules.min_checked_speech_s
                and len(result.words) < rules.relative_rate * typical * speech_s):
            log.info("asr: %.1f-%.1f s has %.1f words/s against %.1f elsewhere; retrying",
                     result.span.start_s, result.span.end_s, len(result.words) / speech_s,
                     typical)
            retry = transcribe_span(decode, samples, result.span, regions, beam_size, rules,
                                    first=list(result.words), suspect="fewer words than the rest")
            if len(retry.words) > len(result.words) and retry.problem not in (
                    "repetitive", "too many words"):
                kept = None if retry.problem == "fewer words than the rest" else retry.problem
                result = ChunkResult(result.span, retry.words, retry.attempts, kept)
        out.append(result)
    return out


# ------------------------------------------------------------------ interval arithmetic


def merge(spans: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: s.start_s):
        if out and s.start_s <= out[-1].end_s:
            out[-1] = Span(out[-1].start_s, max(out[-1].end_s, s.end_s))
        elif s.end_s > s.start_s:
            out.append(s)
    return out


def subtract(spans: Sequence[Span], holes: Sequence[Span]) -> list[Span]:
    """The parts of `spans` that no span of `holes` touches."""
    holes = merge(holes)
    out = []
    for s in merge(spans):
        start = s.start_s
        for h in holes:
            if h.end_s <= start or h.start_s >= s.end_s:
                continue
            if h.start_s > start:
                out.append(Span(start, h.start_s))
            start = max(start, h.end_s)
        if start < s.end_s:
            out.append(Span(start, s.end_s))
    return out
