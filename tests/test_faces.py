"""Faces: detection, landmarks and tracking on a real GRID clip and on frames without a face."""

from __future__ import annotations

import numpy as np
import pytest

from f2f.errors import ConfigError
from f2f.faces import (FaceBox, FaceDetector, FaceTracker, LandmarkPredictor, mouth_opening,
                       track_faces)
from tests._lipsync_helpers import read_frames


@pytest.fixture(scope="module")
def grid_frames(grid_clip):
    return read_frames(grid_clip)


@pytest.mark.parametrize("backend", ["dlib", "haar", "auto"])
def test_detects_the_speaker_on_a_grid_frame(grid_frames, backend):
    frame = grid_frames[0]
    faces = FaceDetector(backend).detect(frame)
    assert faces, f"{backend} found no face"
    face = faces[0]
    assert 70 <= face.width <= 200 and 70 <= face.height <= 200
    cx, cy = face.center
    assert 100 < cx < 260 and 100 < cy < 240  # the speaker sits in the middle of the 360x288 frame


def test_no_face_in_a_blank_frame():
    assert FaceDetector("auto").detect(np.zeros((288, 360, 3), np.uint8)) == []


def test_unknown_detector_is_a_config_error():
    with pytest.raises(ConfigError, match="dlib"):
        FaceDetector("mediapipe")


def test_landmarks_sit_on_the_face(grid_frames):
    frame = grid_frames[10]
    box = FaceDetector().detect(frame)[0]
    points = LandmarkPredictor().predict(frame, box)
    assert points.shape == (68, 2) and points.dtype == np.float32
    grown = box.padded(0.2, 0.2, 0.2, 0.2)
    assert (points[:, 0] >= grown.x0).all() and (points[:, 0] < grown.x1).all()
    assert (points[:, 1] >= grown.y0).all() and (points[:, 1] < grown.y1).all()
    assert points[8, 1] > points[57, 1] > points[33, 1] > points[27, 1]  # chin, lip, nose, brow
    assert 0.0 <= mouth_opening(points) < 1.0


def test_track_is_smooth_and_none_where_the_face_is_gone(grid_frames):
    frames = [np.zeros_like(f) if 30 <= i < 40 else f for i, f in enumerate(grid_frames)]
    boxes = list(track_faces(frames, FaceDetector(), detect_every=5))
    assert len(boxes) == len(frames)
    assert all(b is None for b in boxes[30:40])
    assert all(isinstance(b, FaceBox) for b in boxes[:30] + boxes[40:])
    centres = np.array([b.center for b in boxes[:30]])
    assert np.abs(np.diff(centres, axis=0)).max() < 6  # no jumps on a still speaker


def test_face_index_beyond_the_faces_in_view_gives_none(grid_frames):
    tracker = FaceTracker(FaceDetector(), face_index=3)
    assert tracker.update(grid_frames[0]) is None


def test_facebox_helpers():
    box = FaceBox(10, 20, 30, 60)
    assert (box.width, box.height, box.center) == (20, 40, (20.0, 40.0))
    assert box.padded(0, 0.5, 0, 0).y1 == 80
    assert box.clipped(25, 50) == FaceBox(10, 20, 25, 50)
    assert FaceBox(0, 0, 5, 5).clipped(1, 1) is None
    assert box.iou(box) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        FaceBox(5, 5, 5, 9)


def test_face_alignment_detector_says_what_is_missing(monkeypatch, tmp_path) -> None:
    """Not installed here (its weights are a download): a clear error, never a traceback."""
    import importlib.util

    from f2f.errors import MissingDependencyError, WeightsNotFoundError
    from f2f.faces import FaceDetector

    if importlib.util.find_spec("face_alignment") is None:
        with pytest.raises(MissingDependencyError, match="pip install face-alignment"):
            FaceDetector("face-alignment")
        real_find_spec = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a: object() if name == "face_alignment"
                            else real_find_spec(name, *a))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty torch hub cache
    with pytest.raises(WeightsNotFoundError, match="s3fd-619a316812.pth"):
        FaceDetector("face-alignment")
