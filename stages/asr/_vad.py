"""Where the speech is: Silero VAD as shipped inside faster-whisper (an ONNX file, no download)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from f2f.errors import MissingDependencyError
from stages.asr._longform import SAMPLE_RATE, Span


@dataclass(frozen=True)
class VadRules:
    threshold: float = 0.5
    min_silence_s: float = 0.5  # shorter pauses stay inside a region
    speech_pad_s: float = 0.2  # kept either side of detected speech (word onsets, tails)
    max_region_s: float = 24.0  # longer regions are cut at a pause (silero's own rule)


def speech_regions(samples: np.ndarray, rules: VadRules | None = None) -> list[Span]:
    """Speech regions of 16 kHz mono `samples`, in seconds."""
    rules = rules or VadRules()
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError as exc:
        raise MissingDependencyError("the ASR speech detector needs faster-whisper (it ships "
                                     "Silero VAD): pip install faster-whisper==1.2.1") from exc
    options = VadOptions(threshold=rules.threshold,
                         min_silence_duration_ms=int(rules.min_silence_s * 1000),
                         speech_pad_ms=int(rules.speech_pad_s * 1000),
                         max_speech_duration_s=rules.max_region_s)
    found = get_speech_timestamps(np.asarray(samples, np.float32), options)
    return [Span(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in found]
