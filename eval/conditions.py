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
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eval.measure import (
    MetricOptions,
    References,
    input_metrics,
    load_lse_expert,
    measure_condition,
    roundtrip_transcriber,
    timing_metrics,
    voice_metrics,
)
from eval.metrics import direction_of
from eval.report import HEADLINE
from f2f.errors import ConfigError, MediaError

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
    run = ConditionsRun(input=str(input_path), results=[])
    expert = load_lse_expert(options, run.not_measured)
    source_audio = read_audio(input_path)
    roundtrip = None
    if options.roundtrip_asr:
        roundtrip = roundtrip_transcriber(options.roundtrip_asr, target_language)
    else:
        run.not_measured["roundtrip_cer"] = (
            "no ASR for the target language here (the bundled Whisper tiny.en is English-only); "
            "give --roundtrip-asr BACKEND when one is installed")
    if expert is None:
        from eval.lips import fid_unavailable_reason

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


VERDICT_METRIC = "lse_c"  # the learned judge's confidence: no backend is driven by it


def sanity_checks(run: ConditionsRun) -> list[str]:
    """The comparisons the paper's study implies, stated as pass/fail lines for the report.

    The verdict is the SyncNet judge's LSE-C, never the weights-free loudness correlation of
    `eval/sync.py`: the viseme backend opens the mouth with loudness, so that measure would
    grade it on the very signal it injects.
    """
    lines = []
    for dubbed, synced in (("tts_vc", "tts_vc_lipsync"), ("manual", "manual_lipsync")):
        a, b = run.by_name(dubbed), run.by_name(synced)
        if a and b and VERDICT_METRIC in a.metrics and VERDICT_METRIC in b.metrics:
            before, after = a.metrics[VERDICT_METRIC], b.metrics[VERDICT_METRIC]
            verdict = "PASS" if after > before else "FAIL"
            lines.append(f"{verdict}: lip sync raises the SyncNet judge's LSE-C ({dubbed} "
                         f"{before:.3f} -> {synced} {after:.3f})")
    return lines


# ------------------------------------------------------------------------------ outputs


def write_report(run: ConditionsRun, out_dir: Path) -> None:
    """metrics.json, report.md, metrics.png and conditions.json (see `eval.report`)."""
    from eval.report import write_report as write

    write(run, out_dir)


def load_manifest(directory: Path) -> list[dict[str, Any]]:
    """The conditions.json a conditions run wrote (the rating page reads it)."""
    path = directory / "conditions.json"
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [dict(item) for item in data if isinstance(item, dict)]



__all__ = ["DEFAULT_CONDITIONS", "HEADLINE", "Condition", "ConditionResult", "ConditionsRun",
           "MetricOptions", "References", "choose_conditions", "conditions_from_file",
           "input_metrics", "load_manifest", "measure_condition", "run_conditions",
           "sanity_checks", "timing_metrics", "voice_metrics", "write_report"]
