"""SRT and WebVTT subtitles: write from segments, read back as cues.

Hand-written on purpose: the two formats are a few lines each, and a library would add a
dependency for less than this file.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from f2f.artifacts import DubTrack, Segment, Transcript
from f2f.errors import ConfigError, MediaError
from f2f.media import atomic_output

# ISO 639-2 tags of subtitle (and audio) tracks in the MP4
LANGUAGE_TAGS = {"en": "eng", "hi": "hin", "fr": "fra", "de": "deu", "es": "spa", "bn": "ben",
                 "ta": "tam", "te": "tel", "mr": "mar", "ur": "urd", "gu": "guj", "pa": "pan"}


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str


# Subtitle guidelines (e.g. the BBC's and Netflix's): at most two lines of about 42 characters;
# a longer cue is split, preferably where a clause ends, its time shared by characters.
MAX_LINE_CHARS = 42
MAX_LINES = 2
_CLAUSE_END = (",", ";", ":", ".", "!", "?", "।", "—")


def _break_score(left: str, target: float) -> float:
    """Lower is better: near `target` characters, and after a clause end if possible."""
    return abs(len(left) - target) - (MAX_LINE_CHARS if left.endswith(_CLAUSE_END) else 0)


def _split_at_word(text: str, limit: int, target: float) -> tuple[str, str]:
    """The best break of `text` into (left <= limit chars, rest) at a space."""
    words = text.split()
    options = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    fitting = [o for o in options if len(o[0]) <= limit] or options[:1]
    if not fitting:  # one word longer than the limit: cut it
        return text[:limit], text[limit:]
    return min(fitting, key=lambda o: _break_score(o[0], target))


def _words_within(text: str, width: int) -> str:
    """Normalised spaces; a word longer than a line (a URL) cut into line-sized pieces."""
    return " ".join(word[i:i + width] for word in text.split()
                    for i in range(0, len(word), width))


def wrap_text(text: str, width: int = MAX_LINE_CHARS) -> str:
    """One or two lines of at most `width` characters, balanced (text that fits stays whole)."""
    text = _words_within(text, width)
    if len(text) <= width:
        return text
    left, right = _split_at_word(text, width, len(text) / 2)
    return f"{left}\n{right}"


def layout_cues(cues: Iterable[Cue], width: int = MAX_LINE_CHARS,
                lines: int = MAX_LINES) -> list[Cue]:
    """Splits cues longer than `lines` x `width` characters into consecutive cues (at clause
    ends where it can), sharing the cue's time by characters, and wraps each one."""
    out: list[Cue] = []
    capacity = width * lines
    for cue in cues:
        text = _words_within(cue.text, width)
        if not text:
            continue
        pieces = []
        while len(text) > capacity:
            count = -(-len(text) // capacity)  # pieces still needed
            left, text = _split_at_word(text, capacity - lines, len(text) / count)
            pieces.append(left)
        pieces.append(text)
        total = sum(len(p) for p in pieces)
        start = cue.start_s
        for index, piece in enumerate(pieces):
            end = (cue.end_s if index == len(pieces) - 1
                   else start + (cue.end_s - cue.start_s) * len(piece) / total)
            out.append(Cue(start, end, wrap_text(piece, width)))
            start = end
    return out


def _stamp(seconds: float, separator: str) -> str:
    millis = int(round(max(seconds, 0.0) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(cues: Iterable[Cue]) -> str:
    blocks = []
    for number, cue in enumerate((c for c in cues if c.text.strip()), start=1):
        blocks.append(f"{number}\n{_stamp(cue.start_s, ',')} --> {_stamp(cue.end_s, ',')}\n"
                      f"{cue.text.strip()}\n")
    return "\n".join(blocks)


def to_vtt(cues: Iterable[Cue]) -> str:
    blocks = ["WEBVTT\n"]
    for cue in cues:
        if cue.text.strip():
            blocks.append(f"{_stamp(cue.start_s, '.')} --> {_stamp(cue.end_s, '.')}\n"
                          f"{cue.text.strip()}\n")
    return "\n".join(blocks)


def write_subtitles(cues: Iterable[Cue], path: str | Path) -> Path:
    """Writes .srt or .vtt by the path's suffix, atomically."""
    path = Path(path)
    cues = layout_cues(cues)
    if path.suffix.lower() == ".srt":
        text = to_srt(cues)
    elif path.suffix.lower() == ".vtt":
        text = to_vtt(cues)
    else:
        raise ConfigError(f"unknown subtitle format {path.suffix!r}: use .srt or .vtt")
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})")


def _seconds(stamp: str) -> float:
    match = _TIME.fullmatch(stamp.strip())
    if not match:
        raise ValueError(stamp)
    hours, minutes, secs, frac = match.groups()
    return (int(hours or 0) * 3600 + int(minutes) * 60 + int(secs)
            + int(frac.ljust(3, "0")) / 1000)


def read_subtitles(path: str | Path) -> list[Cue]:
    """Parses SRT or WebVTT (cue numbers, styling lines and NOTE blocks are ignored)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MediaError(f"cannot read subtitles {path}: {exc}") from exc
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = [line for line in block.split("\n") if line.strip()]
        timing_at = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing_at is None:
            continue
        start_text, end_text = lines[timing_at].split("-->", 1)
        try:
            start_s, end_s = _seconds(start_text), _seconds(end_text.split()[0])
        except (ValueError, IndexError) as exc:
            raise ConfigError(f"{path}: bad cue timing {lines[timing_at]!r}") from exc
        body = " ".join(re.sub(r"<[^>]+>", "", line).strip() for line in lines[timing_at + 1:])
        if end_s < start_s:
            raise ConfigError(f"{path}: cue ends before it starts: {lines[timing_at]!r}")
        cues.append(Cue(start_s, end_s, body))
    if not cues:
        raise ConfigError(f"no subtitle cues found in {path}")
    return cues


def timing_transcript(cues: list[Cue], language: str) -> Transcript:
    """A text-less transcript with the cues' timing (a manual translation brings the words)."""
    segments = tuple(Segment(id=i, text="", start_s=c.start_s, end_s=c.end_s)
                     for i, c in enumerate(cues))
    return Transcript(language=language, segments=segments, backend="none")


def cues_of(segments: Any, attribute: str = "text") -> list[Cue]:
    """One cue per segment, its text taken from `attribute`."""
    return [Cue(s.start_s, s.end_s, getattr(s, attribute)) for s in segments]


def _in_output(t: float, track: DubTrack, after_freeze: bool) -> float:
    """Source time `t` in the output video: a freeze at or before it delays it (`after_freeze`:
    one at exactly `t` does too, for a cue starting there)."""
    return t + sum(e.duration_s for e in track.extensions
                   if e.at_s < t or (after_freeze and e.at_s == t))


def output_cues(segments: Sequence[Any], track: DubTrack | None,
                spoken: bool = False) -> list[Cue]:
    """Cues in the output video's time. Freeze extensions delay what follows them; with
    `spoken` (the dub's own language), a cue also lasts while its speech runs on into the pause
    after the segment, up to where the next cue starts."""
    cues = cues_of(segments)
    if track is None:
        return cues
    placed = ({t.id: t.placed_end_s for t in track.timings if t.synth_duration_s > 0}
              if spoken and track.source != "manual" else {})
    starts = [_in_output(c.start_s, track, True) for c in cues]
    order = sorted(range(len(cues)), key=lambda i: (starts[i], i))
    next_start = {i: starts[j] for i, j in itertools.pairwise(order)}  # the last has none
    out = []
    for i, (segment, cue) in enumerate(zip(segments, cues, strict=True)):
        end = max(_in_output(cue.end_s, track, False), placed.get(segment.id, 0.0))
        end = min(end, next_start.get(i, end))
        out.append(Cue(starts[i], max(end, starts[i]), cue.text))
    return out
