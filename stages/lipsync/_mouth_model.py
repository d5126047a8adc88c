"""The learned audio -> mouth model of the `viseme` backend: features, weights, inference.

Input: log-mel frames of the dub (16 kHz, 40 bands, 100 frames/s), each band centred on the
utterance's own mean (so a TTS voice and a microphone look alike), in a context of
`CONTEXT_FRAMES` around the video frame's time (~0.4 s). Output: the 20 mouth landmarks in face
units (f2f.faces.normalized_mouth) minus the speaker's own mean mouth, i.e. how this sound moves
the mouth away from its average. A two-layer MLP, trained on GRID by
`python -m stages.lipsync.mouth_train`; inference is plain numpy (no torch at run time).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from f2f.weights import WeightsSpec, resolve

SAMPLE_RATE = 16_000
HOP = 160  # 10 ms
N_FFT = 512
N_MELS = 40
CONTEXT_FRAMES = 41  # +-0.2 s around the video frame
WEIGHTS_FILE = "audio_mouth.npz"

AUDIO_MOUTH = WeightsSpec(
    name="viseme-audio-mouth",
    filenames=(WEIGHTS_FILE,),
    package=("stages.lipsync", WEIGHTS_FILE),
    # pinned: a retrained file must come with a new hash here (and a new backend version)
    sha256="8605ad4e1a10f7318a596d66af91fca7e52958d0682fb54d46d960416baf80c7",
    how_to_get="it ships in the repository as stages/lipsync/audio_mouth.npz; retrain it with "
               "`python -m stages.lipsync.mouth_train` (needs ../shared/data/grid)",
)


CHUNK_FRAMES = 4096  # rows of STFT or windows computed at once (bounds memory)


@lru_cache(maxsize=4)
def _mel_filters(rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS
                 ) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters on the HTK mel scale, 60-7600 Hz."""
    def to_mel(hz: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    edges_mel = np.linspace(to_mel(np.array(60.0)), to_mel(np.array(7600.0)), n_mels + 2)
    edges = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    low, mid, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None] - low) / (mid - low)
    falling = (high - freqs[None]) / (high - mid)
    return np.clip(np.minimum(rising, falling), 0.0, None).astype(np.float32)


def log_mel(samples_16k: np.ndarray) -> np.ndarray:
    """(T, N_MELS) log-mel energies at 100 frames/s (frame t centred at t * 10 ms)."""
    x = np.asarray(samples_16k, np.float32)
    padded = np.pad(x, (N_FFT // 2, N_FFT // 2))
    count = max(1, 1 + (padded.size - N_FFT) // HOP)
    window, filters = np.hanning(N_FFT).astype(np.float32), _mel_filters().T
    out = np.empty((count, filters.shape[1]), np.float32)
    # CHUNK_FRAMES rows at a time: the whole STFT of a 10-minute dub is ~0.6 GB of temporaries
    for start in range(0, count, CHUNK_FRAMES):
        rows = np.arange(start, min(start + CHUNK_FRAMES, count))
        index = np.arange(N_FFT)[None, :] + HOP * rows[:, None]
        frames = padded[np.minimum(index, padded.size - 1)] * window
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (rows, F)
        out[start:start + rows.size] = np.log10(power @ filters + 1e-6)
    return out


def normalize_mel(mel: np.ndarray) -> np.ndarray:
    """Per-band utterance mean removed, floor-limited: loudness and channel invariant-ish."""
    level = np.percentile(mel, 95) if mel.size else 0.0
    clipped = np.maximum(mel, level - 6.0)  # 60 dB below the loud part is silence anyway
    return (clipped - clipped.mean(axis=0, keepdims=True)).astype(np.float32)


def context_windows(mel: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """(N, CONTEXT_FRAMES * N_MELS) flattened windows centred at `times_s`; edges padded with
    the utterance's quietest frame (silence)."""
    half = CONTEXT_FRAMES // 2
    quiet = mel[np.argmin(mel.sum(axis=1))] if mel.shape[0] else np.zeros(N_MELS, np.float32)
    padded = np.concatenate([np.repeat(quiet[None], half, 0), mel,
                             np.repeat(quiet[None], half, 0)])
    centre = np.clip(np.round(np.asarray(times_s) * SAMPLE_RATE / HOP).astype(int), 0,
                     max(mel.shape[0] - 1, 0))
    index = centre[:, None] + np.arange(CONTEXT_FRAMES)[None, :]  # offset by the padding
    return padded[index].reshape(len(centre), -1)


@dataclass(frozen=True)
class AudioMouthModel:
    """x -> relu(x W1 + b1) W2 + b2, with input standardisation; outputs (N, 20, 2)."""

    in_mean: np.ndarray  # (D,)
    in_std: np.ndarray  # (D,)
    w1: np.ndarray  # (D, H)
    b1: np.ndarray  # (H,)
    w2: np.ndarray  # (H, 40)
    b2: np.ndarray  # (40,)
    out_scale: np.ndarray  # (40,) the targets were divided by this in training

    def predict_windows(self, windows: np.ndarray) -> np.ndarray:
        x = (windows - self.in_mean) / self.in_std
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        return ((hidden @ self.w2 + self.b2) * self.out_scale).reshape(-1, 20, 2)

    def predict(self, samples_16k: np.ndarray, times_s: np.ndarray) -> np.ndarray:
        """(N, 20, 2) mouth offsets from the speaker's mean, face units, at `times_s`."""
        mel = normalize_mel(log_mel(samples_16k))
        times_s = np.asarray(times_s)
        if times_s.size == 0:
            return np.zeros((0, 20, 2), np.float32)
        return np.concatenate([  # in chunks, like the mel: windows are 1,640 floats a frame
            self.predict_windows(context_windows(mel, times_s[i:i + CHUNK_FRAMES])
                                 .astype(np.float32))
            for i in range(0, times_s.size, CHUNK_FRAMES)])

    def save(self, path: Path) -> None:
        np.savez_compressed(path, **{k: getattr(self, k).astype(np.float16)
                                     for k in self.__dataclass_fields__})

    @classmethod
    def load(cls, path: Path) -> AudioMouthModel:
        with np.load(path) as data:
            return cls(**{k: data[k].astype(np.float32) for k in cls.__dataclass_fields__})


def find_audio_mouth(path: str | None = None) -> Path:
    """The shipped model file (SHA-256 checked), or the file at `path` (your own retrain)."""
    if path:
        return resolve(replace(AUDIO_MOUTH, sha256=None), path)
    return resolve(AUDIO_MOUTH)


def load_audio_mouth(path: str | None = None) -> tuple[AudioMouthModel, Path]:
    found = find_audio_mouth(path)
    return AudioMouthModel.load(found), found
