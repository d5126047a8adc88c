"""The held-out check that keeps voice conversion from making a dub less like the speaker.

The speaker's audio is cut into `chunk_s` pieces; pieces with speech go alternately to a fit
half (what a mapping is fitted on) and a held-out half (what it is judged on). Each candidate
conversion of a sample of the dub is embedded with the speaker encoder and compared with the
held-out half; the best candidate wins only if it beats the unconverted dub there, otherwise
the dub is passed through. The encoder is only this gate's judge: the conversions themselves
are driven by WORLD mel-cepstra, never by speaker embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from f2f.artifacts import Speech
from f2f.voiceprint import cosine, speaker_embeddings

NONE = "none"
_FRAME_S = 0.01
_SPEECH_DB = -35.0  # 10 ms frames this far below the loudest count as silence
_MIN_SPEECH_FRACTION = 0.3  # a chunk with less speech than this goes to neither half


@dataclass(frozen=True)
class ReferenceSplit:
    """The speaker's audio in two disjoint halves (either may be empty for very short input)."""

    fit: Speech
    held_out: Speech


def split_alternate(speech: Speech, chunk_s: float) -> ReferenceSplit:
    """Speech chunks of `speech`, alternately into the fit and held-out halves."""
    rate = speech.sample_rate
    samples = np.asarray(speech.samples, np.float32)
    frame = max(int(_FRAME_S * rate), 1)
    n_frames = samples.size // frame
    energy = (samples[: n_frames * frame].reshape(n_frames, frame) ** 2).mean(axis=1)
    energy_db = 10 * np.log10(energy + 1e-12)
    speaking = energy_db > energy_db.max(initial=-120.0) + _SPEECH_DB
    per_chunk = max(int(round(chunk_s / _FRAME_S)), 1)
    halves: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    turn = 0
    for start in range(0, n_frames, per_chunk):
        if speaking[start:start + per_chunk].mean() < _MIN_SPEECH_FRACTION:
            continue
        halves[turn].append(samples[start * frame:(start + per_chunk) * frame])
        turn = 1 - turn

    def joined(parts: list[np.ndarray]) -> Speech:
        return Speech(np.concatenate(parts) if parts else np.zeros(0, np.float32), rate)
    return ReferenceSplit(joined(halves[0]), joined(halves[1]))


@dataclass(frozen=True)
class GateResult:
    """Which candidate was chosen and the held-out similarities behind the choice."""

    choice: str  # a candidate's name, or NONE
    similarity_before: float  # the unconverted dub vs the held-out half
    similarity_after: float  # the chosen candidate vs the held-out half (= before for NONE)
    scores: dict[str, float] = field(default_factory=dict)

    def to_metrics(self) -> dict[str, object]:
        return {"vc_choice": self.choice,
                "held_out_similarity_before": round(self.similarity_before, 4),
                "held_out_similarity_after": round(self.similarity_after, 4),
                "held_out_scores": {k: round(v, 4) for k, v in self.scores.items()}}


def required_gain(held_out_s: float, min_gain: float, noise_gain: float) -> float:
    """The gain a candidate needs: similarity to a few seconds of held-out speech is noisy (its
    spread shrinks with the square root of their length), so short inputs need a larger gain."""
    return max(min_gain, noise_gain / np.sqrt(max(held_out_s, 1e-3)))


def choose(candidates: dict[str, Speech], unconverted: Speech, held_out: Speech,
           min_gain: float, threads: int = 1) -> GateResult:
    """The candidate whose output is most like `held_out`, if it beats `unconverted` there by
    more than `min_gain`; NONE otherwise. All are embedded in one encoder pass, on `threads`."""
    target, unchanged, *converted = speaker_embeddings(
        [held_out, unconverted, *candidates.values()], threads)
    before = cosine(unchanged, target)
    scores = {name: cosine(e, target) for name, e in zip(candidates, converted, strict=True)}
    best = max(scores, key=scores.__getitem__, default=NONE)
    if best == NONE or scores[best] <= before + min_gain:
        return GateResult(NONE, before, before, scores)
    return GateResult(best, before, scores[best], scores)
