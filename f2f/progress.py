"""One progress channel: library code reports, the CLI shows tqdm bars, the app gr.Progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    stage: str  # "asr", "mt", "tts", "vc", "fit", "lipsync", "mux", ...
    fraction: float  # 0..1 within the stage
    message: str = ""


ProgressFn = Callable[[ProgressEvent], None]
StageProgress = Callable[[float, str], None]  # what a backend gets: (fraction, message)


def silent(_event: ProgressEvent) -> None:
    """The default progress sink: drops everything."""


def for_stage(progress: ProgressFn, stage: str) -> StageProgress:
    """Binds a stage name so backends only report (fraction, message)."""

    def report(fraction: float, message: str = "") -> None:
        progress(ProgressEvent(stage, min(max(float(fraction), 0.0), 1.0), message))

    return report
