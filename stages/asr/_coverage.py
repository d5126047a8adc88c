"""How much of the speech the VAD found is covered by ASR segments (the report's check).

A segment spans its first to last word; the VAD pads speech and a sentence pause is no segment,
so each segment counts `TOLERANCE_S` wider on both sides. An uncovered stretch is wall time
inside which VAD speech has no segment near it; stretches with no segment between them are one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from f2f.artifacts import Transcript
from stages.asr._longform import Span, merge, subtract

TOLERANCE_S = 0.6


@dataclass(frozen=True)
class Coverage:
    speech_s: float  # VAD speech in the input
    covered_s: float  # of which near a segment
    longest_gap_s: float  # the longest uncovered stretch of talk, wall time
    longest_gap_start_s: float

    @property
    def fraction(self) -> float:
        return self.covered_s / self.speech_s if self.speech_s > 0 else 1.0

    def metrics(self) -> dict[str, Any]:
        return {"vad_speech_s": round(self.speech_s, 2),
                "speech_coverage": round(self.fraction, 4),
                "longest_uncovered_s": round(self.longest_gap_s, 2),
                "longest_uncovered_at_s": round(self.longest_gap_start_s, 2)}


def speech_coverage(speech: Sequence[Span], segments: Sequence[Span],
                    tolerance_s: float = TOLERANCE_S) -> Coverage:
    speech = merge(speech)
    heard = merge([Span(s.start_s - tolerance_s, s.end_s + tolerance_s) for s in segments])
    missing = subtract(speech, heard)
    total = sum(s.duration_s for s in speech)
    stretches: list[Span] = []
    for piece in missing:  # join missing pieces that no segment separates
        if stretches and not any(h.start_s < piece.start_s and h.end_s > stretches[-1].end_s
                                 for h in heard):
            stretches[-1] = Span(stretches[-1].start_s, piece.end_s)
        else:
            stretches.append(piece)
    longest = max(stretches, key=lambda s: s.duration_s, default=Span(0.0, 0.0))
    return Coverage(total, total - sum(s.duration_s for s in missing), longest.duration_s,
                    longest.start_s)


def transcript_coverage(speech: Sequence[Span], transcript: Transcript) -> Coverage:
    return speech_coverage(speech, [Span(s.start_s, s.end_s) for s in transcript.segments])
