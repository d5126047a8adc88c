"""The registry of automatic metrics: each one a named function with a direction and a unit.

A metric is registered once, with whether a higher or a lower value is better, so tables can mark
the best condition and readers know which way to read a column:

    @metric("wer", LOWER, unit="fraction", area="text")
    def wer(reference: str, hypothesis: str) -> float: ...

    get_metric("wer").direction  # "lower"

The functions themselves live next to the measure they implement (`eval/text.py`, `eval/speech.py`,
`eval/sync.py`, `eval/lips.py`, `lipgan/quality.py`); this module is the one explicit registry
that names them all. Those modules never import it: each entry imports its module when first
called, so importing this registry stays cheap and has no cycle.
"""

from __future__ import annotations

import difflib
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from f2f.errors import ConfigError, MissingDependencyError

HIGHER = "higher"
LOWER = "lower"
NEUTRAL = "neutral"  # informative figures with no better side (offsets, stretch factors)


@dataclass(frozen=True)
class Metric:
    name: str
    direction: str  # HIGHER, LOWER or NEUTRAL is better
    area: str  # "text", "speech", "lips", "timing"
    unit: str
    description: str
    function: Callable[..., Any]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    @property
    def arrow(self) -> str:
        return {HIGHER: "↑", LOWER: "↓"}.get(self.direction, "")

    def better(self, a: float, b: float) -> bool:
        """Whether value `a` is strictly better than `b` (never for NEUTRAL metrics)."""
        if self.direction == HIGHER:
            return a > b
        if self.direction == LOWER:
            return a < b
        return False


_METRICS: dict[str, Metric] = {}


def register_metric(name: str, direction: str, function: Callable[..., Any], *, area: str,
                    unit: str = "", description: str = "") -> Metric:
    if direction not in (HIGHER, LOWER, NEUTRAL):
        raise ValueError(f"metric {name}: direction must be higher, lower or neutral")
    if name in _METRICS and _METRICS[name].function is not function:
        raise ValueError(f"metric {name!r} registered twice")
    doc_lines = (function.__doc__ or "").strip().splitlines()
    entry = Metric(name, direction, area, unit,
                   description or (doc_lines[0] if doc_lines else ""), function)
    _METRICS[name] = entry
    return entry


def metric(name: str, direction: str, *, area: str, unit: str = "", description: str = ""
           ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator form of `register_metric`."""
    def wrap(function: Callable[..., Any]) -> Callable[..., Any]:
        register_metric(name, direction, function, area=area, unit=unit, description=description)
        return function
    return wrap


def _lazy(module: str, attribute: str) -> Callable[..., Any]:
    """A function that imports `module.attribute` on first call (the module may not exist yet)."""
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            target = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError) as exc:
            raise MissingDependencyError(
                f"metric needs {module}.{attribute}, which is not available here: {exc}") from exc
        return target(*args, **kwargs)
    call.__name__ = attribute
    call.__doc__ = f"{module}.{attribute}"
    return call


def get_metric(name: str) -> Metric:
    if name not in _METRICS:
        close = difflib.get_close_matches(name, list(_METRICS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"unknown metric '{name}'{hint}; known: {', '.join(sorted(_METRICS))}")
    return _METRICS[name]


def all_metrics() -> list[Metric]:
    return [_METRICS[name] for name in sorted(_METRICS)]


def direction_of(name: str) -> str:
    """The direction of a metric, NEUTRAL for unregistered figures (e.g. counts)."""
    return _METRICS[name].direction if name in _METRICS else NEUTRAL


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ------------------------------------------------------------------ measures of other modules

register_metric("wer", LOWER, _lazy("eval.text", "wer"), area="text", unit="fraction",
                description="ASR word error rate against a reference transcript")
register_metric("cer", LOWER, _lazy("eval.text", "cer"), area="text", unit="fraction",
                description="ASR character error rate against a reference transcript")
register_metric("chrf", HIGHER, _lazy("eval.text", "chrf"), area="text", unit="0-100",
                description="MT chrF against reference translations (sacrebleu)")
register_metric("bleu", HIGHER, _lazy("eval.text", "bleu"), area="text", unit="0-100",
                description="MT BLEU against reference translations (sacrebleu)")
register_metric("roundtrip_cer", LOWER, _lazy("eval.text", "cer"), area="text", unit="fraction",
                description="CER of the dubbed audio re-transcribed against the translation")
register_metric("mcd", LOWER, _lazy("eval.speech", "mcd"), area="speech", unit="dB",
                description="mel-cepstral distortion against a reference utterance")
register_metric("f0_rmse", LOWER, _lazy("eval.speech", "f0_rmse"), area="speech", unit="Hz",
                description="F0 RMSE against a reference utterance")
register_metric("global_mcd", LOWER, _lazy("eval.speech", "global_mcd"), area="speech", unit="dB",
                description="MCD between the mean mel-cepstra of the dub and the original voice")
register_metric("f0_distribution_rmse", LOWER, _lazy("eval.speech", "f0_distribution_rmse"),
                area="speech", unit="Hz",
                description="RMSE between the F0 deciles of the dub and the original voice")
register_metric("speaker_similarity", HIGHER, _lazy("eval.speech", "speaker_similarity"),
                area="speech", unit="cosine",
                description="resemblyzer cosine similarity to the original speaker")
register_metric("sync_confidence", HIGHER,
                lambda video, audio=None: _lazy("eval.sync", "measure_sync")(video, audio)
                .confidence, area="lips", unit="correlation",
                description="weights-free extra: mouth opening vs loudness, peak minus median "
                            "correlation (never the verdict on a loudness-driven backend)")
register_metric("sync_offset_frames", NEUTRAL,
                lambda video, audio=None: _lazy("eval.sync", "measure_sync")(video, audio)
                .offset_frames, area="lips", unit="frames",
                description="weights-free extra: best audio-visual offset (0 = in sync)")
register_metric("lse_d", LOWER, _lazy("eval.judge", "lse_d"), area="lips", unit="distance",
                description="LSE-D: smallest mean audio-visual distance of the SyncNet judge")
register_metric("lse_c", HIGHER, _lazy("eval.judge", "lse_c"), area="lips", unit="distance",
                description="LSE-C: median minus smallest mean distance (sync confidence)")
register_metric("lse_offset_frames", NEUTRAL, _lazy("eval.judge", "lse_offset_frames"),
                area="lips",
                unit="frames", description="the SyncNet judge's audio-visual offset")
register_metric("psnr", HIGHER, _lazy("lipgan.quality", "psnr"), area="lips", unit="dB",
                description="peak signal-to-noise ratio of face crops")
register_metric("ssim", HIGHER, _lazy("lipgan.quality", "ssim"), area="lips", unit="0-1",
                description="structural similarity of face crops")
register_metric("lmd", LOWER, _lazy("eval.lips", "lmd"), area="lips", unit="px@96",
                description="mean mouth-landmark distance, pixels of a 96-px-wide face")
register_metric("fid", LOWER, _lazy("eval.lips", "frechet_distance"), area="lips", unit="",
                description="Fréchet distance of face-crop Inception features")


# ------------------------------------------------------------------ timing of the dub track


@metric("stretch_mean", NEUTRAL, area="timing", unit="factor")
def stretch_mean(stretches: list[float]) -> float:
    """Mean duration factor applied to the synthesised segments (1 = untouched)."""
    return float(sum(stretches) / len(stretches)) if stretches else 1.0


@metric("stretch_max_deviation", LOWER, area="timing", unit="factor")
def stretch_max_deviation(stretches: list[float]) -> float:
    """Largest |stretch - 1| over the segments: how hard the worst segment was squeezed."""
    return float(max(abs(s - 1.0) for s in stretches)) if stretches else 0.0


@metric("drift_s", LOWER, area="timing", unit="s")
def drift_s(slot_starts_s: list[float], placed_starts_s: list[float]) -> float:
    """Mean |placed start - source start| of the segments: how far the dub drifts."""
    pairs = list(zip(slot_starts_s, placed_starts_s, strict=True))
    return float(sum(abs(b - a) for a, b in pairs) / len(pairs)) if pairs else 0.0


@metric("speech_rate_ratio", NEUTRAL, area="timing", unit="ratio")
def speech_rate_ratio(dub_speech_s: float, source_speech_s: float) -> float:
    """Seconds of dubbed speech per second of source speech (>1: the dub talks longer)."""
    return float(dub_speech_s / source_speech_s) if source_speech_s > 0 else float("nan")


__all__ = ["HIGHER", "LOWER", "NEUTRAL", "Metric", "all_metrics", "direction_of", "get_metric",
           "metric", "register_metric"]
