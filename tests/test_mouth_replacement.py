"""What the default `viseme` lip sync must never do, measured with dlib on its output (GRID).

- a closed target must not leave two lips (the source's open lower lip under the new closed
  one): the lower face must look like the speaker's own closed mouth;
- the output's opening and its frame-to-frame change stay in the speaker's own range;
- in a pause of the dub the mouth is closed, whatever the source mouth does there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from f2f.artifacts import DubTrack, Speech
from f2f.faces import FaceDetector, FaceTracker, LandmarkPredictor, mouth_opening
from f2f.media import read_audio
from stages.lipsync.viseme import VisemeLipSync
from tests._lipsync_helpers import read_frames, video_ref

SILENCE = (1.0, 2.0)  # seconds of the dub made silent in the pause test


def _quiet(fraction: float, message: str = "") -> None:
    pass


def _measure(frames: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per-frame opening (inner gap / inter-ocular) and landmarks, dlib."""
    tracker = FaceTracker(FaceDetector("auto"), detect_every=1)
    predictor = LandmarkPredictor()
    values, marks = [], []
    for frame in frames:
        box = tracker.update(frame)
        assert box is not None
        points = predictor.predict(frame, box)
        values.append(mouth_opening(points))
        marks.append(points)
    return np.asarray(values), marks


@pytest.fixture(scope="module")
def source(grid_clip: Path) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray]]:
    frames = read_frames(grid_clip)
    opening, marks = _measure(frames)
    return frames, opening, marks


@pytest.fixture(scope="module")
def dubbed(grid_clip: Path, shared_dir: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> dict[str, tuple[list[np.ndarray], np.ndarray]]:
    """The clip dubbed with another speaker's speech, plain and with a pause cut into it."""
    speech = read_audio(shared_dir / "grid" / "lwbsza.mpg")
    paused = speech.samples.copy()
    paused[int(SILENCE[0] * 16000):int(SILENCE[1] * 16000)] = 0.0
    out = {}
    folder = tmp_path_factory.mktemp("mouth")
    for name, samples in (("speech", speech.samples), ("paused", paused)):
        path = folder / f"{name}.mp4"
        VisemeLipSync().sync(video_ref(grid_clip), DubTrack(Speech(samples, 16000)), path,
                             _quiet)
        frames = read_frames(path)
        out[name] = (frames, _measure(frames)[0])
    return out


def test_opening_and_its_speed_stay_in_the_speakers_range(source, dubbed):
    _, original, _ = source
    _, output = dubbed["speech"]
    opening_ratio = output.mean() / original.mean()
    change_ratio = np.abs(np.diff(output)).mean() / np.abs(np.diff(original)).mean()
    assert 0.7 <= opening_ratio <= 1.4, opening_ratio
    assert 0.6 <= change_ratio <= 1.5, change_ratio
    assert output.max() > np.percentile(original, 10) + 0.05  # it does open


def test_mouth_is_closed_in_every_pause_of_the_dub(source, dubbed):
    _, original, _ = source
    _, output = dubbed["paused"]
    inside = range(int(SILENCE[0] * 25) + 2, int(SILENCE[1] * 25) - 1)
    closed_level = float(np.percentile(original, 5))
    assert original[list(inside)].max() > closed_level + 0.1  # the source speaks there
    assert output[list(inside)].max() < closed_level + 0.04, output[list(inside)]


def test_a_closed_target_leaves_one_pair_of_lips(source, dubbed):
    """Where the source mouth is open and the dub is silent, the lower face must look like the
    speaker's own closed mouth, not like the open one squeezed (no second lower lip)."""
    frames, original, marks = source
    out_frames, _ = dubbed["paused"]
    closed = int(np.argmin(original))
    inside = [i for i in range(int(SILENCE[0] * 25) + 2, int(SILENCE[1] * 25) - 1)
              if original[i] > original[closed] + 0.1]
    assert len(inside) >= 3
    for i in inside:
        pts = marks[i]
        x0, y0 = np.floor(pts[[*range(4, 13), *range(48, 68)]].min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts[[*range(4, 13), *range(48, 68)]].max(axis=0)).astype(int)
        box = (slice(y0, y1), slice(x0, x1))

        def diff(a: np.ndarray, b: np.ndarray) -> float:
            return float(np.abs(a[box].astype(int) - b[box].astype(int)).mean())

        open_vs_closed = diff(frames[i], frames[closed])
        output_vs_closed = diff(out_frames[i], frames[closed])
        assert output_vs_closed < 0.5 * open_vs_closed, (i, output_vs_closed, open_vs_closed)
