"""Manual MT: the user's own translation, as a text file or subtitles.

- `.txt`: one line per English segment, in order (blank lines are skipped); the line count must
  match the segment count.
- `.srt` / `.vtt`: each cue goes to the English segment it overlaps most in time; a segment's
  cues are joined. With no transcript (ASR switched off) the cues themselves become the segments.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from f2f.artifacts import Transcript, TranslatedSegment, Translation
from f2f.errors import ConfigError, MediaError
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import MTBackend
from stages.mt._common import aligned_translation

log = logging.getLogger(__name__)

SUBTITLE_SUFFIXES = (".srt", ".vtt")


def read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"manual translation {path} is not UTF-8 text: {exc}") from exc
    except OSError as exc:
        raise MediaError(f"cannot read manual translation {path}: {exc}") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]


def _overlap(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    return max(0.0, min(a_end, b_end) - max(a_start, b_start))


@register
class ManualMT(MTBackend):
    name = "manual"
    version = "1"
    languages = None  # whatever language the user wrote
    quality_note = "human translation supplied by the user"

    @dataclass(frozen=True)
    class Config:
        path: str = ""  # a .txt (one line per segment), .srt or .vtt in the target language

    def weights_path(self) -> Path:
        if not self.config.path:
            raise ConfigError("mt backend 'manual' needs a file: --translation FILE or "
                              "--set mt.path=FILE (.txt with one line per segment, or .srt)")
        path = Path(self.config.path).expanduser()
        if not path.is_file():
            raise ConfigError(f"manual translation file not found: {path}")
        return path

    def weights_description(self) -> str:
        return f"manual translation {self.weights_path()}"

    def translate(self, transcript: Transcript, target_language: str,
                  progress: StageProgress) -> Translation:
        path = self.weights_path()
        if path.suffix.lower() in SUBTITLE_SUFFIXES:
            translation = self._from_subtitles(path, transcript, target_language)
        else:
            translation = self._from_lines(path, transcript, target_language)
        progress(1.0, f"{len(translation.segments)} segments from {path.name}")
        log.info("mt manual: %d segments from %s", len(translation.segments), path)
        return translation

    def _from_lines(self, path: Path, transcript: Transcript, target: str) -> Translation:
        lines = read_lines(path)
        count = len(transcript.segments)
        if len(lines) != count:
            listing = "; ".join(f"{s.id}: {s.text}" for s in transcript.segments[:5])
            raise ConfigError(
                f"{path} has {len(lines)} non-empty lines but the transcript has {count} "
                f"segments; write one translated line per segment, in order "
                f"(segments: {listing}{' ...' if count > 5 else ''}), or give an .srt")
        self.metrics = {"segments": count, "source": "txt"}
        return aligned_translation(transcript, lines, target, self.name)

    def _from_subtitles(self, path: Path, transcript: Transcript, target: str) -> Translation:
        from f2f.subtitles import read_subtitles

        cues = read_subtitles(path)
        if not transcript.segments:  # no English transcript: the cues are the segments
            segments = tuple(TranslatedSegment(i, "", cue.text, cue.start_s, cue.end_s)
                             for i, cue in enumerate(cues))
            self.metrics = {"segments": len(segments), "source": "subtitles", "cues": len(cues)}
            return Translation(transcript.language, target, segments, self.name)
        texts: list[list[str]] = [[] for _ in transcript.segments]
        unplaced = 0
        for cue in cues:
            overlaps = [_overlap(cue.start_s, cue.end_s, s.start_s, s.end_s)
                        for s in transcript.segments]
            best = max(range(len(overlaps)), key=overlaps.__getitem__)
            if overlaps[best] <= 0.0:
                # No overlap at all: the nearest segment in time, so no text is lost.
                middle = (cue.start_s + cue.end_s) / 2
                best = min(range(len(transcript.segments)), key=lambda i: abs(
                    (transcript.segments[i].start_s + transcript.segments[i].end_s) / 2 - middle))
                unplaced += 1
            texts[best].append(cue.text)
        empty = [s.id for s, t in zip(transcript.segments, texts, strict=True) if not t]
        if empty:
            log.warning("mt manual: no subtitle cue overlaps segment(s) %s; they stay silent",
                        ", ".join(map(str, empty)))
        self.metrics = {"segments": len(texts), "source": "subtitles", "cues": len(cues),
                        "segments_without_cue": len(empty), "cues_without_overlap": unplaced}
        return aligned_translation(transcript, [" ".join(t) for t in texts], target, self.name)
