"""What `eval conditions` measures on each output video, and with which options.

Text (ASR/MT against references) once per input; per condition: dub timing, the voice against
the original speaker, LSE-D/LSE-C by the SyncNet judge, the weights-free loudness-correlation
extra, and optionally a round-trip CER.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eval.metrics import get_metric, is_number
from f2f.artifacts import Speech
from f2f.errors import ConfigError, F2FError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class References:
    """Reference texts for the input: its transcript and a human translation."""

    transcript: str | None = None
    translation: str | None = None


@dataclass(frozen=True)
class MetricOptions:
    sync: bool = True  # the weights-free loudness-correlation extra (needs a visible face)
    speech: bool = True  # speaker similarity, MCD and F0 against the original voice
    # LSE-D/LSE-C by a SyncNet checkpoint; None = the shipped judge (eval.judge), "none" = off
    expert: str | None = None
    roundtrip_asr: str | None = None  # an ASR backend that understands the target language


def load_lse_expert(options: MetricOptions, not_measured: dict[str, str]) -> Any:
    """The LSE expert the options ask for (the shipped judge by default), or None and why."""
    if options.expert == "none":
        not_measured["lse_d"] = "LSE switched off (--expert none)"
        return None
    from eval.judge import load_expert

    try:
        return load_expert(options.expert)
    except F2FError as exc:  # a missing or corrupt judge file: say so in the report
        log.warning("LSE not measured: %s", exc)
        not_measured["lse_d"] = f"{type(exc).__name__}: {exc}"
        return None


def _measure(into: Any, name: str, compute: Callable[[], Any]) -> None:
    """Runs one measure; a measure that cannot run is recorded with its reason, never fatal."""
    try:
        value = compute()
    except (F2FError, ValueError, RuntimeError, ImportError) as exc:
        log.warning("%s: %s not measured: %s", into.condition.name, name, exc)
        into.not_measured[name] = f"{type(exc).__name__}: {exc}"
        return
    if isinstance(value, dict):
        into.metrics.update({k: v for k, v in value.items() if is_number(v)})
    elif is_number(value):
        into.metrics[name] = round(float(value), 5)
    else:
        into.not_measured[name] = f"no value ({value!r})"


def timing_metrics(segments: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Stretch, drift and speech-rate figures from a run report's per-segment timing audit."""
    if not segments:
        return {}
    stretches = [float(s["stretch"]) for s in segments]
    placed = sum(float(s["placed_end_s"]) - float(s["placed_start_s"]) for s in segments)
    slots = sum(float(s["slot_end_s"]) - float(s["slot_start_s"]) for s in segments)
    return {
        "stretch_mean": get_metric("stretch_mean")(stretches),
        "stretch_max_deviation": get_metric("stretch_max_deviation")(stretches),
        "drift_s": get_metric("drift_s")([float(s["slot_start_s"]) for s in segments],
                                         [float(s["placed_start_s"]) for s in segments]),
        "speech_rate_ratio": get_metric("speech_rate_ratio")(placed, slots),
    }


def voice_metrics(dub: Speech, original: Speech) -> dict[str, float]:
    """How close the output's voice is to the original speaker's (not what they say)."""
    out = {"speaker_similarity": float(get_metric("speaker_similarity")(original, dub))}
    try:
        from stages.vc.world_features import analyze
    except ImportError:  # the WORLD helper belongs to the VC backend; MCD/F0 need it
        return out
    a, b = analyze(original, 24), analyze(dub, 24)
    out["global_mcd"] = float(get_metric("global_mcd")(a.mcep[a.speech_frames],
                                                       b.mcep[b.speech_frames]))
    out["f0_distribution_rmse"] = float(get_metric("f0_distribution_rmse")(a.f0, b.f0))
    return {k: v for k, v in out.items() if math.isfinite(v)}


def measure_condition(into: Any, source_audio: Speech, options: MetricOptions,
                      segments: Sequence[dict[str, Any]], expert: Any = None,
                      roundtrip: Callable[[Speech], str] | None = None,
                      target_text: str = "") -> None:
    """Every automatic metric that applies to one condition's output video (`into`: an
    `eval.conditions.ConditionResult`, filled in place; not imported, conditions imports this)."""
    from f2f.media import read_audio

    assert into.video is not None
    video = into.video
    output_audio = read_audio(video)
    into.metrics.update(timing_metrics(segments))
    if options.sync:
        def sync() -> dict[str, float]:
            from eval.sync import measure_sync

            result = measure_sync(video, output_audio)
            return {"sync_confidence": round(result.confidence, 5),
                    "sync_offset_frames": result.offset_frames}
        _measure(into, "sync_confidence", sync)
    if options.speech:
        _measure(into, "speaker_similarity", lambda: voice_metrics(output_audio, source_audio))
    if expert is not None:
        def lse() -> dict[str, float]:
            from eval.lips import lse as lse_measure

            return lse_measure(video, expert, output_audio).summary()
        _measure(into, "lse_d", lse)
    if roundtrip is not None and target_text and not into.condition.subtitles:
        def roundtrip_cer() -> float:
            return get_metric("roundtrip_cer")(target_text, roundtrip(output_audio),
                                               normalize=False)
        _measure(into, "roundtrip_cer", roundtrip_cer)


def roundtrip_transcriber(backend: str, language: str) -> Callable[[Speech], str]:
    """A function that re-transcribes dubbed audio with an ASR backend in the target language."""
    from f2f.progress import silent
    from f2f.registry import get_backend_class

    cls = get_backend_class("asr", backend)
    if cls.languages is not None and language not in cls.languages:
        raise ConfigError(f"round-trip ASR '{backend}' does not support '{language}'")
    asr = cls()
    from f2f.stage import ASRBackend

    assert isinstance(asr, ASRBackend)  # the registry checks each "asr" backend's base class
    status = asr.availability()
    if not status.ok:
        raise ConfigError(f"round-trip ASR '{backend}' cannot run: {status.reason}")

    def transcribe(speech: Speech) -> str:
        from f2f.progress import for_stage

        return str(asr.transcribe(speech, language, for_stage(silent, "roundtrip")).text)
    return transcribe


def input_metrics(result: Any, references: References) -> tuple[dict[str, float],
                                                                  dict[str, str]]:
    """ASR and MT quality: identical for every condition (ASR and MT run once)."""
    values: dict[str, float] = {}
    missing: dict[str, str] = {}
    if result.transcript is not None and references.transcript:
        hypothesis = result.transcript.text
        values["wer"] = round(float(get_metric("wer")(references.transcript, hypothesis)), 5)
        values["cer"] = round(float(get_metric("cer")(references.transcript, hypothesis)), 5)
    else:
        missing["wer"] = "no reference transcript (--reference-text or --references)"
    if result.translation is not None and references.translation:
        hypothesis = result.translation.text
        values["chrf"] = round(float(get_metric("chrf")([references.translation],
                                                        [hypothesis])), 3)
        values["bleu"] = round(float(get_metric("bleu")([references.translation],
                                                        [hypothesis])), 3)
    else:
        missing["chrf"] = "no reference translation (--reference-translation)"
    return values, missing
