"""Which face is speaking: each speech segment goes to the face track whose mouth motion follows
the segment's original audio.

The judge is the correlation, over the segment's frames, between a track's mouth motion
(`f2f.face_tracks`) and the loudness envelope of the original audio, both per video frame,
plus the track's share of all mouth motion in the segment (a listener's mouth is still while
a speaker's moves). Confidence is the winner's margin over the runner-up. A SyncNet expert would
be a stronger judge; this one needs no weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from f2f.artifacts import Speech
from f2f.face_tracks import FaceTrack


@dataclass(frozen=True)
class FaceChoice:
    """The face chosen for one speech segment."""

    start_s: float
    end_s: float
    speaker: str
    track: int | None  # None: no face track in view during the segment
    confidence: float  # winner's score minus the runner-up's (1.0 when only one face)
    scores: dict[int, float] = field(default_factory=dict)


def loudness_per_frame(speech: Speech, fps: float, n_frames: int) -> np.ndarray:
    """(n_frames,) log RMS of the audio under each video frame."""
    samples = np.asarray(speech.samples, np.float64)
    hop = speech.sample_rate / fps
    out = np.full(n_frames, -120.0)
    for i in range(n_frames):
        chunk = samples[int(i * hop):int((i + 1) * hop)]
        if chunk.size:
            out[i] = 10 * np.log10((chunk ** 2).mean() + 1e-12)
    return out


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 3 or a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def choose_faces(tracks: Sequence[FaceTrack], loudness: np.ndarray, fps: float,
                 segments: Sequence[tuple[str, float, float]]) -> list[FaceChoice]:
    """One FaceChoice per (speaker, start_s, end_s) segment."""
    choices = []
    for speaker, start_s, end_s in segments:
        first = max(int(start_s * fps), 0)
        last = min(int(np.ceil(end_s * fps)), loudness.size)
        frames = np.arange(first, last)
        raw: dict[int, tuple[float, float]] = {}
        for track in tracks:
            motion = track.motion[first:last]  # shorter than `frames` when the decoder gave
            seen = np.isfinite(motion)  # fewer frames than the probe's count
            if frames.size == 0 or seen.sum() < 0.5 * frames.size:
                continue
            raw[track.id] = (_correlation(motion[seen], loudness[frames[:motion.size][seen]]),
                             float(np.nanmean(motion)))
        if not raw:
            choices.append(FaceChoice(start_s, end_s, speaker, None, 0.0))
            continue
        total_motion = sum(m for _, m in raw.values()) or 1.0
        scores = {t: corr + m / total_motion for t, (corr, m) in raw.items()}
        ranked = sorted(scores, key=scores.__getitem__, reverse=True)
        margin = 1.0 if len(ranked) == 1 else scores[ranked[0]] - scores[ranked[1]]
        choices.append(FaceChoice(start_s, end_s, speaker, ranked[0], round(margin, 4),
                                  {t: round(v, 4) for t, v in scores.items()}))
    return choices


def speaker_faces(choices: Sequence[FaceChoice]) -> dict[str, dict[str, float | int | None]]:
    """Per speaker: the face most of their segments went to, and the share of their speech
    time that agrees (the report's 'which face each speaker was matched to')."""
    out: dict[str, dict[str, float | int | None]] = {}
    for speaker in dict.fromkeys(c.speaker for c in choices):
        mine = [c for c in choices if c.speaker == speaker]
        time_by_track: dict[int | None, float] = {}
        for c in mine:
            time_by_track[c.track] = time_by_track.get(c.track, 0.0) + c.end_s - c.start_s
        best = max(time_by_track, key=time_by_track.__getitem__)
        total = sum(time_by_track.values()) or 1.0
        out[speaker] = {"face": best, "agreement": round(time_by_track[best] / total, 3),
                        "mean_margin": round(float(np.mean([c.confidence for c in mine])), 4)}
    return out


def frame_plan(choices: Sequence[FaceChoice], tracks: Sequence[FaceTrack], fps: float,
               n_frames: int) -> list[list[int] | None]:
    """Per video frame, the box [x0, y0, x1, y1] of the face to lip-sync, or None (no face):
    each frame follows the nearest segment's choice, so silences keep the last speaker's face."""
    by_id = {t.id: t for t in tracks}
    timed = [c for c in choices if c.track is not None]
    plan: list[list[int] | None] = []
    for frame in range(n_frames):
        t = (frame + 0.5) / fps
        if not timed:
            plan.append(None)
            continue
        nearest = min(timed, key=lambda c: 0.0 if c.start_s <= t < c.end_s else
                      min(abs(t - c.start_s), abs(t - c.end_s)))
        assert nearest.track is not None  # `timed` holds only choices with a track
        box = by_id[nearest.track].box(frame)
        plan.append(None if box is None else [box.x0, box.y0, box.x1, box.y1])
    return plan
