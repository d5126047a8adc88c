"""The dub's mouth motion: per output frame, where the 20 mouth points go relative to the rest
(closed) mouth, in face units (f2f.faces.FaceFrameOfReference), before the speaker's own range is
applied (see _mouth_range).

Drivers: the learned audio model (any dub audio), TTS phoneme timings on top of it (lips pressed
on p/b/m, rounding and spreading of vowels), and the weights-free fallbacks (phoneme visemes or
loudness turned into landmark offsets by fixed opening/spread vectors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from f2f.artifacts import PhonemeEvent, Speech
from stages.lipsync._mouth_shapes import (shapes_from_audio, shapes_from_phonemes,
                                          smooth_columns, speech_activity)

# indices into the 20 mouth points (48..67 -> 0..19)
UPPER_OUTER = [1, 2, 3, 4, 5]
LOWER_OUTER = [7, 8, 9, 10, 11]
UPPER_INNER = [13, 14, 15]
LOWER_INNER = [17, 18, 19]
CORNERS_LEFT = [0, 12]  # image left: 48, 60
CORNERS_RIGHT = [6, 16]  # image right: 54, 64
GAP_PAIRS = ((13, 19), (14, 18), (15, 17))


def gap_of(offsets: np.ndarray) -> np.ndarray:
    """Inner-gap change of (..., 20, 2) offsets (lower minus upper inner lip, down axis)."""
    return np.mean([offsets[..., b, 1] - offsets[..., a, 1] for a, b in GAP_PAIRS], axis=0)


def _opening_vector() -> np.ndarray:
    """(20, 2) offsets of a mouth opened by one unit of inner gap (jaw drop, mostly lower lip)."""
    v = np.zeros((20, 2))
    for i, w in zip(LOWER_OUTER, (0.55, 0.85, 0.9, 0.85, 0.55), strict=True):
        v[i, 1] = w
    v[LOWER_INNER, 1] = 0.9
    v[UPPER_OUTER, 1] = -0.1
    v[UPPER_INNER, 1] = -0.1
    v[CORNERS_LEFT + CORNERS_RIGHT, 1] = 0.4
    v[CORNERS_LEFT, 0] = 0.05
    v[CORNERS_RIGHT, 0] = -0.05
    return v


def _spread_vector() -> np.ndarray:
    """(20, 2) offsets of spread +1 (corners out); -1 is rounding (corners in, lips fuller)."""
    v = np.zeros((20, 2))
    v[CORNERS_LEFT, 0] = -0.05
    v[CORNERS_RIGHT, 0] = 0.05
    v[[1, 11, 13, 19], 0] = -0.025  # the points next to the corners follow halfway
    v[[5, 7, 15, 17], 0] = 0.025
    v[UPPER_OUTER, 1] = 0.01  # spread lips thin a little; rounded ones thicken
    v[LOWER_OUTER, 1] = -0.01
    return v


OPENING = _opening_vector()
SPREAD = _spread_vector()


@dataclass(frozen=True)
class MouthMotion:
    """Per output frame: offsets from the rest mouth (N, 20, 2) face units; bilabial closure
    (N,) 0..1 (1: the lips must touch, whatever the offsets say); speech activity (N,) 0..1."""

    offsets: np.ndarray
    closure: np.ndarray
    activity: np.ndarray
    source: str

    def __post_init__(self) -> None:
        n = self.offsets.shape[0]
        if self.offsets.shape[1:] != (20, 2) or self.closure.shape != (n,) or \
                self.activity.shape != (n,):
            raise ValueError(f"MouthMotion shapes do not agree: {self.offsets.shape}, "
                             f"{self.closure.shape}, {self.activity.shape}")

    def __len__(self) -> int:
        return int(self.offsets.shape[0])


def motion_from_mouths(mouths: np.ndarray, frames: int, source: str) -> MouthMotion:
    """A MouthMotion from (N, 20, 2) mouths in face units (f2f.faces.normalized_mouth; NaN rows
    where no face was found): offsets from the closed mouth (the mean of the 10% of frames with
    the smallest inner gap), the last row held out to `frames`. For driving the renderer with
    a video's own mouth, or any other landmark source."""
    mouths = np.array(mouths, np.float64)
    seen = ~np.isnan(mouths).any(axis=(1, 2))
    mouths[~seen] = mouths[seen].mean(axis=0)
    gaps = gap_of(mouths)
    offsets = mouths - mouths[gaps <= np.percentile(gaps, 10)].mean(axis=0)
    offsets = np.concatenate([offsets, np.repeat(offsets[-1:], frames, axis=0)])[:frames]
    return MouthMotion(offsets.astype(np.float32), np.zeros(frames, np.float32),
                       np.ones(frames, np.float32), source)


def frame_times(frames: int, fps: float) -> np.ndarray:
    return (np.arange(frames) + 0.5) / fps


def motion_from_model(model: object, samples_16k: np.ndarray, fps: float, frames: int,
                      activity: np.ndarray | None = None) -> np.ndarray:
    """(frames, 20, 2) learned offsets relative to the rest mouth: the model's mean prediction
    in this dub's own pauses (`activity` == 0), or on digital silence when it has none."""
    from stages.lipsync._mouth_model import AudioMouthModel

    assert isinstance(model, AudioMouthModel)
    predicted = model.predict(samples_16k, frame_times(frames, fps))
    quiet = np.flatnonzero(activity <= 0.0) if activity is not None else np.zeros(0, int)
    if quiet.size >= 3:
        rest = predicted[quiet].mean(axis=0)
    else:
        rest = model.predict(np.zeros(16_000, np.float32), np.array([0.5]))[0]
    return predicted - rest


def build_motion(speech: Speech, samples_16k: np.ndarray, phonemes: Sequence[PhonemeEvent],
                 fps: float, frames: int, driver: str, model: object | None,
                 max_gap: float, coarticulation_s: float, smoothing_frames: float
                 ) -> MouthMotion:
    """The dub's MouthMotion for `driver` (auto | audio | phonemes | loudness)."""
    activity = speech_activity(speech, fps, frames)
    # activity opens slowly and closes fast: a pause closes the mouth within two frames
    activity = np.minimum(activity, smooth_columns(activity[:, None], 1.0)[:, 0]) \
        if frames else activity
    tracks = shapes_from_phonemes(phonemes, fps, frames, coarticulation_s) if phonemes else None
    closure = np.zeros(frames)
    if driver in ("auto", "audio") and model is not None:
        offsets = motion_from_model(model, samples_16k, fps, frames, activity)
        source = "learned audio model"
    elif driver == "phonemes" and tracks is not None:
        offsets = (tracks[:, 0, None, None] * max_gap) * OPENING[None]
        source = "phoneme visemes"
    else:
        shapes = shapes_from_audio(speech, fps, frames)
        offsets = (shapes[:, 0, None, None] * max_gap) * OPENING[None]
        source = "loudness"
    if tracks is not None and driver in ("auto", "phonemes"):
        offsets = offsets + tracks[:, 1, None, None] * SPREAD[None]
        closure = tracks[:, 2]
        source += " + phoneme timings"
    offsets = smooth_columns(offsets.reshape(frames, -1), smoothing_frames).reshape(frames, 20, 2) \
        if frames else offsets.reshape(0, 20, 2)
    offsets = offsets * activity[:, None, None]
    return MouthMotion(offsets.astype(np.float32), closure.astype(np.float32),
                       activity.astype(np.float32), source)
