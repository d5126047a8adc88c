"""Words with timings -> sentence segments (shared by every ASR backend).

Whisper's own segments follow its 30 s decoding windows, not sentences. Translation, TTS timing
and subtitles all want sentences, so we regroup the words: a segment ends after a word that ends a
sentence, at a long pause, or when it grows too long (then at the last comma if there is one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from f2f.artifacts import Segment, Speech, Transcript, Word
from f2f.errors import NoSpeechError, StageError

_SENTENCE_END = (".", "?", "!", "。", "…")
_CLAUSE_END = (",", ";", ":", "—", "-")
_CLOSERS = "\"')]}”’"


@dataclass(frozen=True)
class SegmentRules:
    pause_split_s: float = 1.0  # a silence this long between words ends a segment
    max_segment_s: float = 12.0  # longer sentences are cut (subtitles and TTS slots stay short)
    min_segment_words: int = 1


def clean_words(words: Iterable[Word]) -> list[Word]:
    """Strips whitespace, drops empty words and repairs times that run backwards."""
    return words_from_timings((w.text, w.start_s, w.end_s, w.probability) for w in words)


def words_from_timings(raw: Iterable[tuple[str, float, float, float]]) -> list[Word]:
    """Builds Words from a decoder's (text, start, end, probability), repairing bad timings.

    The repair has to happen before `Word` is built: Word rejects an end before its start or a
    non-finite time, and a decoder does emit those now and then (a word that straddles a VAD
    chunk boundary). Words without finite times are dropped rather than failing the whole run.
    """
    cleaned: list[Word] = []
    last_end = 0.0
    for text, start_s, end_s, probability in raw:
        text = text.strip()
        start, end = float(start_s), float(end_s)
        if not text or not (math.isfinite(start) and math.isfinite(end)):
            continue
        start = max(start, 0.0)
        end = max(end, start)
        if cleaned and start < last_end:  # overlapping timings from the aligner
            start = min(last_end, end)
        probability = float(probability)
        cleaned.append(Word(text, start, end, probability if math.isfinite(probability) else 0.0))
        last_end = end
    return cleaned


def _ends_with(text: str, marks: Sequence[str]) -> bool:
    return text.rstrip(_CLOSERS).endswith(tuple(marks))


def _split_long(words: list[Word], rules: SegmentRules) -> list[list[Word]]:
    """Cuts a too-long run at clause punctuation, else at the widest pause."""
    if len(words) < 2 or words[-1].end_s - words[0].start_s <= rules.max_segment_s:
        return [words]
    inner = range(1, len(words))
    clause_cuts = [i for i in inner if _ends_with(words[i - 1].text, _CLAUSE_END)]
    middle = len(words) / 2
    if clause_cuts:
        cut = min(clause_cuts, key=lambda i: abs(i - middle))
    else:
        cut = max(inner, key=lambda i: (words[i].start_s - words[i - 1].end_s,
                                        -abs(i - middle)))
    return _split_long(words[:cut], rules) + _split_long(words[cut:], rules)


def join_words(words: Sequence[Word]) -> str:
    return " ".join(w.text for w in words).strip()


def words_to_segments(words: Iterable[Word],
                      rules: SegmentRules | None = None) -> tuple[Segment, ...]:
    """Groups words into sentence segments with ids 0..n-1."""
    rules = rules or SegmentRules()
    words = clean_words(words)
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        if current and word.start_s - current[-1].end_s >= rules.pause_split_s:
            groups.append(current)
            current = []
        current.append(word)
        if _ends_with(word.text, _SENTENCE_END):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    pieces = [piece for group in groups for piece in _split_long(group, rules)]
    segments: list[Segment] = []
    for piece in pieces:
        if len(piece) < rules.min_segment_words:
            continue
        probabilities = [w.probability for w in piece]
        segments.append(Segment(
            id=len(segments), text=join_words(piece), start_s=piece[0].start_s,
            end_s=piece[-1].end_s, words=tuple(piece),
            confidence=float(sum(probabilities) / len(probabilities)),
        ))
    return tuple(segments)


# ------------------------------------------------------------------ shared by the ASR backends

ASR_SAMPLE_RATE = 16000
_SILENCE_PEAK = 1e-4  # below this the input is digital silence: no point running a model


def check_input_audio(audio: Speech, backend: str) -> None:
    """The stage contract: 16 kHz mono with something in it."""
    if audio.sample_rate != ASR_SAMPLE_RATE:
        raise StageError(f"asr backend '{backend}' needs 16 kHz audio, got {audio.sample_rate} Hz"
                         " (read it with f2f.media.read_audio(path, 16000))")
    if audio.samples.size == 0 or float(abs(audio.samples).max()) < _SILENCE_PEAK:
        raise NoSpeechError(f"no speech detected in the audio ({audio.duration_s:.2f} s of "
                            "silence); check that the input's audio track is the right one")


def build_transcript(words: Iterable[Word], language: str, backend: str, duration_s: float,
                     rules: SegmentRules | None = None) -> Transcript:
    segments = words_to_segments(words, rules)
    if not segments:
        raise NoSpeechError(f"no speech detected in {duration_s:.2f} s of audio by asr backend "
                            f"'{backend}'; is the speech English and audible?")
    return Transcript(language=language, segments=segments, backend=backend)


def decoding_metrics(words: Sequence[Word], transcript: Transcript, logprobs: Sequence[float],
                     no_speech_probs: Sequence[float]) -> dict[str, Any]:
    """The report figures both Whisper backends give; call after build_transcript (words exist)."""
    mean_logprob = sum(logprobs) / max(len(logprobs), 1)
    return {
        "words": len(words),
        "segments": len(transcript.segments),
        "mean_word_probability": round(sum(w.probability for w in words) / max(len(words), 1), 4),
        "avg_logprob": round(mean_logprob, 4),
        "mean_confidence": round(math.exp(mean_logprob), 4),
        "max_no_speech_prob": round(max(no_speech_probs, default=0.0), 4),
    }
