"""Audio features of the papers: Wav2Lip's mel spectrogram and LipGAN's MFCC heat-map.

Everything is numpy (no librosa), so the features are the same wherever the package runs.
The mel front end reproduces Wav2Lip's `audio.py` hyper-parameters: 16 kHz, pre-emphasis 0.97,
n_fft 800, hop 200 (80 frames/s), Hann window 800, 80 Slaney mel bands 55-7600 Hz, dB with a
-100 dB floor and 20 dB reference, scaled symmetrically and clipped to [-4, 4].
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above (librosa's htk=False)."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = hz / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    log_part = min_log_mel + np.log(np.maximum(hz, min_log_hz) / min_log_hz) / logstep
    return np.where(hz >= min_log_hz, log_part, mels)


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    mels = np.asarray(mels, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = mels * f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    log_part = min_log_hz * np.exp(logstep * (mels - min_log_mel))
    return np.where(mels >= min_log_mel, log_part, freqs)


@lru_cache(maxsize=8)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin_hz: float,
                   fmax_hz: float) -> np.ndarray:
    """Triangular Slaney-normalised (equal-area) filters, shape (n_mels, n_fft // 2 + 1)."""
    fft_freqs = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    mel_points = np.linspace(_hz_to_mel(fmin_hz), _hz_to_mel(fmax_hz), n_mels + 2)
    edges = _mel_to_hz(mel_points)
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    weights.flags.writeable = False
    return weights.astype(np.float32)


def _hann(length: int) -> np.ndarray:
    """Periodic Hann window (what `scipy.signal.get_window('hann', n)` gives)."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)).astype(np.float64)


def stft_magnitude(samples: np.ndarray, n_fft: int, hop: int, win: int) -> np.ndarray:
    """|STFT| with centred frames (reflect padding by n_fft // 2), shape (n_fft // 2 + 1, T)."""
    samples = np.asarray(samples, dtype=np.float64)
    pad = n_fft // 2
    if samples.size <= pad:  # reflect padding needs more samples than the pad
        samples = np.pad(samples, (0, pad + 1 - samples.size))
    padded = np.pad(samples, pad, mode="reflect")
    n_frames = 1 + (padded.size - n_fft) // hop
    window = np.zeros(n_fft)
    offset = (n_fft - win) // 2
    window[offset:offset + win] = _hann(win)
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n_frames, n_fft), strides=(padded.strides[0] * hop, padded.strides[0]))
    return np.abs(np.fft.rfft(frames * window, n=n_fft, axis=1)).T


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
    magnitude = stft_magnitude(preemphasize(samples, config.preemphasis),
                               config.n_fft, config.hop, config.win)
    basis = mel_filterbank(config.sample_rate, config.n_fft, config.n_mels,
                           config.fmin_hz, config.fmax_hz)
    mel = basis.astype(np.float64) @ magnitude
    min_level = np.exp(config.min_level_db / 20 * np.log(10))
    db = 20 * np.log10(np.maximum(min_level, mel)) - config.ref_level_db
    top = config.max_abs_value
    scaled = 2 * top * (db - config.min_level_db) / (-config.min_level_db) - top
    return np.clip(scaled, -top, top).astype(np.float32)


def mel_window_for_frame(mel: np.ndarray, frame_index: int, fps: float = 25.0,
                         window: int = MEL_WINDOW) -> np.ndarray:
    """The 16 mel frames (0.2 s) that start at video frame `frame_index`: (80, 16).

    Wav2Lip's indexing: start = int(80 * frame_index / fps). Past the end the window is padded
    with silence (the scale's floor, -4), so every frame of a clip gets a window.
    """
    if frame_index < 0:
        raise ValueError(f"frame_index must be >= 0, got {frame_index}")
    start = int(MEL_FRAMES_PER_SECOND * frame_index / fps)
    chunk = mel[:, start:start + window]
    if chunk.shape[1] < window:
        floor = -MEL.max_abs_value
        chunk = np.pad(chunk, ((0, 0), (0, window - chunk.shape[1])), constant_values=floor)
    return np.ascontiguousarray(chunk, dtype=np.float32)


def mel_windows(mel: np.ndarray, n_frames: int, fps: float = 25.0) -> np.ndarray:
    """One window per video frame: (n_frames, 80, 16), what a lip-sync backend feeds the model."""
    return np.stack([mel_window_for_frame(mel, i, fps) for i in range(n_frames)])


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


def _dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Orthonormal DCT-II basis, (n_out, n_in)."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[0] /= np.sqrt(2.0)
    return basis


def mfcc(samples_16k: np.ndarray, config: MfccConfig = MFCC) -> np.ndarray:
    """LipGAN's audio features: 13 MFCCs at 100 Hz with the first (energy) dropped: (12, T)."""
    samples = np.asarray(samples_16k, dtype=np.float32).reshape(-1)
    if samples.size == 0:
        raise ValueError("mfcc needs a non-empty 1-D array of 16 kHz samples")
    magnitude = stft_magnitude(preemphasize(samples, config.preemphasis),
                               config.n_fft, config.hop, config.win)
    power = magnitude ** 2 / config.n_fft
    basis = mel_filterbank(config.sample_rate, config.n_fft, config.n_filters,
                           0.0, config.sample_rate / 2).astype(np.float64)
    log_energies = np.log(np.maximum(basis @ power, 1e-10))
    coefficients = _dct_matrix(config.n_coefficients, config.n_filters) @ log_energies
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
