"""The run report: which backend ran each stage, with which weights, how long, and how well."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from f2f.media import atomic_output
from f2f.media_info import MediaInfo

log = logging.getLogger(__name__)


@dataclass
class StepRecord:
    stage: str  # "audio", "asr", "mt", "tts", "vc", "fit", "lipsync", "mux"
    backend: str  # backend name, "none" when switched off, "manual" for user input
    weights: str = ""
    wall_s: float = 0.0
    cached: bool = False
    key: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # e.g. a low-quality warning or a fallback that happened


@dataclass
class RunReport:
    input: str
    output: str
    f2f_version: str
    config: dict[str, Any]
    media: dict[str, Any] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)  # per-segment timing audit
    outputs: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    speakers: dict[str, Any] = field(default_factory=dict)  # who spoke when, and which face
    total_wall_s: float = 0.0

    def warn(self, note: str) -> None:
        """A warning for the user: logged once (the CLI shows the log) and kept in the report."""
        log.warning(note)
        self.warnings.append(note)

    def step(self, stage: str) -> StepRecord | None:
        return next((s for s in self.steps if s.stage == stage), None)

    @property
    def all_cached(self) -> bool:
        return all(s.cached for s in self.steps if s.backend != "none")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | Path) -> None:
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str),
                           encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> RunReport:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        steps = [StepRecord(**s) for s in data.pop("steps", [])]
        return cls(**data, steps=steps)


def note_media(info: MediaInfo, report: RunReport) -> None:
    """Says plainly what of the input does not reach the output, and how its timing is kept."""
    dropped = []
    if info.audio_streams > 1:
        dropped.append(f"{info.audio_streams - 1} extra audio track(s)")
    if info.subtitle_streams:
        dropped.append(f"{info.subtitle_streams} subtitle track(s)")
    if dropped:
        note = (f"the input's {' and '.join(dropped)} are not carried to the output "
                f"(f2f reads the first audio track only)")
        report.warn(note)
    if info.variable_frame_rate:
        note = (f"the input has a variable frame rate; the output is constant {info.fps:g} fps "
                f"(its fastest rate): slower parts repeat frames, no frame is dropped and "
                f"timing is kept")
        report.warn(note)


COVERAGE_WARN_BELOW = 0.95  # less of the VAD speech than this under ASR segments: warn


def asr_warnings(metrics: dict[str, Any], source_language: str) -> list[str]:
    """What the run report says about an ASR step's metrics: speech without subtitles, and
    speech that sounds like another language than the one given."""
    warnings = []
    fraction = metrics.get("speech_coverage")
    if fraction is not None and fraction < COVERAGE_WARN_BELOW:
        warnings.append(
            f"subtitles cover only {fraction:.0%} of the {metrics.get('vad_speech_s', 0):.0f} s "
            f"of speech; the longest stretch without any is "
            f"{metrics.get('longest_uncovered_s', 0):.0f} s from "
            f"{metrics.get('longest_uncovered_at_s', 0):.0f} s (it has no subtitle and no dub; "
            f"check the audio there, or try another asr.model)")
    detected = metrics.get("detected_language")
    if (detected and detected != source_language and source_language != "auto"
            and metrics.get("detected_language_probability", 0) >= 0.8):
        warnings.append(f"the speech sounds like '{detected}' "
                        f"({metrics['detected_language_probability']:.0%} sure), not "
                        f"'{source_language}': if so, rerun with --from {detected}")
    return warnings
