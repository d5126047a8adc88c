"""Detection near the tracked face (FaceDetector.detect_near) and the tracker's full-frame passes
(FaceTracker.full_every): cheaper detections that still find a face wherever it goes."""

from __future__ import annotations

import numpy as np
import pytest

from f2f.faces import FaceBox, FaceDetector, FaceTracker
from tests._lipsync_helpers import read_frames

WIDTH = 720  # a wide canvas: the GRID frame (360 px wide) can sit at different places on it


@pytest.fixture(scope="module")
def grid_frames(grid_clip):
    return read_frames(grid_clip)


@pytest.fixture
def detector() -> FaceDetector:  # per test: made under the test's own F2F_HOME
    return FaceDetector("dlib")


def _placed(frame: np.ndarray, x: int) -> np.ndarray:
    canvas = np.full((frame.shape[0], WIDTH, 3), 90, np.uint8)
    canvas[:, x:x + frame.shape[1]] = frame
    return canvas


def test_detect_near_finds_the_face_in_its_region_and_nothing_elsewhere(grid_frames, detector):
    frame = _placed(grid_frames[0], 0)
    full = detector.detect(frame)[0]
    near = detector.detect_near(frame, full)
    assert near and near[0].iou(full) > 0.6
    # the same box size ladder as the whole frame's detections: within one pyramid step
    assert 5 / 6 - 0.02 < near[0].width / full.width < 6 / 5 + 0.02
    elsewhere = FaceBox(full.x0 + 400, full.y0, full.x1 + 400, full.y1)
    assert detector.detect_near(frame, elsewhere) == []


def test_a_face_that_jumps_out_of_the_region_is_found_on_that_frame(grid_frames, detector):
    # between the detections of frames 5 and 10 the face moves 125 px (25 px a frame, no cut),
    # far more than its region's margin
    frames = [_placed(f, 25 * min(max(i - 5, 0), 5)) for i, f in enumerate(grid_frames[:15])]
    near = FaceTracker(detector, detect_every=5, full_every=25)
    always = FaceTracker(detector, detect_every=5)
    for i, frame in enumerate(frames):
        box, expected = near.update(frame), always.update(frame)
        assert box is not None and expected is not None, f"frame {i} lost its face"
        if i == 10:
            assert not near.restarted  # not taken for a cut: the region search missed it
            assert box.iou(expected) > 0.8
            assert abs(box.center[0] - expected.center[0]) < 10  # moved with the face
    assert near.full_detections < near.detections  # the region search did run


def test_a_second_face_is_followed_when_the_first_leaves(grid_frames, detector):
    # face A (left) from the start; face B (right) from frame 12; A leaves at frame 30
    def frame(i: int) -> np.ndarray:
        canvas = np.full((288, WIDTH, 3), 90, np.uint8)
        if i < 30:
            canvas[:, :360] = grid_frames[i % len(grid_frames)]
        if i >= 12:
            canvas[:, 360:] = grid_frames[(i + 20) % len(grid_frames)]
        return canvas

    tracker = FaceTracker(detector, detect_every=5, full_every=25)
    boxes = [tracker.update(frame(i)) for i in range(36)]
    assert all(b is not None and b.center[0] < 360 for b in boxes[:30])
    assert boxes[30] is not None and boxes[30].center[0] > 360  # B, found on A's last miss


def test_full_frame_passes_come_at_most_full_every_frames_apart(grid_frames, detector):
    frames = [_placed(f, 0) for f in grid_frames[:75]]
    tracker = FaceTracker(detector, detect_every=5, full_every=25)
    for frame in frames:
        assert tracker.update(frame) is not None
    assert tracker.detections == 15
    assert tracker.full_detections == 3  # frames 0, 25 and 50
    always = FaceTracker(detector, detect_every=5)
    for frame in frames[:10]:
        always.update(frame)
    assert always.full_detections == always.detections == 2


def test_the_saved_detector_copy_is_loaded_and_detects_the_same(grid_frames, monkeypatch):
    import dlib

    from f2f.face_detectors import dlib_detector_copy

    copy = dlib_detector_copy(dlib)  # under this test session's own F2F_HOME
    copy.unlink(missing_ok=True)
    decoded = FaceDetector("dlib")
    assert copy.is_file()  # written on first use
    frame = _placed(grid_frames[0], 0)

    def no_decoding():
        raise AssertionError("decoded dlib's built-in detector again")

    with monkeypatch.context() as patch:
        patch.setattr(dlib, "get_frontal_face_detector", no_decoding)
        assert FaceDetector("dlib").detect(frame) == decoded.detect(frame)
    copy.write_bytes(b"not a detector")  # a damaged copy is decoded again and replaced
    assert FaceDetector("dlib").detect(frame) == decoded.detect(frame)
    assert copy.stat().st_size > 1000


def test_a_home_where_the_copy_cannot_be_written_still_gives_a_detector(grid_frames, tmp_path,
                                                                         monkeypatch):
    # F2F_HOME is a file: saving fails, and so does removing the partial copy (ENOTDIR), as on
    # a read-only mount (EROFS); the detector decoded from dlib must still come back
    home = tmp_path / "home"
    home.write_text("not a folder")
    monkeypatch.setenv("F2F_HOME", str(home))
    frame = _placed(grid_frames[0], 0)
    assert FaceDetector("dlib").detect(frame)
    assert home.read_text() == "not a folder"
