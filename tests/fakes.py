"""Shared pieces of the small in-test backends (graph, crash-safety and evaluation tests)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from f2f import media
from f2f.video_writer import VideoWriter
from f2f.artifacts import (
    DubTrack,
    Segment,
    SegmentSpeech,
    Speech,
    SpeechSegments,
    Transcript,
    TranslatedSegment,
    Translation,
    VideoRef,
    Word,
)


def transcript_of_turns(turns: Sequence[tuple[str, float, float]], language: str,
                        backend: str) -> Transcript:
    """A stand-in ASR result: one segment of one word per (speaker, start, end) turn."""
    return Transcript(language, tuple(
        Segment(i, f"turn {i}", a, b, (Word(f"w{i}", a, b),))
        for i, (_, a, b) in enumerate(turns)), backend=backend)


def translated(transcript: Transcript, target_language: str,
               text_of: Callable[[Segment], str], backend: str) -> Translation:
    """A stand-in translation: `text_of(segment)` for each segment, same ids and time slots."""
    return Translation(transcript.language, target_language, tuple(
        TranslatedSegment(s.id, s.text, text_of(s), s.start_s, s.end_s)
        for s in transcript.segments), backend=backend)


def scaled(speech: SpeechSegments, gain: float, backend: str) -> SpeechSegments:
    """A stand-in voice conversion: every clip times `gain`, timing and phonemes kept."""
    return SpeechSegments(tuple(
        SegmentSpeech(s.id, s.text, Speech(s.speech.samples * gain, s.speech.sample_rate),
                      s.phonemes) for s in speech.segments), backend=backend)


def rewrite_frames(video: VideoRef, track: DubTrack, out_path: Path,
                   transform: Callable[[np.ndarray], np.ndarray],
                   before_frame: Callable[[int], None] | None = None) -> VideoRef:
    """A stand-in lip sync: `transform` on every frame, the track's freeze frames included."""
    frames = media.extended_frames(
        media.iter_frames(video.path, video.fps, video.width, video.height),
        video.fps, track.extensions)
    with VideoWriter(out_path, video.fps, video.width, video.height) as writer:
        for index, frame in enumerate(frames):
            if before_frame is not None:
                before_frame(index)
            writer.write(transform(frame))
    return VideoRef(str(out_path), video.fps, writer.frames_written, video.width, video.height)


def espeak_dub(*texts: str) -> SpeechSegments:
    """Real eSpeak NG Hindi speech, one 3 s slot per text (the VC tests' dub)."""
    from f2f.registry import get_backend_class

    segments = tuple(TranslatedSegment(i, "", t, 3.0 * i, 3.0 * i + 3.0)
                     for i, t in enumerate(texts))
    return get_backend_class("tts", "espeak")().synthesize(Translation("en", "hi", segments),
                                                          lambda f, m: None)
