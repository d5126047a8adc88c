"""Audio features of the papers: Wav2Lip's mel spectrogram and LipGAN's MFCC heat-map.

numpy and scipy at run time, with the mel filterbanks frozen from librosa in `mel_filters.npz`,
so the features are the same wherever the package runs.
The mel front end reproduces Wav2Lip's `audio.py` hyper-parameters: 16 kHz, pre-emphasis 0.97,
n_fft 800, hop 200 (80 frames/s), Hann window 800, 80 Slaney mel bands 55-7600 Hz, dB with a
-100 dB floor and 20 dB reference, scaled symmetrically and clipped to [-4, 4].
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000
MEL_FRAMES_PER_SECOND = 80  # SAMPLE_RATE / hop
MEL_WINDOW = 16  # mel frames per 5 video frames at 25 fps (0.2 s)
MFCC_FRAMES_PER_SECOND = 100
MFCC_WINDOW = 35  # 350 ms of 10 ms frames (LipGAN)


@dataclass(frozen=True)
class MelConfig:
    sample_rate: int = SAMPLE_RATE
    preemphasis: float = 0.97
    n_fft: int = 800
    hop: int = 200
    win: int = 800
    n_mels: int = 80
    fmin_hz: float = 55.0
    fmax_hz: float = 7600.0
    min_level_db: float = -100.0
    ref_level_db: float = 20.0
    max_abs_value: float = 4.0


MEL = MelConfig()


# ------------------------------------------------------------------------------ building blocks

# The Slaney mel filterbanks of both front ends, frozen from `librosa.filters.mel` (as whisper
# ships its `mel_filters.npz`): the features cannot drift with a librosa release, and librosa is
# not needed at run time. `python -m lipgan.audio` rewrites the file (needs librosa).
FILTERS_FILE = Path(__file__).with_name("mel_filters.npz")


def _filter_key(sample_rate: int, n_fft: int, n_mels: int, fmin_hz: float, fmax_hz: float) -> str:
    return f"sr{sample_rate}_fft{n_fft}_mels{n_mels}_{fmin_hz:g}_{fmax_hz:g}"


@lru_cache(maxsize=8)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin_hz: float,
                   fmax_hz: float) -> np.ndarray:
    """Triangular Slaney-normalised (equal-area) filters, shape (n_mels, n_fft // 2 + 1)."""
    key = _filter_key(sample_rate, n_fft, n_mels, fmin_hz, fmax_hz)
    with np.load(FILTERS_FILE) as filters:
        if key not in filters.files:
            raise KeyError(f"no frozen mel filterbank {key} in {FILTERS_FILE}; add its settings to "
                           "FROZEN_FILTERS and run `python -m lipgan.audio` (needs librosa)")
        weights = filters[key]
    weights.flags.writeable = False
    return weights


def _hann(length: int) -> np.ndarray:
    """Periodic Hann window, as librosa's and Wav2Lip's `stft` use."""
    from scipy.signal import get_window

    return get_window("hann", length, fftbins=True)


def filtered_stft(samples: np.ndarray, n_fft: int, hop: int, win: int, basis: np.ndarray,
                  power: int = 1, block: int = 4096) -> np.ndarray:
    """basis @ |STFT| ** power with centred frames (reflect padding by n_fft // 2): (F, T).

    Computed `block` frames at a time, so memory does not grow with a long clip's spectrogram
    (10 minutes of audio would need ~600 MB of float64 STFT at once).
    """
    samples = np.asarray(samples, dtype=np.float64)
    pad = n_fft // 2
    if samples.size <= pad:  # reflect padding needs more samples than the pad
        samples = np.pad(samples, (0, pad + 1 - samples.size))
    padded = np.pad(samples, pad, mode="reflect")
    n_frames = 1 + (padded.size - n_fft) // hop
    window = np.zeros(n_fft)
    offset = (n_fft - win) // 2
    window[offset:offset + win] = _hann(win)
    frames = np.lib.stride_tricks.as_strided(  # a view: (T, n_fft), no copy
        padded, shape=(n_frames, n_fft), strides=(padded.strides[0] * hop, padded.strides[0]),
        writeable=False)
    weights = basis.astype(np.float64)
    out = np.empty((basis.shape[0], n_frames))
    for first in range(0, n_frames, block):
        spectrum = np.abs(np.fft.rfft(frames[first:first + block] * window, n=n_fft, axis=1))
        out[:, first:first + block] = weights @ (spectrum ** power).T
    return out


def preemphasize(samples: np.ndarray, coefficient: float) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float64)
    out = samples.copy()
    out[1:] -= coefficient * samples[:-1]
    return out


# ------------------------------------------------------------------------------ Wav2Lip mel


def melspectrogram(samples_16k: np.ndarray, config: MelConfig = MEL) -> np.ndarray:
    """Wav2Lip's normalised log-mel spectrogram of 16 kHz mono audio: (80, T) float32 in [-4, 4].

    T = 1 + len(samples) // 200, i.e. 80 frames per second.
    """
    samples = np.asarray(samples_16k, dtype=np.float32).reshape(-1)
    if samples.ndim != 1 or samples.size == 0:
        raise ValueError("melspectrogram needs a non-empty 1-D array of 16 kHz samples")
    basis = mel_filterbank(config.sample_rate, config.n_fft, config.n_mels,
                           config.fmin_hz, config.fmax_hz)
    mel = filtered_stft(preemphasize(samples, config.preemphasis), config.n_fft, config.hop,
                        config.win, basis)
    min_level = np.exp(config.min_level_db / 20 * np.log(10))
    db = 20 * np.log10(np.maximum(min_level, mel)) - config.ref_level_db
    top = config.max_abs_value
    scaled = 2 * top * (db - config.min_level_db) / (-config.min_level_db) - top
    return np.clip(scaled, -top, top).astype(np.float32)


def mel_window_start(frame_index: int, fps: float = 25.0) -> int:
    """First mel frame of video frame `frame_index`'s window: Wav2Lip's int(80 * i / fps)."""
    if frame_index < 0:
        raise ValueError(f"frame_index must be >= 0, got {frame_index}")
    return int(MEL_FRAMES_PER_SECOND * frame_index / fps)


def mel_window_for_frame(mel: np.ndarray, frame_index: int, fps: float = 25.0,
                         window: int = MEL_WINDOW) -> np.ndarray:
    """The 16 mel frames (0.2 s) that start at video frame `frame_index`: (80, 16).

    Past the end the window is padded with silence (the scale's floor, -4), so every frame of a
    clip gets a window (the reference instead stops at the last full window and drops the frames
    after it; see docs/lipsync.md).
    """
    start = mel_window_start(frame_index, fps)
    chunk = mel[:, start:start + window]
    if chunk.shape[1] < window:
        floor = -MEL.max_abs_value
        chunk = np.pad(chunk, ((0, 0), (0, window - chunk.shape[1])), constant_values=floor)
    return np.ascontiguousarray(chunk, dtype=np.float32)


# ------------------------------------------------------------------------------ LipGAN MFCC


@dataclass(frozen=True)
class MfccConfig:
    sample_rate: int = SAMPLE_RATE
    win: int = 400  # 25 ms
    hop: int = 160  # 10 ms -> 100 Hz
    n_fft: int = 512
    n_filters: int = 26
    n_coefficients: int = 13
    preemphasis: float = 0.97


MFCC = MfccConfig()


def mfcc(samples_16k: np.ndarray, config: MfccConfig = MFCC) -> np.ndarray:
    """LipGAN's audio features: 13 MFCCs at 100 Hz with the first (energy) dropped: (12, T)."""
    from scipy.fft import dct

    samples = np.asarray(samples_16k, dtype=np.float32).reshape(-1)
    if samples.size == 0:
        raise ValueError("mfcc needs a non-empty 1-D array of 16 kHz samples")
    basis = mel_filterbank(config.sample_rate, config.n_fft, config.n_filters,
                           0.0, config.sample_rate / 2)
    energies = filtered_stft(preemphasize(samples, config.preemphasis), config.n_fft, config.hop,
                             config.win, basis, power=2) / config.n_fft
    log_energies = np.log(np.maximum(energies, 1e-10))
    coefficients = dct(log_energies, type=2, norm="ortho", axis=0)[:config.n_coefficients]
    return coefficients[1:].astype(np.float32)


def mfcc_window_for_frame(features: np.ndarray, frame_index: int, fps: float = 25.0,
                          window: int = MFCC_WINDOW) -> np.ndarray:
    """The 350 ms MFCC heat-map centred on video frame `frame_index`: (12, 35), edge-padded.

    Indexes with clamped column numbers instead of padding the whole feature matrix: this runs
    once per video frame, so padding (a copy of all T columns) made a clip's cost grow with T^2,
    and it also works for frames any distance past the end of the audio (frozen extensions).
    """
    if features.ndim != 2 or features.shape[1] == 0:
        raise ValueError(f"mfcc_window_for_frame needs (12, T>0) features, got {features.shape}")
    centre = int(round(MFCC_FRAMES_PER_SECOND * (frame_index + 0.5) / fps))
    start = centre - window // 2
    columns = np.clip(np.arange(start, start + window), 0, features.shape[1] - 1)
    return np.ascontiguousarray(features[:, columns], dtype=np.float32)


# ------------------------------------------------------------------------------ frozen filters

FROZEN_FILTERS = (  # (sample_rate, n_fft, n_mels, fmin_hz, fmax_hz) of every front end above
    (MEL.sample_rate, MEL.n_fft, MEL.n_mels, MEL.fmin_hz, MEL.fmax_hz),
    (MFCC.sample_rate, MFCC.n_fft, MFCC.n_filters, 0.0, MFCC.sample_rate / 2),
)


def freeze_filters(path: Path = FILTERS_FILE) -> None:
    """Writes librosa's Slaney filterbanks for FROZEN_FILTERS to `path` (float32)."""
    import librosa

    # Any: numpy's stubs would match `**arrays` against savez's allow_pickle flag
    arrays: dict[str, Any] = {_filter_key(*spec): librosa.filters.mel(
        sr=spec[0], n_fft=spec[1], n_mels=spec[2], fmin=spec[3], fmax=spec[4],
        htk=False, norm="slaney").astype(np.float32) for spec in FROZEN_FILTERS}
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


if __name__ == "__main__":
    freeze_filters()
    print(f"wrote {FILTERS_FILE}")
