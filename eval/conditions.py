"""The LipGAN paper's six versions of one video, side by side, scored automatically.

A condition is data: a name, a description and `--set` overrides applied on top of the user's
config, plus whether it needs the user's manual dub audio. The six defaults:

    1 subtitles       original English speech + Hindi subtitles
    2 tts             automatic dubbing (TTS)
    3 tts_vc          automatic dubbing + voice transfer
    4 tts_vc_lipsync  automatic dubbing + voice transfer + lip sync
    5 manual          manual dubbing (a human Hindi audio track)
    6 manual_lipsync  manual dubbing + automatic lip sync

Users add their own in a TOML or JSON file:

    [[condition]]
    name = "wav2lip"
    description = "TTS + VC + Wav2Lip"
    set = ["lipsync=wav2lip"]
    manual_audio = false

All conditions of one input share one cache folder, so ASR and MT run once.
"""

from __future__ import annotations

import json
import logging
import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eval.metrics import direction_of, get_metric, is_number
from f2f.artifacts import Speech
from f2f.errors import ConfigError, F2FError, MediaError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Condition:
    name: str
    description: str
    overrides: tuple[str, ...] = ()  # `--set` strings applied after the user's own
    needs_manual_audio: bool = False
    subtitles: bool = False  # the viewer should see the target-language subtitles

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(f"condition name {self.name!r}: use letters, digits, - and _")


DEFAULT_CONDITIONS: tuple[Condition, ...] = (
    Condition("subtitles", "original English speech + Hindi subtitles",
              ("tts=none", "lipsync=none"), subtitles=True),
    Condition("tts", "automatic dubbing (TTS)", ("vc=none", "lipsync=none")),
    Condition("tts_vc", "automatic dubbing + voice transfer", ("lipsync=none",)),
    Condition("tts_vc_lipsync", "automatic dubbing + voice transfer + lip sync", ()),
    Condition("manual", "manual dubbing", ("lipsync=none",), needs_manual_audio=True),
    Condition("manual_lipsync", "manual dubbing + automatic lip sync", (),
              needs_manual_audio=True),
)

# The figures report.md and the plot lead with; every other measured figure follows.
HEADLINE = ("sync_confidence", "lse_d", "lse_c", "speaker_similarity", "global_mcd",
            "f0_distribution_rmse", "stretch_mean", "drift_s")


def conditions_from_file(path: str | Path) -> list[Condition]:
    """User-defined conditions from TOML (`[[condition]]` tables) or JSON (a list of objects)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read conditions file {path}: {exc}") from exc
    try:
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"conditions file {path} does not parse: {exc}") from exc
    items = data.get("condition", data.get("conditions")) if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: expected a list of conditions ([[condition]] in TOML)")
    known = {"name", "description", "set", "overrides", "manual_audio", "needs_manual_audio",
             "subtitles"}
    conditions = []
    for item in items:
        if not isinstance(item, dict) or "name" not in item:
            raise ConfigError(f"{path}: every condition needs a name, got {item!r}")
        unknown = set(item) - known
        if unknown:
            raise ConfigError(f"{path}: condition {item['name']!r} has unknown keys "
                              f"{', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        overrides = item.get("set", item.get("overrides", []))
        if isinstance(overrides, str):
            overrides = [overrides]
        conditions.append(Condition(
            name=str(item["name"]), description=str(item.get("description", item["name"])),
            overrides=tuple(str(o) for o in overrides),
            needs_manual_audio=bool(item.get("manual_audio", item.get("needs_manual_audio",
                                                                      False))),
            subtitles=bool(item.get("subtitles", False))))
    return conditions


def choose_conditions(names: Sequence[str] | None = None,
                      extra: Sequence[Condition] = ()) -> list[Condition]:
    """The defaults plus `extra`, filtered by `names` (names or 1-based numbers of defaults)."""
    pool = {c.name: c for c in DEFAULT_CONDITIONS}
    for condition in extra:
        pool[condition.name] = condition
    if not names:
        return list(pool.values())
    chosen = []
    for name in names:
        if name.isdigit() and 1 <= int(name) <= len(DEFAULT_CONDITIONS):
            chosen.append(DEFAULT_CONDITIONS[int(name) - 1])
        elif name in pool:
            chosen.append(pool[name])
        else:
            raise ConfigError(f"unknown condition '{name}'; known: {', '.join(pool)} "
                              f"(or 1-{len(DEFAULT_CONDITIONS)})")
    return chosen


# ------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class References:
    """Reference texts for the input: its transcript and a human translation."""

    transcript: str | None = None
    translation: str | None = None


@dataclass(frozen=True)
class MetricOptions:
    sync: bool = True  # the weights-free sync measure (needs a visible face)
    speech: bool = True  # speaker similarity, MCD and F0 against the original voice
    expert: str | None = None  # a SyncNet checkpoint for LSE-D/LSE-C
    roundtrip_asr: str | None = None  # an ASR backend that understands the target language


@dataclass
class ConditionResult:
    condition: Condition
    video: Path | None = None
    skipped: str = ""  # why no video was made
    metrics: dict[str, float | int] = field(default_factory=dict)
    not_measured: dict[str, str] = field(default_factory=dict)  # metric -> why not
    steps: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"condition": asdict(self.condition), "video": str(self.video or ""),
                "skipped": self.skipped, "metrics": self.metrics,
                "not_measured": self.not_measured, "steps": self.steps,
                "wall_s": round(self.wall_s, 3)}


@dataclass
class ConditionsRun:
    input: str
    results: list[ConditionResult]
    input_metrics: dict[str, float] = field(default_factory=dict)  # ASR/MT: same for all
    not_measured: dict[str, str] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    def by_name(self, name: str) -> ConditionResult | None:
        return next((r for r in self.results if r.condition.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "input_metrics": self.input_metrics,
                "not_measured": self.not_measured, "checks": self.checks,
                "directions": {name: direction_of(name) for name in self.metric_names()},
                "conditions": [r.to_dict() for r in self.results]}

    def metric_names(self) -> list[str]:
        names = {m for r in self.results for m in r.metrics}
        return [m for m in HEADLINE if m in names] + sorted(names - set(HEADLINE))


# ------------------------------------------------------------------------------ measuring


def _measure(into: ConditionResult, name: str, compute: Callable[[], Any]) -> None:
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


def measure_condition(into: ConditionResult, source_audio: Speech, options: MetricOptions,
                      segments: Sequence[dict[str, Any]], expert: Any = None,
                      roundtrip: Callable[[Speech], str] | None = None,
                      target_text: str = "") -> None:
    """Every automatic metric that applies to one condition's output video."""
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


def _roundtrip_transcriber(backend: str, language: str) -> Callable[[Speech], str]:
    """A function that re-transcribes dubbed audio with an ASR backend in the target language."""
    from f2f.progress import silent
    from f2f.registry import get_backend_class

    cls = get_backend_class("asr", backend)
    if cls.languages is not None and language not in cls.languages:
        raise ConfigError(f"round-trip ASR '{backend}' does not support '{language}'")
    asr = cls()
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


# ------------------------------------------------------------------------------ running


def run_conditions(input_path: str | Path, out_dir: str | Path,
                   conditions: Sequence[Condition] = DEFAULT_CONDITIONS, *,
                   config_path: str | Path | None = None, sets: Sequence[str] = (),
                   target_language: str = "hi", manual_audio: str | Path | None = None,
                   manual_translation: str | Path | None = None,
                   references: References = References(),
                   options: MetricOptions = MetricOptions(), workdir: str | Path | None = None,
                   pool: Any = None) -> ConditionsRun:
    """Makes one video per condition in `out_dir`, measures them and writes the report files."""
    import time

    from f2f.config import load_config
    from f2f.media import read_audio
    from f2f.pipeline import BackendPool, translate_video

    input_path, out_dir = Path(input_path), Path(out_dir)
    if not input_path.is_file():
        raise MediaError(f"input video not found: {input_path}")
    if manual_audio is not None and not Path(manual_audio).is_file():
        raise MediaError(f"--manual-audio file not found: {manual_audio}")
    out_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(workdir) if workdir else out_dir / ".cache"  # one cache: ASR/MT run once
    pool = pool or BackendPool()
    expert = None
    if options.expert:
        from eval.lips import load_expert

        expert = load_expert(options.expert)
    run = ConditionsRun(input=str(input_path), results=[])
    source_audio = read_audio(input_path)
    roundtrip = None
    if options.roundtrip_asr:
        roundtrip = _roundtrip_transcriber(options.roundtrip_asr, target_language)
    else:
        run.not_measured["roundtrip_cer"] = (
            "no ASR for the target language here (the bundled Whisper tiny.en is English-only); "
            "give --roundtrip-asr BACKEND when one is installed")
    if expert is None:
        from eval.lips import fid_unavailable_reason

        run.not_measured["lse_d"] = ("no SyncNet expert given (--expert syncnet_v2.model or a "
                                     "lipsync_expert.pth / our trained expert)")
        run.not_measured["fid"] = fid_unavailable_reason() or "FID is computed by `eval metrics`"
    for condition in conditions:
        result = ConditionResult(condition)
        run.results.append(result)
        if condition.needs_manual_audio and manual_audio is None:
            result.skipped = "needs a manual dub audio track: give --manual-audio FILE"
            log.warning("condition %s skipped: %s", condition.name, result.skipped)
            continue
        config = load_config(
            config_path, sets=[*sets, *condition.overrides], target_language=target_language,
            manual_dub_audio=str(manual_audio) if condition.needs_manual_audio else None,
            manual_translation=str(manual_translation) if manual_translation else None)
        video = out_dir / f"{condition.name}.mp4"
        log.info("condition %s: %s", condition.name, condition.description)
        started = time.perf_counter()
        outcome = translate_video(input_path, video, config, workdir=workdir, pool=pool)
        result.video = video
        result.steps = [{"stage": s.stage, "backend": s.backend, "cached": s.cached,
                         "wall_s": s.wall_s} for s in outcome.report.steps]
        if not run.input_metrics and not any(k in run.not_measured for k in ("wer", "chrf")):
            values, missing = input_metrics(outcome, references)
            run.input_metrics.update(values)
            run.not_measured.update(missing)
        target_text = outcome.translation.text if outcome.translation is not None else ""
        measure_condition(result, source_audio, options, outcome.report.segments, expert,
                          roundtrip, target_text)
        result.wall_s = time.perf_counter() - started
    run.checks = sanity_checks(run)
    write_report(run, out_dir)
    return run


def sanity_checks(run: ConditionsRun) -> list[str]:
    """The comparisons the paper's study implies, stated as pass/fail lines for the report."""
    lines = []
    for dubbed, synced in (("tts_vc", "tts_vc_lipsync"), ("manual", "manual_lipsync")):
        a, b = run.by_name(dubbed), run.by_name(synced)
        if a and b and "sync_confidence" in a.metrics and "sync_confidence" in b.metrics:
            before, after = a.metrics["sync_confidence"], b.metrics["sync_confidence"]
            verdict = "PASS" if after > before else "FAIL"
            lines.append(f"{verdict}: lip sync raises sync confidence ({dubbed} {before:.3f} -> "
                         f"{synced} {after:.3f})")
    return lines


# ------------------------------------------------------------------------------ outputs


def write_report(run: ConditionsRun, out_dir: Path) -> None:
    """metrics.json, report.md, metrics.png and conditions.json (the rating page's manifest)."""
    from eval.summary import Stats, bar_chart
    from f2f.media import atomic_output

    with atomic_output(out_dir / "metrics.json") as tmp:
        tmp.write_text(json.dumps(run.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    manifest = [{"condition": r.condition.name, "description": r.condition.description,
                 "video": r.video.name, "clip": Path(run.input).stem,
                 "subtitles": _subtitle_file(r.video, r.condition)}
                for r in run.results if r.video is not None]
    with atomic_output(out_dir / "conditions.json") as tmp:
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    names = run.metric_names()
    made = [r for r in run.results if r.video is not None]
    plotted = [m for m in names if m in HEADLINE][:6]
    if made and plotted:
        rows = {r.condition.name: {m: Stats(float(r.metrics[m]), 0.0, float("nan"), 1)
                                   for m in plotted if m in r.metrics} for r in made}
        bar_chart(rows, plotted, out_dir / "metrics.png", title=f"{Path(run.input).name}")
    with atomic_output(out_dir / "report.md") as tmp:
        tmp.write_text(report_markdown(run), encoding="utf-8")


def _subtitle_file(video: Path, condition: Condition) -> str:
    if not condition.subtitles:
        return ""
    candidates = sorted(video.parent.glob(f"{video.stem}.*.vtt"))
    target = [c for c in candidates if not c.name.endswith(".en.vtt")]
    return target[0].name if target else ""


def _format(value: float | int) -> str:
    if isinstance(value, int):
        return f"{value:+d}" if value else "0"
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:.0f}"


def report_markdown(run: ConditionsRun) -> str:
    names = run.metric_names()
    arrows = {"higher": " ↑", "lower": " ↓"}
    lines = [f"# Six-condition comparison: {Path(run.input).name}", ""]
    lines += ["| # | condition | " + " | ".join(f"{m}{arrows.get(direction_of(m), '')}"
                                                for m in names) + " |",
              "|---|---|" + "---|" * len(names)]
    best: dict[str, float] = {}
    for m in names:
        values = [float(r.metrics[m]) for r in run.results if m in r.metrics]
        if values and direction_of(m) in arrows and len(values) > 1:
            best[m] = max(values) if direction_of(m) == "higher" else min(values)
    for number, r in enumerate(run.results, start=1):
        if r.video is None:
            lines.append(f"| {number} | {r.condition.name} | skipped: {r.skipped} |"
                         + " |" * max(0, len(names) - 1))
            continue
        cells = []
        for m in names:
            if m not in r.metrics:
                cells.append("–")
                continue
            text = _format(r.metrics[m])
            cells.append(f"**{text}**" if best.get(m) == float(r.metrics[m]) else text)
        lines.append(f"| {number} | {r.condition.name} | " + " | ".join(cells) + " |")
    lines += ["", "Conditions:", ""]
    lines += [f"{i}. `{r.condition.name}`: {r.condition.description}"
              + (f" (`{' '.join(r.condition.overrides)}`)" if r.condition.overrides else "")
              for i, r in enumerate(run.results, start=1)]
    if run.input_metrics:
        lines += ["", "Shared by every condition (ASR and MT run once):", ""]
        lines += [f"- {k}{arrows.get(direction_of(k), '')}: {_format(v)}"
                  for k, v in run.input_metrics.items()]
    if run.checks:
        lines += ["", "Checks:", ""] + [f"- {c}" for c in run.checks]
    missing = dict(run.not_measured)
    for r in run.results:
        for k, why in r.not_measured.items():
            missing.setdefault(k, f"{r.condition.name}: {why}")
    if missing:
        lines += ["", "Not measured here:", ""] + [f"- {k}: {why}" for k, why in missing.items()]
    lines += ["", "Time per condition (s; cached steps reused from earlier conditions):", ""]
    for r in run.results:
        if r.video is not None:
            ran = [f"{s['stage']} {s['wall_s']:.1f}" for s in r.steps
                   if s["backend"] != "none" and not s["cached"]]
            lines.append(f"- {r.condition.name}: {r.wall_s:.1f} total; ran: "
                         f"{', '.join(ran) or 'nothing (all cached)'}")
    lines += ["", "Sync confidence: the weights-free measure of `eval/sync.py` (correlation of "
              "mouth opening and speech envelope, peak minus median over offsets -15..+15)."]
    return "\n".join(lines) + "\n"


def load_manifest(directory: Path) -> list[dict[str, Any]]:
    """The conditions.json a conditions run wrote (the rating page reads it)."""
    path = directory / "conditions.json"
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [dict(item) for item in data if isinstance(item, dict)]

