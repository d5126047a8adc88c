"""resemblyzer's d-vector speaker encoder in numpy: its audio front end and its network.

Written to give resemblyzer 0.1.4's numbers (tests/test_voiceprint_numpy.py compares them with
the package's own torch code) without importing torch, librosa or scipy, which cost seconds of
start-up in every run. The weights are the wheel's `pretrained.pt`, read by `f2f._torchfile`.

Front end (`preprocess`): volume raised (never lowered) to -30 dBFS, then long silences cut by
WebRTC VAD on 30 ms windows, smoothed by an 8-window moving average and dilated by 3 windows
each side. Features (`mel_frames`): power mel spectrogram, 40 Slaney mels, 25 ms Hann window,
10 ms hop, frames centred on zero padding. Network: a 3-layer LSTM (40 -> 256), its last hidden
state through linear 256 -> 256 and ReLU, L2-normalised, on 160-frame (1.6 s) partials.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from f2f.errors import MissingDependencyError
from f2f.weights import WeightsSpec, resolve

RATE = 16_000
HOP = RATE // 100  # 10 ms
N_FFT = RATE * 25 // 1000  # 25 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s
_VAD_WINDOW = RATE * 30 // 1000
_VAD_AVERAGE = 8  # windows
_VAD_MAX_SILENCE = 6  # windows
_TARGET_DBFS = -30.0
_INT16_MAX = 2 ** 15 - 1
_BATCH = 64  # partials per LSTM pass: bounds the (batch, 160, 1024) gate array

ENCODER_SPEC = WeightsSpec(
    name="resemblyzer", filenames=("pretrained.pt",), package=("resemblyzer", "pretrained.pt"),
    sha256="39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",
    how_to_get="pip install resemblyzer==0.1.4 (its wheel ships the encoder weights)")


# ----------------------------------------------------------------------------------- front end


def normalise_volume(wav: np.ndarray) -> np.ndarray:
    """Raises the level to _TARGET_DBFS; louder audio is left alone."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rms = np.sqrt(np.mean((wav * _INT16_MAX) ** 2))
        change = _TARGET_DBFS - 20 * np.log10(rms / _INT16_MAX)
        return wav if change < 0 else wav * (10 ** (change / 20)).astype(wav.dtype)


def _vad():
    try:
        import _webrtcvad  # the C core of webrtcvad; its wrapper imports pkg_resources (slow)
    except ImportError as exc:
        raise MissingDependencyError(
            f"speaker embeddings need webrtcvad ({exc}): pip install webrtcvad==2.0.10") from exc
    return _webrtcvad


def trim_long_silences(wav: np.ndarray) -> np.ndarray:
    """`wav` without its silences longer than _VAD_MAX_SILENCE windows (a multiple of 30 ms)."""
    wav = wav[:wav.size - wav.size % _VAD_WINDOW]
    with np.errstate(invalid="ignore"):  # NaN from an all-zero input: VAD finds no speech
        pcm = np.round(wav * _INT16_MAX).astype(np.int16).astype("<i2").tobytes()
    vad = _vad()
    handle = vad.create()
    vad.init(handle)
    vad.set_mode(handle, 3)
    step = 2 * _VAD_WINDOW
    voiced = np.array([vad.process(handle, RATE, pcm[i:i + step], _VAD_WINDOW)
                       for i in range(0, len(pcm), step)], float)
    # moving average over _VAD_AVERAGE windows, the extra zero on the right when even
    padded = np.concatenate([np.zeros((_VAD_AVERAGE - 1) // 2), voiced,
                             np.zeros(_VAD_AVERAGE // 2)])
    sums = np.cumsum(padded)
    sums[_VAD_AVERAGE:] = sums[_VAD_AVERAGE:] - sums[:-_VAD_AVERAGE]
    mask = np.round(sums[_VAD_AVERAGE - 1:] / _VAD_AVERAGE).astype(bool)
    # dilation by an odd-length (centred) run of ones: voiced windows grow 3 windows each side
    dilated = np.convolve(mask.astype(float), np.ones(_VAD_MAX_SILENCE + 1), "same") > 0
    return wav[np.repeat(dilated, _VAD_WINDOW)]


def preprocess(wav: np.ndarray) -> np.ndarray:
    """resemblyzer's `preprocess_wav` for audio already at RATE."""
    return trim_long_silences(normalise_volume(np.asarray(wav)))


_HZ_PER_MEL = 200.0 / 3  # Slaney's mel scale: linear below 1 kHz, logarithmic above
_BREAK_MEL = 1000.0 / _HZ_PER_MEL
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    hz = np.asarray(hz, float)
    logarithmic = _BREAK_MEL + np.log(np.maximum(hz, 1e-10) / 1000.0) / _LOG_STEP
    return np.where(hz >= 1000.0, logarithmic, hz / _HZ_PER_MEL)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    logarithmic = 1000.0 * np.exp(_LOG_STEP * (mel - _BREAK_MEL))
    return np.where(mel >= _BREAK_MEL, logarithmic, mel * _HZ_PER_MEL)


@functools.lru_cache(maxsize=1)
def mel_filterbank() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangles on the Slaney scale, area-normalised, 0 to RATE / 2."""
    bins = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(RATE / 2), N_MELS + 2))
    widths = np.diff(edges)
    distance = edges[:, None] - bins[None, :]
    rising = -distance[:-2] / widths[:-1, None]
    falling = distance[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """(1 + len // HOP, N_MELS) float32 power mel spectrogram (not log), frames centred."""
    padded = np.pad(np.asarray(wav, np.float32), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    spectrum = np.fft.rfft(frames * window, axis=1).astype(np.complex64)
    power = np.abs(spectrum) ** 2
    return (power @ mel_filterbank().T).astype(np.float32)


# ----------------------------------------------------------------------------------- partials


def partial_slices(n_samples: int, rate: float, min_coverage: float) -> list[slice]:
    """Sample ranges of PARTIAL_FRAMES-frame partials, `rate` per second, covering the clip; the
    last is dropped when under `min_coverage` of it is audio (unless it is the only one)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    frame_step = int(np.round(RATE / rate / HOP))
    if not 0 < frame_step <= PARTIAL_FRAMES:
        raise ValueError(f"partial rate {rate}/s outside (1/{PARTIAL_FRAMES * HOP / RATE} s, "
                         f"{RATE // HOP}/s]")
    starts = range(0, max(1, n_frames - PARTIAL_FRAMES + frame_step + 1), frame_step)
    slices = [slice(i * HOP, (i + PARTIAL_FRAMES) * HOP) for i in starts]
    coverage = (n_samples - slices[-1].start) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(slices) > 1:
        slices.pop()
    return slices


# ------------------------------------------------------------------------------------ network


@dataclass(frozen=True)
class _Layer:
    w_input: np.ndarray  # (in, 4H), gates in torch's order i, f, g, o
    w_hidden: np.ndarray  # (H, 4H)
    bias: np.ndarray  # (4H,)


@dataclass(frozen=True)
class Encoder:
    layers: tuple[_Layer, ...]
    w_linear: np.ndarray  # (H, E)
    b_linear: np.ndarray  # (E,)

    def __call__(self, mels: np.ndarray, threads: int = 1) -> np.ndarray:
        """(B, T, N_MELS) -> (B, E) unit-norm embeddings. `threads` > 1: the batch split into
        that many parts run side by side (numpy's products and tanh release the GIL); a row's
        result then differs from one pass's by float32 rounding (~1e-7)."""
        from f2f.blas_threads import one_blas_thread

        parts = max(1, min(threads, len(mels)))
        size = min(_BATCH, -(-len(mels) // parts))
        batches = [mels[i:i + size] for i in range(0, len(mels), size)]
        # one BLAS thread: the recurrent products are too small to split, and on a busy 2-core
        # machine OpenBLAS's waiting threads made 12 partials take 9 s instead of 0.2 s
        with one_blas_thread():
            if parts > 1:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(parts, thread_name_prefix="dvector") as pool:
                    out = list(pool.map(self._forward, batches))
            else:
                out = [self._forward(b) for b in batches]
        return np.concatenate(out) if out else np.zeros((0, self.b_linear.size), np.float32)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        batch, steps, _ = x.shape
        for layer in self.layers:
            size = layer.w_hidden.shape[0]
            gates_in = x @ layer.w_input + layer.bias  # (B, T, 4H)
            h = np.zeros((batch, size), np.float32)
            c = np.zeros((batch, size), np.float32)
            hs = np.empty((batch, steps, size), np.float32)
            for t in range(steps):
                gates = gates_in[:, t] + h @ layer.w_hidden
                i_f = _sigmoid(gates[:, :2 * size])
                c = i_f[:, size:] * c + i_f[:, :size] * np.tanh(gates[:, 2 * size:3 * size])
                h = _sigmoid(gates[:, 3 * size:]) * np.tanh(c)
                hs[:, t] = h
            x = hs
        raw = np.maximum(h @ self.w_linear + self.b_linear, 0.0)
        return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * x) + 0.5  # no overflow for large |x|


@functools.lru_cache(maxsize=1)
def encoder() -> Encoder:
    """The pretrained encoder (read once per process)."""
    from f2f._torchfile import load_legacy_checkpoint

    state = load_legacy_checkpoint(resolve(ENCODER_SPEC))["model_state"]
    layers = tuple(_Layer(np.ascontiguousarray(state[f"lstm.weight_ih_l{k}"].T),
                          np.ascontiguousarray(state[f"lstm.weight_hh_l{k}"].T),
                          state[f"lstm.bias_ih_l{k}"] + state[f"lstm.bias_hh_l{k}"])
                   for k in range(3))
    return Encoder(layers, np.ascontiguousarray(state["linear.weight"].T), state["linear.bias"])


def _partial_mels(wav: np.ndarray, rate: float, min_coverage: float
                  ) -> tuple[list[np.ndarray], list[slice]]:
    slices = partial_slices(wav.size, rate, min_coverage)
    wav = np.pad(np.asarray(wav, np.float32), (0, max(slices[-1].stop - wav.size, 0)))
    mel = mel_frames(wav)
    return [mel[s.start // HOP:s.stop // HOP] for s in slices], slices


def _unit_mean(partials: np.ndarray) -> np.ndarray:
    mean = partials.mean(axis=0)
    return mean / np.linalg.norm(mean)


def embed_partials(wav: np.ndarray, rate: float, min_coverage: float
                   ) -> tuple[np.ndarray, np.ndarray, list[slice]]:
    """resemblyzer's `embed_utterance`: (utterance embedding, (N, E) partials, their slices)."""
    mels, slices = _partial_mels(wav, rate, min_coverage)
    partials = encoder()(np.stack(mels))
    return _unit_mean(partials), partials, slices


def embed_utterances(wavs: list[np.ndarray], rate: float, min_coverage: float,
                     threads: int = 1) -> list[np.ndarray]:
    """`embed_partials`' utterance embeddings of several clips, with all their partials in one
    encoder pass (on `threads` threads): its recurrent products cost about as much for 28 rows
    as for 7 (0.38 s against 0.17 s on this machine)."""
    mels = [_partial_mels(wav, rate, min_coverage)[0] for wav in wavs]
    partials = encoder()(np.stack([m for clip in mels for m in clip]), threads)
    ends = np.cumsum([len(clip) for clip in mels])
    return [_unit_mean(partials[end - len(clip):end]) for clip, end in zip(mels, ends,
                                                                          strict=True)]
