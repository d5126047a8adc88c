"""Speaker embeddings (resemblyzer's d-vector encoder, whose weights ship in its wheel).

One place for the encoder: the VC gate (does a conversion move the dub towards the speaker on
speech it was not fitted to?), diarization (who speaks in each window) and `eval.speech`
(speaker similarity) all embed through here. Imports resemblyzer (and torch) only when called.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from f2f.artifacts import Speech
from f2f.errors import MissingDependencyError

RATE = 16_000  # resemblyzer's sampling rate
WINDOW_S = 1.6  # resemblyzer's partial-utterance length


@functools.lru_cache(maxsize=1)
def _encoder() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # webrtcvad imports the deprecated pkg_resources
            from resemblyzer import VoiceEncoder
    except ImportError as exc:
        raise MissingDependencyError(
            f"speaker embeddings need resemblyzer ({exc}): pip install resemblyzer==0.1.4"
        ) from exc
    return VoiceEncoder("cpu", verbose=False)


def _samples(speech: Speech, trim_silence: bool) -> np.ndarray:
    from f2f.timing import resample

    wav = np.asarray(resample(speech, RATE).samples, np.float32)
    if not trim_silence:
        return wav
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import preprocess_wav

        trimmed = preprocess_wav(wav, RATE)
    return trimmed if trimmed.size >= RATE // 10 else wav  # VAD removed almost everything


def speaker_embedding(speech: Speech) -> np.ndarray:
    """(256,) unit-norm utterance embedding; silence is trimmed by resemblyzer's VAD first."""
    return np.asarray(_encoder().embed_utterance(_samples(speech, True)), float)


def window_embeddings(speech: Speech, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of WINDOW_S windows every `step_s` seconds over the whole clip (silence kept,
    so times stay the clip's): ((N, 256) embeddings, (N,) window centre times in seconds)."""
    wav = _samples(speech, False)
    if wav.size < int(WINDOW_S * RATE):
        wav = np.pad(wav, (0, int(WINDOW_S * RATE) - wav.size))
    _, partials, slices = _encoder().embed_utterance(wav, return_partials=True,
                                                      rate=1.0 / step_s, min_coverage=0.5)
    centres = np.array([(s.start + s.stop) / 2 for s in slices], float) / RATE
    return np.asarray(partials, float), centres


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings (1 = same direction)."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
