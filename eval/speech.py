"""Speech quality metrics for voice conversion: pure functions on arrays and `Speech`.

- `mcd`: mel-cepstral distortion in dB between two mel-cepstrum sequences (time-aligned by DTW
  when lengths differ), excluding the energy coefficient c0.
- `global_mcd`: MCD between two voices' mean mel-cepstra (non-parallel: the converted Hindi and
  the speaker's English never say the same thing, so only their statistics are comparable).
- `f0_rmse`: RMSE in Hz over frames voiced in both aligned contours.
- `f0_distribution_rmse`: RMSE in Hz between the deciles of two voiced F0 distributions.
- `speaker_similarity`: cosine similarity of resemblyzer speaker embeddings (1 = same voice).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from f2f.artifacts import Speech

_MCD_SCALE = 10.0 / np.log(10.0) * np.sqrt(2.0)


def _frame_mcd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _MCD_SCALE * np.sqrt(((a[..., 1:] - b[..., 1:]) ** 2).sum(axis=-1))


def dtw_path(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs of the cheapest monotonic alignment of (Ta, D) and (Tb, D) by Euclidean cost."""
    cost = np.sqrt(((a[:, None, 1:] - b[None, :, 1:]) ** 2).sum(axis=-1))
    acc = np.full((a.shape[0] + 1, b.shape[0] + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, a.shape[0] + 1):  # rows in Python, columns vectorised per step
        row = cost[i - 1]
        diag_up = np.minimum(acc[i - 1, :-1], acc[i - 1, 1:])
        for j in range(1, b.shape[0] + 1):
            acc[i, j] = row[j - 1] + min(diag_up[j - 1], acc[i, j - 1])
    i, j = a.shape[0], b.shape[0]
    path = []
    while i > 0 and j > 0:
        path.append((i - 1, j - 1))
        step = int(np.argmin((acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])))
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    path.reverse()
    index = np.asarray(path)
    return index[:, 0], index[:, 1]


def mcd(reference: np.ndarray, test: np.ndarray, align: bool = True) -> float:
    """Mean MCD (dB) of two (T, D) mel-cepstra; DTW-aligned unless `align` is False and the
    lengths agree."""
    reference, test = np.asarray(reference, float), np.asarray(test, float)
    if reference.ndim != 2 or test.ndim != 2 or reference.shape[1] != test.shape[1]:
        raise ValueError(f"mcd needs two (T, D) arrays, got {reference.shape} and {test.shape}")
    if align and reference.shape[0] != test.shape[0]:
        ia, ib = dtw_path(reference, test)
        reference, test = reference[ia], test[ib]
    elif reference.shape[0] != test.shape[0]:
        raise ValueError("mcd without alignment needs equal lengths")
    return float(_frame_mcd(reference, test).mean())


def global_mcd(reference: np.ndarray, test: np.ndarray) -> float:
    """MCD (dB) between the mean mel-cepstra of two (T, D) sequences of different speech."""
    return float(_frame_mcd(np.asarray(reference, float).mean(axis=0),
                            np.asarray(test, float).mean(axis=0)))


def f0_rmse(reference_hz: np.ndarray, test_hz: np.ndarray) -> float:
    """RMSE (Hz) over frames voiced (> 0) in both equal-length contours; nan if none are."""
    reference_hz, test_hz = np.asarray(reference_hz, float), np.asarray(test_hz, float)
    if reference_hz.shape != test_hz.shape:
        raise ValueError("f0_rmse needs aligned contours of equal length")
    both = (reference_hz > 0) & (test_hz > 0)
    if not both.any():
        return float("nan")
    return float(np.sqrt(np.mean((reference_hz[both] - test_hz[both]) ** 2)))


def f0_distribution_rmse(reference_hz: np.ndarray, test_hz: np.ndarray) -> float:
    """RMSE (Hz) between the 10th..90th percentiles of two voiced F0 distributions."""
    a = np.asarray(reference_hz, float)
    b = np.asarray(test_hz, float)
    a, b = a[a > 0], b[b > 0]
    if a.size == 0 or b.size == 0:
        return float("nan")
    q = np.arange(10, 91, 10)
    return float(np.sqrt(np.mean((np.percentile(a, q) - np.percentile(b, q)) ** 2)))


@functools.lru_cache(maxsize=1)
def _voice_encoder() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import VoiceEncoder

        return VoiceEncoder("cpu", verbose=False)


def speaker_embedding(speech: Speech) -> np.ndarray:
    """resemblyzer's 256-d unit-norm utterance embedding (its encoder ships in the wheel)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import preprocess_wav

        wav = preprocess_wav(np.asarray(speech.samples, np.float32), speech.sample_rate)
    if wav.size < 1600:  # VAD removed almost everything: embed the raw clip instead
        wav = np.asarray(speech.samples, np.float32)
    return np.asarray(_voice_encoder().embed_utterance(wav), float)


def embedding_similarity(ea: np.ndarray, eb: np.ndarray) -> float:
    """Cosine similarity of two speaker embeddings."""
    return float(np.dot(ea, eb) / (np.linalg.norm(ea) * np.linalg.norm(eb) + 1e-12))


def speaker_similarity(a: Speech, b: Speech) -> float:
    """Cosine similarity of the speaker embeddings of two clips (about 0.75+ = same speaker)."""
    return embedding_similarity(speaker_embedding(a), speaker_embedding(b))
