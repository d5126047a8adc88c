"""Translations that fit the slot: spoken-duration estimates and the per-segment choice.

A dub that needs more than ~1.15x speed-up sounds hurried, so when the first translation of a
segment would, the MT stage takes the first shorter variant that fits (the variants drop
articles, fillers and intensifiers, or come from a seq2seq n-best list). Duration is estimated
by a linear model of what the voice says (vowels, consonants, words, pauses), fitted on real
eSpeak NG speech and scaled to the TTS voice's speaking rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from f2f.artifacts import Segment
from f2f.textnorm import normalize_hindi
from f2f.timing import room_ends_s

COMPACT_LEVELS = 3  # transfer variants: plain, no articles/intensifiers, also no interjections
DEFAULT_RATE_SYL_S = 5.5  # a typical Hindi TTS voice; the pipeline passes the real one
_VIRAMA = "्"
_SIGNS = set("ािीुूृेैोौॉॅ")
_VOWELS = set("अआइईउऊऋएऐओऔऑ")
_NUKTA_MARKS = set("ंँः़")


def syllables(text: str) -> int:
    """Devanagari syllables: vowels plus consonants that carry a vowel (inherent or written).

    A word-final consonant without a sign is silent in Hindi (schwa deletion): "घर" is one
    syllable. Latin letters and digits count roughly one syllable per two characters.
    """
    count = 0
    for word in text.split():
        chars = [c for c in word if c not in _NUKTA_MARKS]
        for i, char in enumerate(chars):
            nxt = chars[i + 1] if i + 1 < len(chars) else ""
            if char in _VOWELS:
                count += 1
            elif "\u0915" <= char <= "\u0939" or "\u0958" <= char <= "\u095f":
                if nxt == _VIRAMA:
                    continue
                if nxt in _SIGNS or (nxt and nxt != _VIRAMA):
                    count += 1
                elif len(chars) == 1:
                    count += 1  # a one-letter word ("व") is said
            elif char.isascii() and char.isalnum():
                count += 1 if i % 2 == 0 else 0
    return count


# What the duration model counts in the text the voice speaks (after f2f.textnorm, which says
# digits, Latin letters and symbols in Devanagari words).
DURATION_FEATURES = ("long_vowels", "short_vowels", "consonants", "nasals", "viramas",
                     "schwas", "words", "pauses")
# Seconds per feature, and per utterance, of eSpeak NG hi at 165 wpm, fitted by least squares
# on its real output for FLORES dev Hindi references (rows 0-349, whole sentences and 2-7 word
# pieces; checked on rows 350-699): bench/bench_mt_duration.py, bench/results/mt_duration.json.
DURATION_SECONDS = (0.0650, 0.0205, 0.0770, 0.0413, -0.0161, 0.0314, 0.0648, 0.2208)
DURATION_INTERCEPT_S = 0.0612
MODEL_RATE_SYL_S = 5.26  # syllables/s of the voice the model was fitted on (TTS_RATES_SYL_S)
_LONG_SIGNS = set("ाीूेैोौॉ")
_SHORT_SIGNS = set("िुृॅ")
_LONG_VOWELS = set("आईऊएऐओऔऑ")
_SHORT_VOWELS = set("अइउऋ")
_NASALS = set("ंँ")


def _is_consonant(char: str) -> bool:
    return "\u0915" <= char <= "\u0939" or "\u0958" <= char <= "\u095f"


def duration_features(text: str) -> tuple[int, ...]:
    """Counts, in DURATION_FEATURES order, of what a Hindi voice says in `text`.

    A consonant followed by another consonant or a nasal sign carries a schwa that the voice
    may say or drop; a word-final one is silent (schwa deletion) and is counted only as a
    consonant.
    """
    counts = dict.fromkeys(DURATION_FEATURES, 0)
    spoken = normalize_hindi(text)
    for word in spoken.split():
        counts["words"] += 1
        chars = [c for c in word if c != "\u093c"]  # the nukta changes no timing
        for i, char in enumerate(chars):
            nxt = chars[i + 1] if i + 1 < len(chars) else ""
            if char in _LONG_SIGNS or char in _LONG_VOWELS:
                counts["long_vowels"] += 1
            elif char in _SHORT_SIGNS or char in _SHORT_VOWELS:
                counts["short_vowels"] += 1
            elif char in _NASALS:
                counts["nasals"] += 1
            elif char == _VIRAMA:
                counts["viramas"] += 1
            elif _is_consonant(char):
                counts["consonants"] += 1
                if nxt and nxt not in _LONG_SIGNS | _SHORT_SIGNS | _NASALS | {_VIRAMA}:
                    counts["schwas"] += 1
    counts["pauses"] = sum(spoken.count(p) for p in ",;:?!")
    return tuple(counts[name] for name in DURATION_FEATURES)


def estimate_seconds(text: str, rate_syl_s: float) -> float:
    """Spoken seconds of `text` by a voice speaking `rate_syl_s` syllables per second."""
    if not text.strip():
        return 0.0
    features = duration_features(text)
    seconds = DURATION_INTERCEPT_S + sum(w * n for w, n in zip(DURATION_SECONDS, features,
                                                                strict=True))
    return max(seconds, 0.0) * MODEL_RATE_SYL_S / max(rate_syl_s, 1e-3)


@dataclass(frozen=True)
class SlotChoice:
    """What the slot-aware choice saw and did for one segment (for the run report)."""

    segment_id: int
    slot_s: float  # the segment's own span
    estimates_s: tuple[float, ...]  # per candidate, first = the plain translation
    chosen: int
    speedup_before: float  # speed-up the plain translation needs in the room (see room_s)
    speedup_after: float  # of the chosen one
    room_s: float = 0.0  # the span and the pause after it, which the timing fit may use
    span_speedup_after: float = 0.0  # the chosen one's estimate / the span alone

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose_for_slot(segment_id: int, candidates: Sequence[str], slot_s: float,
                    rate_syl_s: float, max_speedup: float = 1.15,
                    room_s: float = 0.0) -> SlotChoice:
    """The first candidate that fits within `max_speedup` in the segment's room (`room_s`: its
    span and the pause after it, which the timing fit fills before it speeds speech up past
    1.1x; at least the span), else the shortest one. A plain line the pause can hold is kept:
    a shorter variant only where the first choice would need more than `max_speedup`."""
    estimates = tuple(round(estimate_seconds(c, rate_syl_s), 3) for c in candidates)
    slot = max(slot_s, 1e-3)
    room = max(room_s, slot)
    chosen = next((i for i, e in enumerate(estimates) if e / room <= max_speedup), None)
    if chosen is None:
        chosen = min(range(len(estimates)), key=lambda i: (estimates[i], i))
    return SlotChoice(segment_id, round(slot_s, 3), estimates, chosen,
                      round(estimates[0] / room, 3), round(estimates[chosen] / room, 3),
                      round(room, 3), round(estimates[chosen] / slot, 3))


def summary(choices: Sequence[SlotChoice], max_speedup: float = 1.15) -> dict[str, Any]:
    """Share of segments within `max_speedup` in their rooms, before and after the choice, and
    after it in their own spans alone (as if no pause could be used)."""
    spoken = [c for c in choices if c.estimates_s and c.estimates_s[0] > 0]
    n = max(len(spoken), 1)
    return {"segments": len(spoken),
            "fit_before": round(sum(c.speedup_before <= max_speedup for c in spoken) / n, 4),
            "fit_after": round(sum(c.speedup_after <= max_speedup for c in spoken) / n, 4),
            "span_fit_after": round(
                sum(c.span_speedup_after <= max_speedup for c in spoken) / n, 4),
            "changed": sum(c.chosen != 0 for c in spoken)}


def room_seconds(segments: Sequence[Segment], media_duration_s: float,
                 use_following_silence: bool = True) -> list[float]:
    """Per segment (in the given order), the time its speech may take before the timing fit
    speeds it past 1.1x: up to the next segment's start (`f2f.timing.room_ends_s`); with the
    media's length unknown (0) or pauses not used, each segment's own span."""
    if media_duration_s <= 0:
        return [s.end_s - s.start_s for s in segments]
    order = sorted(range(len(segments)), key=lambda i: (segments[i].start_s, i))
    ends = room_ends_s([(segments[i].start_s, segments[i].end_s) for i in order],
                       media_duration_s, use_following_silence)
    rooms = [0.0] * len(segments)
    for i, end in zip(order, ends, strict=True):
        rooms[i] = max(end - segments[i].start_s, 0.0)
    return rooms


class SlotAware:
    """What an MT backend's slot-aware choice learns from the pipeline: the TTS voice's rate
    and the media's length (so a segment's slot includes the pause after it)."""

    speaking_rate: float = 0.0  # syllables/s of the TTS voice; 0 = no slot-aware choice
    media_duration_s: float = 0.0  # 0 = unknown: each segment's own span is its slot
    use_following_silence: bool = True

    def fit_to_tts(self, tts_backend: str | None, options: dict[str, Any]) -> float:
        """The pipeline names the TTS voice (None: no TTS, so no slot-aware choice);
        translations are then chosen to fit its slots."""
        self.speaking_rate = (round(tts_speaking_rate(tts_backend, options), 3)
                              if tts_backend else 0.0)
        return self.speaking_rate

    def fit_to_timeline(self, media_duration_s: float, use_following_silence: bool) -> float:
        """The pipeline gives the media's length and the timing fit's rule for pauses; returns
        what the choice then depends on (0 when pauses are not used), for the cache key."""
        self.media_duration_s = max(float(media_duration_s), 0.0)
        self.use_following_silence = use_following_silence
        return round(self.media_duration_s, 3) if use_following_silence else 0.0

    def rooms_for(self, segments: Sequence[Segment]) -> list[float]:
        return room_seconds(segments, self.media_duration_s, self.use_following_silence)


# Syllables per second of each voice, so estimates follow the TTS actually used. eSpeak NG hi at
# 165 wpm: measured by bench/bench_mt_slots.py (bench/results/mt_slots.json); others: default.
TTS_RATES_SYL_S = {"espeak": 5.26}


def tts_speaking_rate(tts_backend: str, options: dict[str, Any]) -> float:
    """Syllables/s of a TTS backend with its options; the default rate for unknown engines."""
    base = TTS_RATES_SYL_S.get(tts_backend) or DEFAULT_RATE_SYL_S
    if tts_backend == "espeak":
        return base * float(options.get("rate_wpm", 165)) / 165.0
    if tts_backend == "mms":
        return base * float(options.get("speaking_rate", 1.0))
    return base
