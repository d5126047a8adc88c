"""Words with timings -> sentence segments (shared by every ASR backend).

Whisper's own segments follow its 30 s decoding windows, not sentences. Translation, TTS timing
and subtitles all want sentences, so we regroup the words: a segment ends after a word that ends a
sentence, at a long pause, or when it grows too long (then at the last comma if there is one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
    cleaned: list[Word] = []
    last_end = 0.0
    for word in words:
        text = word.text.strip()
        if not text:
            continue
        start = max(float(word.start_s), 0.0)
        end = max(float(word.end_s), start)
        if cleaned and start < last_end:  # overlapping timings from the aligner
            start = min(last_end, end)
        cleaned.append(Word(text, start, end, float(word.probability)))
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
    segments = []
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
