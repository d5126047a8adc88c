"""Every face in a video as a track, with how much its mouth moves in each frame.

Built on `f2f.faces` (detector, boxes, scene cuts). Faces are detected every `detect_every`
frames (and on cuts); each detection joins the open track it overlaps most (IoU >= 0.3), else
a lost track it overlaps (the detector missed it a while), else starts a new one; a track not
seen for `max_missed` detections is lost. Between detections a
track keeps its last box. Mouth motion, the signal `f2f.active_speaker` matches to audio: with
a landmark predictor, the frame-to-frame change of the inner-lip gap (over the inter-ocular
distance); without, the mean absolute change of the box's lower half (grey, 32x32), which head
motion and compression noise blur.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from f2f.faces import (
    FaceBox,
    FaceDetector,
    LandmarkPredictor,
    _thumbnail,
    is_scene_cut,
    mouth_opening,
)

MOUTH_SIZE = 32  # mouth crops are compared at this size, whatever the face's size


@dataclass(frozen=True, eq=False)
class FaceTrack:
    """One face over time: (N, 4) int boxes [x0, y0, x1, y1] per frame (-1 where absent) and
    (N,) mouth motion per frame (nan where absent or on the track's first frame)."""

    id: int
    boxes: np.ndarray
    motion: np.ndarray

    def box(self, frame: int) -> FaceBox | None:
        if not 0 <= frame < self.boxes.shape[0] or self.boxes[frame, 0] < 0:
            return None
        return FaceBox(*(int(v) for v in self.boxes[frame]))

    @property
    def present(self) -> np.ndarray:
        return self.boxes[:, 0] >= 0

    @property
    def centre_x(self) -> float:
        boxes = self.boxes[self.present]
        return float((boxes[:, 0] + boxes[:, 2]).mean() / 2) if boxes.size else float("nan")


def mouth_crop(frame_rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    """(MOUTH_SIZE, MOUTH_SIZE) float32 grey lower half of the face box."""
    import cv2

    lower = frame_rgb[box.y0 + box.height // 2:box.y1, box.x0:box.x1]
    grey = cv2.cvtColor(np.ascontiguousarray(lower), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (MOUTH_SIZE, MOUTH_SIZE), interpolation=cv2.INTER_AREA
                      ).astype(np.float32)


class _Open:
    def __init__(self, track_id: int, box: FaceBox) -> None:
        self.id, self.box, self.missed = track_id, box, 0
        self.frames: dict[int, tuple[FaceBox, float]] = {}
        self.previous: np.ndarray | None = None


def track_all_faces(frames: Iterable[np.ndarray], detector: FaceDetector,
                    landmarks: LandmarkPredictor | None = None, detect_every: int = 5,
                    max_missed: int = 2, min_frames: int = 10) -> list[FaceTrack]:
    """All face tracks of at least `min_frames` frames, left to right by mean position."""
    open_tracks: list[_Open] = []
    closed: list[_Open] = []
    thumb = None
    n = 0
    for index, frame in enumerate(frames):
        n = index + 1
        small = _thumbnail(frame)
        cut = is_scene_cut(thumb, small)
        thumb = small
        if cut:
            closed += open_tracks
            open_tracks = []
        if cut or index % detect_every == 0:
            _match(detector.detect(frame), open_tracks, closed, len(open_tracks) + len(closed),
                   max_missed)
        for track in open_tracks:
            if landmarks is not None:
                mouth = np.array([mouth_opening(landmarks.predict(frame, track.box))])
            else:
                mouth = mouth_crop(frame, track.box)
            change = (float(np.abs(mouth - track.previous).mean())
                      if track.previous is not None else float("nan"))
            track.previous = mouth
            track.frames[index] = (track.box, change)
    closed += open_tracks
    tracks = []
    for raw in closed:
        if len(raw.frames) < min_frames:
            continue
        boxes = np.full((n, 4), -1, np.int64)
        motion = np.full(n, np.nan)
        for frame_index, (box, value) in raw.frames.items():
            boxes[frame_index] = (box.x0, box.y0, box.x1, box.y1)
            motion[frame_index] = value
        tracks.append(FaceTrack(0, boxes, motion))
    tracks.sort(key=lambda t: t.centre_x)
    return [FaceTrack(i, t.boxes, t.motion) for i, t in enumerate(tracks)]


def _match(faces: list[FaceBox], open_tracks: list[_Open], closed: list[_Open],
           next_id: int, max_missed: int) -> None:
    """Greedy IoU matching of new detections to open tracks (in place)."""
    pairs = sorted(((t.box.iou(f), ti, fi) for ti, t in enumerate(open_tracks)
                    for fi, f in enumerate(faces)), reverse=True)
    used_tracks: set[int] = set()
    used_faces: set[int] = set()
    for iou, ti, fi in pairs:
        if iou < 0.3 or ti in used_tracks or fi in used_faces:
            continue
        open_tracks[ti].box, open_tracks[ti].missed = faces[fi], 0
        used_tracks.add(ti)
        used_faces.add(fi)
    for ti, track in enumerate(list(open_tracks)):
        if ti not in used_tracks:
            track.missed += 1
    for track in [t for t in open_tracks if t.missed > max_missed]:  # gone
        open_tracks.remove(track)
        closed.append(track)
    for fi, face in enumerate(faces):
        if fi in used_faces:
            continue
        # a face the detector missed for a while comes back where it was: the same track
        lost = max(closed, key=lambda t: t.box.iou(face), default=None)
        if lost is not None and lost.box.iou(face) >= 0.3:
            closed.remove(lost)
            lost.box, lost.missed, lost.previous = face, 0, None
            open_tracks.append(lost)
        else:
            open_tracks.append(_Open(next_id, face))
            next_id += 1
