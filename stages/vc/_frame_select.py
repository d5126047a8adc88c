"""Frame selection on WORLD mel-cepstra: the mapping of the `knn` backend.

Each speech frame of the dub is matched, in a speaker-normalised space (each voice's cepstra
minus its own mean, over its own standard deviation), to its `k` nearest speech frames of the
speaker; their (un-normalised) mel-cepstra are averaged and lightly smoothed in time, and
replace the dub frame's envelope shape. Loudness (c0), aperiodicity and timing stay the dub's.
Like kNN-VC, but matching on features that need no pretrained network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stages.vc import world_features as wf

POOL_MAX_FRAMES = 30_000  # 150 s of speaker speech at 5 ms: bounds memory and matching time
_BLOCK = 2048  # dub frames matched at once (a (block, pool) distance matrix) ...
_BLOCK_ELEMENTS = 2_000_000  # ... of at most this many entries (8 MB of float32)


@dataclass(frozen=True, eq=False)
class SpeakerPool:
    """The speaker's speech frames: (N, D) mel-cepstra and their normalisation statistics."""

    mcep: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, clips: list[wf.WorldFeatures]) -> SpeakerPool:
        frames = np.concatenate([c.mcep[c.speech_frames] for c in clips])
        if frames.shape[0] > POOL_MAX_FRAMES:  # an even subsample keeps every part of the talk
            frames = frames[np.linspace(0, frames.shape[0] - 1, POOL_MAX_FRAMES).astype(int)]
        return cls(frames, frames.mean(axis=0), np.maximum(frames.std(axis=0), 1e-4))

    @property
    def normalised(self) -> np.ndarray:
        return (self.mcep[:, 1:] - self.mean[1:]) / self.std[1:]


def nearest_mean(queries: np.ndarray, pool: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """For each (Q, D) query, the mean of `values` at its k nearest (Euclidean) `pool` rows."""
    k = max(1, min(k, pool.shape[0]))
    # float32 distances in blocks of at most _BLOCK_ELEMENTS: a 150 s pool against 2048 dub
    # frames at once was ~0.5 GB per temporary, the main part of a long video's peak memory
    pool32 = np.ascontiguousarray(pool, dtype=np.float32)
    pool_sq = (pool32 ** 2).sum(axis=1)
    rows = max(1, min(_BLOCK, _BLOCK_ELEMENTS // max(pool32.shape[0], 1)))
    out = np.empty((queries.shape[0], values.shape[1]))
    for start in range(0, queries.shape[0], rows):
        block = queries[start:start + rows].astype(np.float32)
        distance = block @ pool32.T
        distance *= -2.0
        distance += pool_sq[None, :]  # + |q|^2 is the same for every row of a query
        nearest = np.argpartition(distance, k - 1, axis=1)[:, :k]
        out[start:start + rows] = values[nearest].mean(axis=1)
    return out


def select_frames(mcep: np.ndarray, speech: np.ndarray, source_mean: np.ndarray,
                  source_std: np.ndarray, pool: SpeakerPool, k: int,
                  smooth_frames: int) -> np.ndarray:
    """(T, D) dub mel-cepstra with each speech frame's shape (c1..) replaced by the mean of its
    k nearest speaker frames; other frames are statistics-mapped onto the speaker's."""
    z = (mcep[:, 1:] - source_mean[1:]) / source_std[1:]
    out = mcep.copy()
    out[:, 1:] = z * pool.std[1:] + pool.mean[1:]  # non-speech frames: statistics mapping
    if speech.any():
        out[speech, 1:] = nearest_mean(z[speech], pool.normalised, pool.mcep[:, 1:], k)
    if smooth_frames > 1:  # neighbouring frames come from unrelated places of the talk
        kernel = np.ones(smooth_frames) / smooth_frames
        padded = np.pad(out[:, 1:], ((smooth_frames // 2, smooth_frames // 2), (0, 0)), "edge")
        out[:, 1:] = np.stack([np.convolve(padded[:, d], kernel, "valid")[: out.shape[0]]
                               for d in range(padded.shape[1])], axis=1)
    return out
