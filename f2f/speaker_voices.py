"""A TTS voice per speaker, chosen from each speaker's own pitch (with `speakers = true`).

Each diarized speaker's median F0 puts them in the male or female range; each then gets the
voice of that range whose own typical F0 is nearest, one voice per speaker as long as the range
has voices left, so two speakers of the same range still sound different. Which voices exist
and their F0 are the TTS backend's (`TTSBackend.speaker_voices`); this module only chooses.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from f2f.artifacts import Speech

FEMALE_FROM_HZ = 160.0  # median F0 at or above this counts as the female range
F0_SAMPLE_S = 60.0  # seconds of a speaker's audio the median is taken from (cost stays flat)


@dataclass(frozen=True)
class SpeakerVoice:
    """The TTS voice a speaker's segments are spoken in, and the pitch it was chosen from."""

    voice: str
    median_f0_hz: float  # the speaker's (NaN: no voiced speech found)

    def to_dict(self) -> dict[str, object]:
        f0 = None if math.isnan(self.median_f0_hz) else round(self.median_f0_hz, 1)
        return {"voice": self.voice, "median_f0_hz": f0}


def is_female_range(f0_hz: float) -> bool:
    return f0_hz >= FEMALE_FROM_HZ


def median_f0_hz(speech: Speech, max_s: float = F0_SAMPLE_S) -> float:
    """Median F0 of the voiced frames (WORLD's DIO + StoneMask at the clip's own rate: ~0.2
    CPU s per 10 s at 16 kHz); NaN when nothing is voiced."""
    with warnings.catch_warnings():  # pyworld imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        import pyworld

    rate = speech.sample_rate
    samples = np.asarray(speech.samples[: int(max_s * rate)], np.float64)
    if samples.size < rate // 10:
        return float("nan")
    f0, times = pyworld.dio(samples, rate, f0_floor=60.0, f0_ceil=500.0, frame_period=5.0)
    f0 = pyworld.stonemask(samples, f0, times, rate)
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if voiced.size >= 20 else float("nan")


def assign_voices(f0_by_speaker: Mapping[str, float], voices_f0_hz: Mapping[str, float]
                  ) -> dict[str, SpeakerVoice]:
    """Speaker -> the nearest-pitched unused voice of their range (lowest-pitched speakers
    choose first; once a range's voices are all taken they are reused, nearest first).
    Speakers without a measured F0 get no entry (the backend's default voice)."""
    ranges = {female: {v: f for v, f in voices_f0_hz.items() if is_female_range(f) == female}
              for female in (False, True)}
    used: set[str] = set()
    out: dict[str, SpeakerVoice] = {}
    for speaker, f0 in sorted(((s, f) for s, f in f0_by_speaker.items() if not math.isnan(f)),
                              key=lambda item: (item[1], item[0])):
        pool = ranges[is_female_range(f0)] or ranges[not is_female_range(f0)]
        if not pool:
            continue

        def distance(voice: str, f0: float = f0, pool: Mapping[str, float] = pool) -> float:
            return abs(math.log(pool[voice] / f0))
        free = [v for v in pool if v not in used] or list(pool)
        voice = min(sorted(free), key=distance)
        used.add(voice)
        out[speaker] = SpeakerVoice(voice, f0)
    return out
