"""Training-free voice conversion on WORLD features (the default `vc` backend).

The TTS voice's statistics (log-F0 mean/std, per-coefficient mel-cepstrum mean/std) are mapped
onto the original speaker's, measured on the input video's own audio. The mel-cepstral change
is applied as a smooth filter on the full spectral envelope; aperiodicity and timing are kept,
so phoneme events stay valid. Fast (about 20x real time on one core), no training, but it only
moves a voice's averages: timbre details stay the TTS voice's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from f2f.artifacts import SegmentSpeech, Speech, SpeechSegments
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import VCBackend
from f2f.timing import resample
from stages.vc import world_features as wf

log = logging.getLogger(__name__)

MIN_REFERENCE_VOICED_S = 0.3  # below this the speaker's F0/envelope statistics are noise


def map_voice(features: wf.WorldFeatures, source: wf.VoiceStats, target: wf.VoiceStats,
              strength: float, original: np.ndarray) -> np.ndarray:
    """Converts one analysed clip with statistics mapping; returns samples at wf.RATE."""
    f0, sp = map_features(features, source, target, strength)
    wave = wf.synthesize(f0, sp, features.ap, features.n_samples)
    return wf.match_peak(wave, original)


def map_features(features: wf.WorldFeatures, source: wf.VoiceStats, target: wf.VoiceStats,
                 strength: float) -> tuple[np.ndarray, np.ndarray]:
    """Statistics mapping of one analysed clip: (T,) converted F0 and (T, F) envelope
    (aperiodicity and timing are kept; `cyclegan` refines this result)."""
    f0 = wf.convert_f0(features.f0, source, target)
    mcep = features.mcep.copy()
    mapped = (mcep - source.mcep_mean) / source.mcep_std * target.mcep_std + target.mcep_mean
    mapped[:, 0] = mcep[:, 0]  # c0 is loudness: keep the clip's own
    mcep = mcep + strength * (mapped - mcep)
    return f0, wf.envelope_with_mcep(features, mcep)


@register
class WorldVC(VCBackend):
    """Log-F0 and mel-cepstrum statistics mapping with the WORLD vocoder (pyworld)."""

    name = "world"
    version = "1"
    requires = ("pyworld",)
    install_hint = "pip install pyworld 'setuptools<81'"
    quality_note = "statistics mapping: moves pitch and average timbre towards the speaker"

    @dataclass(frozen=True)
    class Config:
        mcep_dims: int = 40
        spectral_strength: float = 0.5  # 0 = pitch only, 1 = full envelope statistics mapping
        # (0.5 scored best speaker similarity on GRID clips, see docs/speech.md)
        formant_warp_power: float = 0.3  # warp = (F0 ratio) ** power; 0 = no formant shift
        max_reference_s: float = 120.0  # longer inputs: statistics from the first part only

    def convert(self, speech: SpeechSegments, reference: Speech, cache_dir: Path,
                progress: StageProgress) -> SpeechSegments:
        self.ensure_dependencies()
        reference = _head(reference, self.config.max_reference_s)
        progress(0.0, "analysing the speaker's voice")
        ref_features = wf.analyze(reference, self.config.mcep_dims)
        target = wf.voice_stats([ref_features])
        if target.voiced_s < MIN_REFERENCE_VOICED_S:
            log.warning("vc world: only %.2f s of voiced speech in the input; passing the TTS "
                        "voice through unchanged", target.voiced_s)
            self.metrics = {"note": "too little voiced speech in the input: not converted",
                            "reference_voiced_s": round(target.voiced_s, 2)}
            return speech
        clips = [s for s in speech.segments if wf.has_sound(s.speech)]
        voiced_ids = {s.id for s in clips}
        sample = wf.sample_features(clips, self.config.mcep_dims)
        source = wf.voice_stats(list(sample.values()))
        alpha = wf.formant_warp(source, target, self.config.formant_warp_power)
        if alpha != 1.0:
            sample = {k: wf.warp_features(f, alpha) for k, f in sample.items()}
            source = wf.voice_stats(list(sample.values()))
        log.info("vc world: TTS F0 %.0f Hz -> speaker %.0f Hz (%.1f s voiced reference), "
                 "formant warp %.2f", np.exp(source.lf0_mean), np.exp(target.lf0_mean),
                 target.voiced_s, alpha)
        out: list[SegmentSpeech] = []
        for index, segment in enumerate(speech.segments):
            if segment.id in voiced_ids and source.voiced_s > 0:
                features = sample.pop(segment.id, None)
                if features is None:  # beyond the statistics sample: analysed now
                    features = wf.analyze(segment.speech, self.config.mcep_dims)
                    if alpha != 1.0:
                        features = wf.warp_features(features, alpha)
                wave = map_voice(features, source, target, self.config.spectral_strength,
                                 segment.speech.samples)
                converted = Speech(wave, wf.RATE)
            else:
                # silence or nothing voiced: nothing to convert, only the common sample rate
                converted = resample(segment.speech, wf.RATE)
            out.append(SegmentSpeech(segment.id, segment.text, converted, segment.phonemes))
            progress((index + 1) / max(len(speech.segments), 1), f"segment {index + 1}")
        self.metrics = {"reference_voiced_s": round(target.voiced_s, 2),
                        "formant_warp": round(alpha, 3),
                        "target_f0_hz": round(float(np.exp(target.lf0_mean)), 1),
                        "source_f0_hz": round(float(np.exp(source.lf0_mean)), 1)}
        return SpeechSegments(tuple(out), backend=self.name, voice=f"{speech.voice}->speaker")


def _head(speech: Speech, max_s: float) -> Speech:
    limit = int(max_s * speech.sample_rate)
    return speech if speech.samples.size <= limit else Speech(speech.samples[:limit],
                                                               speech.sample_rate)
