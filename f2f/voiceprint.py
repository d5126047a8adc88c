"""Speaker embeddings (resemblyzer's d-vector encoder, whose weights ship in its wheel).

One place for the encoder: the VC gate (does a conversion move the dub towards the speaker on
speech it was not fitted to?), diarization (who speaks in each window) and `eval.speech`
(speaker similarity) all embed through here. The encoder runs in numpy (`f2f._dvector`, checked
against resemblyzer's own torch code by tests/test_voiceprint_numpy.py): no torch, librosa or
scipy import, which would cost seconds in every run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from f2f._dvector import HOP, PARTIAL_FRAMES, RATE, embed_partials, embed_utterances, preprocess
from f2f.artifacts import Speech

__all__ = ["RATE", "WINDOW_S", "cosine", "speaker_embedding", "speaker_embeddings",
           "window_embeddings"]

WINDOW_S = PARTIAL_FRAMES * HOP / RATE  # resemblyzer's partial-utterance length, 1.6 s


def _samples(speech: Speech, trim_silence: bool) -> np.ndarray:
    from f2f.timing import resample

    wav = np.asarray(resample(speech, RATE).samples, np.float32)
    if not trim_silence:
        return wav
    trimmed = preprocess(wav)
    return trimmed if trimmed.size >= RATE // 10 else wav  # VAD removed almost everything


def speaker_embedding(speech: Speech) -> np.ndarray:
    """(256,) unit-norm utterance embedding; silence is trimmed by resemblyzer's VAD first."""
    embedding, _, _ = embed_partials(_samples(speech, True), rate=1.3, min_coverage=0.75)
    return embedding.astype(float)


def speaker_embeddings(speeches: Sequence[Speech], threads: int = 1) -> list[np.ndarray]:
    """`speaker_embedding` of each clip, computed together (much less CPU than one by one),
    on `threads` threads."""
    wavs = [_samples(speech, True) for speech in speeches]
    return [e.astype(float) for e in embed_utterances(wavs, rate=1.3, min_coverage=0.75,
                                                      threads=threads)]


def window_embeddings(speech: Speech, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of WINDOW_S windows every `step_s` seconds over the whole clip (silence kept,
    so times stay the clip's): ((N, 256) embeddings, (N,) window centre times in seconds)."""
    wav = _samples(speech, False)
    if wav.size < int(WINDOW_S * RATE):
        wav = np.pad(wav, (0, int(WINDOW_S * RATE) - wav.size))
    _, partials, slices = embed_partials(wav, rate=1.0 / step_s, min_coverage=0.5)
    centres = np.array([(s.start + s.stop) / 2 for s in slices], float) / RATE
    return partials.astype(float), centres


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings (1 = same direction)."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
