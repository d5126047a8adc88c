"""Subtitles in the output video's time: freezes delay what follows, a dub's cue lasts while
its speech runs on into the pause after its segment."""

from __future__ import annotations

import numpy as np
import pytest

from f2f.artifacts import (DubTrack, Segment, SegmentTiming, Speech, TranslatedSegment,
                           VideoExtension)
from f2f.subtitles import output_cues

SOURCE = (Segment(0, "one", 0.0, 1.0), Segment(1, "two", 2.0, 3.0), Segment(2, "three", 4.0, 5.0))
DUB = tuple(TranslatedSegment(s.id, s.text, s.text.upper(), s.start_s, s.end_s) for s in SOURCE)


def _track(timings: tuple[SegmentTiming, ...], extensions: tuple[VideoExtension, ...] = (),
           source: str = "tts") -> DubTrack:
    seconds = 6.0 + sum(e.duration_s for e in extensions)
    return DubTrack(Speech(np.zeros(int(seconds * 100), np.float32), 100), timings, (),
                    extensions, source)


def test_cues_after_a_freeze_are_delayed_by_it() -> None:
    """Segment 1's speech overflowed: 0.5 s of frozen video at 4.0 s, before segment 2."""
    track = _track((), (VideoExtension(4.0, 0.5),))
    cues = output_cues(SOURCE, track)
    assert [(c.start_s, c.end_s) for c in cues] == [(0.0, 1.0), (2.0, 3.0), (4.5, 5.5)]
    assert [(c.start_s, c.end_s) for c in output_cues(SOURCE, None)] == [
        (0.0, 1.0), (2.0, 3.0), (4.0, 5.0)]


def test_a_dub_cue_lasts_while_its_speech_runs_into_the_pause() -> None:
    timings = (SegmentTiming(0, 0.0, 1.0, 1.6, 0.91, 0.0, 1.45),  # ran into the pause
               SegmentTiming(1, 2.0, 3.0, 2.4, 0.8, 2.0, 3.92),  # would reach the next cue
               SegmentTiming(2, 4.0, 5.0, 0.5, 1.25, 4.0, 4.62))  # slowed, ends early
    track = _track(timings)
    dub = output_cues(DUB, track, spoken=True)
    assert [c.end_s for c in dub] == pytest.approx([1.45, 3.92, 5.0])
    assert [c.text for c in dub] == ["ONE", "TWO", "THREE"]
    # the source language keeps its own times; a manual dub's single timing means nothing here
    assert [c.end_s for c in output_cues(SOURCE, track)] == [1.0, 3.0, 5.0]
    manual = _track((SegmentTiming(0, 0.0, 6.0, 6.0, 1.0, 0.0, 6.0),), source="manual")
    assert [c.end_s for c in output_cues(DUB, manual, spoken=True)] == [1.0, 3.0, 5.0]


def test_a_dub_cue_never_runs_over_the_next_one() -> None:
    timings = (SegmentTiming(0, 0.0, 1.0, 3.0, 0.8, 0.0, 2.4),)
    dub = output_cues(DUB, _track(timings), spoken=True)
    assert dub[0].end_s == pytest.approx(2.0) and dub[1].start_s == pytest.approx(2.0)
