"""The face track computed ahead (another process, beside the audio stages) is exactly what the
lip-sync loop would compute itself, is used only when its settings are the loop's, and a failed
child never loses the run."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest

from f2f.artifacts import DubTrack, VideoExtension
from f2f.cache import Cache
from f2f.face_track import FaceSettings, FaceTrack, FaceTrackAhead, FaceTrackJob, compute_face_track
from f2f.media import read_audio
from stages.lipsync.viseme import VisemeLipSync
from tests._lipsync_helpers import read_frames, video_ref, write_with_blank_middle


def _silent_progress(fraction: float, message: str = "") -> None:
    pass


@pytest.fixture(scope="module")
def clip(grid_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 40 frames, a few without a face (a track restart in the middle)
    out = tmp_path_factory.mktemp("facetrack") / "clip.mp4"
    return write_with_blank_middle(grid_clip, out, range(18, 22), limit=40)


def test_the_child_process_computes_the_loops_own_track(clip: Path, tmp_path: Path) -> None:
    source = video_ref(clip)
    settings = VisemeLipSync().face_settings()
    assert settings == FaceSettings("auto", 5, 0, True, 0.5)
    job = FaceTrackJob(clip, source.fps, source.width, source.height, settings,
                       tmp_path / "faces.npz")
    track = job.wait()
    assert track is not None and len(track) == 40
    here = compute_face_track(clip, source.fps, source.width, source.height, settings)
    np.testing.assert_array_equal(track.boxes, here.boxes)
    np.testing.assert_array_equal(track.landmarks, here.landmarks)
    assert all(track.at(i) == (None, None) for i in range(18, 22))
    box, points = track.at(5)
    assert box is not None and points is not None and points.shape == (68, 2)
    assert box.x0 <= points[:, 0].mean() <= box.x1


def test_lip_sync_with_the_precomputed_track_writes_the_same_video(clip: Path, grid_dir: Path,
                                                                   tmp_path: Path) -> None:
    source = video_ref(clip)
    dub = read_audio(grid_dir / "lwbsza.mpg")
    # an extension: its frozen frames must take their source frame's face
    track = DubTrack(dub, extensions=(VideoExtension(at_s=0.6, duration_s=0.2),),
                     source="manual")
    backend = VisemeLipSync()
    settings = backend.face_settings()
    assert settings is not None
    faces = tmp_path / "faces.npz"
    compute_face_track(clip, source.fps, source.width, source.height, settings).save(faces)

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    live = backend.sync(source, track, tmp_path / "a" / "out.mp4", _silent_progress)
    assert backend.metrics["face_track"] == "in the loop"
    ahead = backend.sync(dataclasses.replace(source, face_track=str(faces)), track,
                         tmp_path / "b" / "out.mp4", _silent_progress)
    assert backend.metrics["face_track"] == "precomputed"
    live_frames, ahead_frames = read_frames(Path(live.path)), read_frames(Path(ahead.path))
    assert len(live_frames) == len(ahead_frames) == 45
    for index, (a, b) in enumerate(zip(live_frames, ahead_frames, strict=True)):
        assert np.array_equal(a, b), f"frame {index} differs"


def test_the_loop_loads_no_landmark_model_when_the_track_has_every_frame(
        clip: Path, grid_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # dlib's model takes ~1.2 s to load with the GIL held: a precomputed track makes it idle
    from stages.lipsync import _common
    from stages.lipsync._common import shared_landmark_predictor

    source = video_ref(clip)
    backend = VisemeLipSync()
    settings = backend.face_settings()
    assert settings is not None
    track = compute_face_track(clip, source.fps, source.width, source.height, settings)
    loads: list[int] = []

    def counted() -> object:
        loads.append(1)
        return shared_landmark_predictor()
    monkeypatch.setattr(_common, "shared_landmark_predictor", counted)
    dub = DubTrack(read_audio(grid_dir / "lwbsza.mpg"), source="manual")
    full = tmp_path / "full.npz"
    track.save(full)
    backend.sync(dataclasses.replace(source, face_track=str(full)), dub, tmp_path / "a.mp4",
                 _silent_progress)
    assert backend.metrics["face_track"] == "precomputed" and loads == []
    # a track shorter than the decoded video: the loop tracks the rest itself
    short = tmp_path / "short.npz"
    FaceTrack(track.settings, track.boxes[:30], track.landmarks[:30], track.detections).save(short)
    backend.sync(dataclasses.replace(source, face_track=str(short)), dub, tmp_path / "b.mp4",
                 _silent_progress)
    assert loads == [1] and backend.metrics["face_frames"] == 36  # 40 frames, 4 blank


def test_a_track_made_with_other_settings_is_not_used(clip: Path, grid_clip: Path,
                                                      tmp_path: Path) -> None:
    source = video_ref(clip)
    other = FaceSettings(detect_every=3)
    faces = tmp_path / "faces.npz"
    compute_face_track(clip, source.fps, source.width, source.height, other).save(faces)
    backend = VisemeLipSync()
    backend.sync(dataclasses.replace(source, face_track=str(faces)),
                 DubTrack(read_audio(grid_clip)), tmp_path / "out.mp4", _silent_progress)
    assert backend.metrics["face_track"] == "in the loop"


def test_a_failed_child_falls_back_to_computing_here(clip: Path, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    source = video_ref(clip)
    broken = dataclasses.replace(source, path=str(tmp_path / "missing.mp4"))
    ahead = FaceTrackAhead(Cache(tmp_path / "cache"), broken, "key", FaceSettings())
    assert ahead.job is not None
    ahead.video = source  # the child has the missing path; this process reads the real one
    entry = tmp_path / "entry"
    entry.mkdir()
    with caplog.at_level(logging.WARNING, logger="f2f.face_track"):
        path = ahead.compute(entry)
    assert "face track process failed" in caplog.text
    track = FaceTrack.load(path)
    assert len(track) == 40 and track.at(5)[0] is not None
    assert not list((tmp_path / "cache").rglob("*.npz"))  # the child's scratch file is gone
