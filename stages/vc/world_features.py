"""WORLD analysis/synthesis and voice statistics shared by the `world` and `cyclegan` converters.

Speech is analysed at 16 kHz with a 5 ms frame period: F0 (DIO + StoneMask, fast), the
spectral envelope and aperiodicity; the envelope is also coded to a low-order mel-cepstrum
(WORLD's `code_spectral_envelope`), the representation both converters map.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from f2f.artifacts import SegmentSpeech, Speech
from f2f.errors import MissingDependencyError
from f2f.timing import resample

RATE = 16_000
FRAME_PERIOD_MS = 5.0
F0_FLOOR_HZ, F0_CEIL_HZ = 60.0, 500.0
_SILENCE_DB = -40.0  # frames this far below the loudest frame count as silence


@functools.cache
def pyworld() -> ModuleType:
    """pyworld's compiled module. Its package `__init__` imports the deprecated pkg_resources
    only to read its own version: 0.23 s of every run's VC stage, so the extension is loaded
    directly when it can be found (the package import, which needs setuptools<81, otherwise).
    Its analysis and synthesis calls release the GIL and keep no state between calls (WORLD's
    random numbers are per call since pyworld 0.3.5): `_parallel` runs them in threads."""
    module = sys.modules.get("pyworld.pyworld") or _pyworld_extension()
    if module is not None:
        return module
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pyworld as package
    except ImportError as exc:
        raise MissingDependencyError(
            f"voice conversion needs pyworld ({exc}): pip install pyworld 'setuptools<81'"
        ) from exc
    return package


def _pyworld_extension() -> ModuleType | None:
    """pyworld/pyworld.*.so loaded as `pyworld.pyworld` without running the package's
    `__init__` (a later `import pyworld` finds and reuses it); None if it is not there."""
    import importlib.machinery
    import importlib.util

    try:
        package = importlib.util.find_spec("pyworld")
    except (ImportError, ValueError):
        return None
    for folder in (package.submodule_search_locations or []) if package else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"pyworld{suffix}"
            if not path.is_file():
                continue
            spec = importlib.util.spec_from_file_location("pyworld.pyworld", path)
            if spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            except ImportError:
                return None
            sys.modules["pyworld.pyworld"] = module
            return module
    return None


@dataclass(frozen=True, eq=False)
class WorldFeatures:
    """WORLD parameters of one clip: (T,) F0 in Hz (0 = unvoiced), (T, F) envelope and
    aperiodicity, (T, D) coded mel-cepstrum."""

    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray
    mcep: np.ndarray
    fft_size: int
    n_samples: int

    @property
    def voiced(self) -> np.ndarray:
        return self.f0 > 0

    @property
    def speech_frames(self) -> np.ndarray:
        """Frames loud enough to be speech (voiced or not)."""
        energy_db = 10 * np.log10(self.sp.sum(axis=1) + 1e-12)
        return energy_db > energy_db.max(initial=-120.0) + _SILENCE_DB


def _world_samples(speech: Speech) -> np.ndarray:
    samples = resample(speech, RATE).samples.astype(np.float64)
    if samples.size < RATE * FRAME_PERIOD_MS / 1000 * 4:  # WORLD needs a few frames
        samples = np.pad(samples, (0, int(RATE * 0.05)))
    return samples


def analyze(speech: Speech, mcep_dims: int, aperiodicity: bool = True) -> WorldFeatures:
    """`aperiodicity` False: `ap` is left empty (a reference voice needs only F0 and envelope;
    D4C is the slowest part of the analysis: `with_aperiodicity` adds it where needed)."""
    pw = pyworld()
    samples = _world_samples(speech)
    f0, times = pw.dio(samples, RATE, f0_floor=F0_FLOOR_HZ, f0_ceil=F0_CEIL_HZ,
                       frame_period=FRAME_PERIOD_MS)
    f0 = pw.stonemask(samples, f0, times, RATE)
    sp = pw.cheaptrick(samples, f0, times, RATE)
    ap = pw.d4c(samples, f0, times, RATE) if aperiodicity else np.zeros((f0.size, 0))
    mcep = pw.code_spectral_envelope(sp, RATE, mcep_dims)
    return WorldFeatures(f0, sp, ap, mcep, pw.get_cheaptrick_fft_size(RATE), samples.size)


def with_aperiodicity(features: WorldFeatures, speech: Speech, frames: int | None = None,
                      known: np.ndarray | None = None) -> WorldFeatures:
    """The first `frames` frames (all: None) of `features`, analysed from `speech` without
    aperiodicity, with D4C's aperiodicity added; `known`: rows already measured for the start.
    D4C works frame by frame, so only the frames that will be synthesised are measured (but
    rows measured in pieces differ from one pass, by ~1e-4 on average: D4C's result for a
    frame depends a little on how many frames one call measures)."""
    frames = features.f0.size if frames is None else min(frames, features.f0.size)
    if known is not None and known.shape[0] > features.f0.size:
        raise ValueError(f"{known.shape[0]} known aperiodicity rows for a clip of "
                         f"{features.f0.size} frames: they belong to another clip")
    ap = known[:frames] if known is not None else np.zeros((0, features.sp.shape[1]))
    if ap.shape[0] < frames:
        index = np.arange(ap.shape[0], frames)
        rest = pyworld().d4c(_world_samples(speech), np.ascontiguousarray(features.f0[index]),
                             index * (FRAME_PERIOD_MS / 1000), RATE)
        ap = np.concatenate([ap, rest]) if ap.size else rest
    hop = int(RATE * FRAME_PERIOD_MS / 1000)
    n_samples = features.n_samples if frames == features.f0.size else frames * hop
    return WorldFeatures(features.f0[:frames], features.sp[:frames], ap, features.mcep[:frames],
                         features.fft_size, n_samples)


REFERENCE_CHUNK_S = 20.0


def analyze_reference(speech: Speech, mcep_dims: int,
                      chunk_s: float = REFERENCE_CHUNK_S) -> WorldFeatures:
    """A speaker's reference voice: F0, mel-cepstrum and, in place of the envelope, each frame's
    energy (`sp` is (T, 1): all `speech_frames` needs). Analysed `chunk_s` at a time, so memory
    stays flat in the reference's length: the whole envelope of 300 s is 600 MB of float64.
    The chunks are independent (`_parallel` analyses them side by side)."""
    return join_reference([analyze_reference_chunk(chunk, mcep_dims, frames)
                           for chunk, frames in reference_chunks(speech, chunk_s)])


def reference_chunks(speech: Speech, chunk_s: float = REFERENCE_CHUNK_S
                     ) -> list[tuple[Speech, int | None]]:
    """`speech` at RATE cut into `chunk_s` pieces on frame boundaries, each with the number of
    its frames to keep (None: all, for the last)."""
    samples = resample(speech, RATE).samples
    hop = int(RATE * FRAME_PERIOD_MS / 1000)
    step = max(int(chunk_s * RATE) // hop, 1) * hop
    return [(Speech(samples[start:start + step], RATE),
             step // hop if start + step < samples.size else None)
            for start in range(0, max(samples.size, 1), step)]


def analyze_reference_chunk(chunk: Speech, mcep_dims: int, frames: int | None) -> WorldFeatures:
    """One of `reference_chunks`, analysed: its first `frames` frames (None: all)."""
    part = analyze(chunk, mcep_dims, aperiodicity=False)
    frames = part.f0.size if frames is None else min(frames, part.f0.size)
    return WorldFeatures(part.f0[:frames], part.sp[:frames].sum(axis=1, keepdims=True),
                         np.zeros((frames, 0)), part.mcep[:frames], part.fft_size,
                         chunk.samples.size)


def join_reference(parts: list[WorldFeatures]) -> WorldFeatures:
    """The analysed chunks of one reference, end to end."""
    f0 = np.concatenate([p.f0 for p in parts])
    return WorldFeatures(f0, np.concatenate([p.sp for p in parts]), np.zeros((f0.size, 0)),
                         np.concatenate([p.mcep for p in parts]),
                         pyworld().get_cheaptrick_fft_size(RATE),
                         sum(p.n_samples for p in parts))


def synthesize(f0: np.ndarray, sp: np.ndarray, ap: np.ndarray, n_samples: int) -> np.ndarray:
    """WORLD vocoder back to a (n_samples,) float32 waveform at RATE."""
    pw = pyworld()
    wave = pw.synthesize(np.ascontiguousarray(f0, dtype=np.float64),
                         np.ascontiguousarray(sp, dtype=np.float64),
                         np.ascontiguousarray(ap, dtype=np.float64), RATE, FRAME_PERIOD_MS)
    wave = wave[:n_samples]
    return np.pad(wave, (0, n_samples - wave.size)).astype(np.float32)


def envelope_with_mcep(features: WorldFeatures, new_mcep: np.ndarray) -> np.ndarray:
    """Applies a mel-cepstral change as a smooth filter on the full envelope, so the fine
    spectral detail the low-order cepstrum drops is kept."""
    return filter_envelope(features.sp, features.mcep, new_mcep, features.fft_size)


def filter_envelope(sp: np.ndarray, old_mcep: np.ndarray, new_mcep: np.ndarray,
                    fft_size: int) -> np.ndarray:
    """`sp` times the (T, F) gain that turns the envelope coded as `old_mcep` into `new_mcep`."""
    pw = pyworld()
    old = pw.decode_spectral_envelope(np.ascontiguousarray(old_mcep, np.float64), RATE, fft_size)
    new = pw.decode_spectral_envelope(np.ascontiguousarray(new_mcep, np.float64), RATE, fft_size)
    return sp * (new / np.maximum(old, 1e-16))


def code_mcep(sp: np.ndarray, dims: int) -> np.ndarray:
    """(T, F) envelope -> (T, dims) mel-cepstrum (WORLD's coding)."""
    return pyworld().code_spectral_envelope(np.ascontiguousarray(sp, np.float64), RATE, dims)


def with_mcep_dims(features: WorldFeatures, dims: int) -> WorldFeatures:
    """The same analysis with the envelope coded to another cepstral order (no re-analysis)."""
    if features.mcep.shape[1] == dims:
        return features
    return WorldFeatures(features.f0, features.sp, features.ap, code_mcep(features.sp, dims),
                         features.fft_size, features.n_samples)


def warp_features(features: WorldFeatures, alpha: float) -> WorldFeatures:
    """Scales the envelope's frequency axis by `alpha` (> 1 moves formants up, like a shorter
    vocal tract): the part of a male->female change that cepstral statistics cannot make."""
    if abs(alpha - 1.0) < 1e-3:
        return features
    bins = np.arange(features.sp.shape[1], dtype=np.float64)
    source_bins = np.clip(bins / alpha, 0, bins[-1])
    low = np.minimum(source_bins.astype(int), bins.size - 2)  # linear interpolation per bin,
    weight = source_bins - low  # all frames at once (np.interp one frame at a time was slower)
    sp = features.sp[:, low] * (1.0 - weight) + features.sp[:, low + 1] * weight
    mcep = code_mcep(sp, features.mcep.shape[1])
    return WorldFeatures(features.f0, sp, features.ap, mcep, features.fft_size,
                         features.n_samples)


def formant_warp(source: VoiceStats, target: VoiceStats, power: float,
                 limits: tuple[float, float] = (0.85, 1.25)) -> float:
    """A frequency-warp factor from the voices' mean-F0 ratio (formants move with pitch, less)."""
    ratio = float(np.exp(target.lf0_mean - source.lf0_mean))
    return float(np.clip(ratio ** power, *limits))


@dataclass(frozen=True, eq=False)
class VoiceStats:
    """Per-voice statistics: log-F0 mean/std over voiced frames, mel-cepstrum mean/std over
    speech frames, and how much speech they came from."""

    lf0_mean: float
    lf0_std: float
    mcep_mean: np.ndarray
    mcep_std: np.ndarray
    voiced_s: float
    speech_s: float

    def to_dict(self) -> dict[str, object]:
        return {"lf0_mean": self.lf0_mean, "lf0_std": self.lf0_std,
                "mcep_mean": self.mcep_mean.tolist(), "mcep_std": self.mcep_std.tolist(),
                "voiced_s": self.voiced_s, "speech_s": self.speech_s}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> VoiceStats:
        return cls(float(data["lf0_mean"]), float(data["lf0_std"]),  # type: ignore[arg-type]
                   np.asarray(data["mcep_mean"]), np.asarray(data["mcep_std"]),
                   float(data["voiced_s"]), float(data["speech_s"]))  # type: ignore[arg-type]


STATISTICS_SAMPLE_S = 30.0  # seconds of TTS speech the voice statistics are taken from: a
# synthetic voice is steady, and its envelopes are ~1.6 MB a second (120 s held 0.2 GB)


def sample_features(segments: Sequence[SegmentSpeech], mcep_dims: int,
                    max_s: float | None = None,
                    aperiodicity: bool = True) -> dict[int, WorldFeatures]:
    """WORLD features of the first segments, up to `max_s` seconds of speech.

    Voice statistics need only a sample; the rest is analysed one segment at a time during
    conversion, so memory does not grow with the dub's length (a 513-bin envelope and
    aperiodicity every 5 ms would take gigabytes for a long video).
    """
    return {s.id: analyze(s.speech, mcep_dims, aperiodicity)
            for s in sample_segments(segments, max_s)}


def sample_segments(segments: Sequence[SegmentSpeech],
                    max_s: float | None = None) -> list[SegmentSpeech]:
    """The first segments, up to `max_s` (STATISTICS_SAMPLE_S) seconds: `sample_features`'."""
    max_s = STATISTICS_SAMPLE_S if max_s is None else max_s
    chosen: list[SegmentSpeech] = []
    total_s = 0.0
    for segment in segments:
        if total_s >= max_s:
            break
        chosen.append(segment)
        total_s += segment.speech.duration_s
    return chosen


def voice_stats(clips: list[WorldFeatures], f0_outlier_octaves: float = 0.0) -> VoiceStats:
    """`f0_outlier_octaves` > 0: log-F0 statistics leave out voiced frames further than this from
    the median (DIO's octave errors on noisy clips inflate the spread; 0 keeps all, as `world`)."""
    voiced_f0 = np.concatenate([c.f0[c.voiced] for c in clips]) if clips else np.zeros(0)
    if f0_outlier_octaves > 0 and voiced_f0.size:
        distance = np.abs(np.log2(voiced_f0) - np.median(np.log2(voiced_f0)))
        voiced_f0 = voiced_f0[distance <= f0_outlier_octaves]
    frames = [c.mcep[c.speech_frames] for c in clips]
    mcep = np.concatenate(frames) if frames else np.zeros((0, 1))
    frame_s = FRAME_PERIOD_MS / 1000
    if voiced_f0.size < 2 or mcep.shape[0] < 2:
        dims = clips[0].mcep.shape[1] if clips else 1
        return VoiceStats(float(np.log(120.0)), 0.2, np.zeros(dims), np.ones(dims),
                          voiced_f0.size * frame_s, mcep.shape[0] * frame_s)
    lf0 = np.log(voiced_f0)
    return VoiceStats(float(lf0.mean()), float(max(lf0.std(), 1e-3)), mcep.mean(axis=0),
                      np.maximum(mcep.std(axis=0), 1e-4), voiced_f0.size * frame_s,
                      mcep.shape[0] * frame_s)


def convert_f0(f0: np.ndarray, source: VoiceStats, target: VoiceStats) -> np.ndarray:
    """Log-Gaussian normalised F0 transform (unvoiced frames stay 0)."""
    out = np.zeros_like(f0)
    voiced = f0 > 0
    z = (np.log(f0[voiced]) - source.lf0_mean) / source.lf0_std
    out[voiced] = np.exp(z * target.lf0_std + target.lf0_mean)
    return out


def band_aperiodicity(speech: Speech, features: WorldFeatures, max_s: float) -> np.ndarray | None:
    """Mean WORLD-coded band aperiodicity (dB) over the voiced frames of the first `max_s`
    seconds of `speech`, whose F0 is `features.f0` (e.g. from `analyze_reference`); None
    without voiced frames. D4C is slow, so only a sample is measured."""
    frames = min(features.f0.size, int(max_s * 1000 / FRAME_PERIOD_MS))
    f0 = np.ascontiguousarray(features.f0[:frames])
    if not (f0 > 0).any():
        return None
    pw = pyworld()
    sample = Speech(speech.samples[: int((max_s + 0.1) * speech.sample_rate)], speech.sample_rate)
    ap = pw.d4c(_world_samples(sample), f0, np.arange(frames) * (FRAME_PERIOD_MS / 1000), RATE)
    return np.asarray(pw.code_aperiodicity(ap, RATE)[f0 > 0].mean(axis=0))


# WORLD's decoder makes a frame all noise (aperiodicity 1 at every frequency) when its coded
# bands average above -0.5 dB (at 16 kHz there is one band, around 3 kHz): a shifted voiced
# frame stays at most this, safely periodic
MAX_SHIFTED_CODED_AP_DB = -1.0
_NOISE_ONLY_CODED_DB = -0.5


def shift_band_aperiodicity(features: WorldFeatures, target: np.ndarray,
                            strength: float) -> np.ndarray:
    """The clip's (T, F) aperiodicity with its voiced frames' coded bands (one at 16 kHz) moved
    `strength` times the way from the clip's own mean towards `target`, at most
    MAX_SHIFTED_CODED_AP_DB, and decoded again (WORLD's coarse band shape). Unvoiced frames
    and voiced ones WORLD already codes as noise only keep theirs."""
    pw = pyworld()
    coded = pw.code_aperiodicity(np.ascontiguousarray(features.ap, np.float64), RATE)
    voiced = features.voiced
    periodic = voiced & (coded.mean(axis=1) <= _NOISE_ONLY_CODED_DB)
    if not periodic.any():
        return features.ap
    shifted = np.minimum(coded + strength * (target - coded[voiced].mean(axis=0)),
                         MAX_SHIFTED_CODED_AP_DB)
    decoded = pw.decode_aperiodicity(np.ascontiguousarray(shifted), RATE, features.fft_size)
    return np.where(periodic[:, None], decoded, features.ap)


def noise_only_frames(ap: np.ndarray, voiced: np.ndarray) -> int:
    """Voiced frames whose aperiodicity is all noise even at low frequencies (a whisper)."""
    return int((ap[voiced, 1] > 0.5).sum()) if ap.shape[1] > 1 else 0


def has_sound(speech: Speech) -> bool:
    """False for empty or digitally silent clips (they are passed through, not vocoded)."""
    return float(np.abs(speech.samples).max(initial=0.0)) > 1e-4


def match_peak(converted: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Keeps the original clip's loudness (VC should change voice, not level)."""
    peak, reference = float(np.abs(converted).max(initial=0.0)), float(
        np.abs(original).max(initial=0.0))
    if peak < 1e-6:
        return converted
    return np.clip(converted * (reference / peak), -1.0, 1.0).astype(np.float32)
