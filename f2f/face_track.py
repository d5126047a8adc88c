"""The face track of a source video: per frame, the tracked face box and its smoothed landmarks.

Lip sync needs both for every frame, and on 2 cores dlib's detector and landmark predictor
(which hold the GIL) cost about as much as the rendering itself. The track depends only on the
source video, so the graph computes it in a separate process while ASR, MT, TTS and VC run
(`FaceTrackJob`), and the lip-sync loop reads it, when its settings are the loop's own,
instead of computing it again. `FaceFollower` is the one per-frame rule both paths use, so a
precomputed track equals what the loop would have computed.

    python -m f2f.face_track VIDEO OUT.npz --fps 25 --size 1280x720 --settings '{...}'
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from f2f.artifacts import VideoRef
from f2f.cache import Cache, make_key
from f2f.faces import (
    FaceBox,
    FaceDetector,
    FaceTracker,
    LandmarkPredictor,
    shared_landmark_predictor,
)

log = logging.getLogger(__name__)

VERSION = 1  # part of the cache key: bump when the tracking rule changes its output
# Frames between full-frame face searches while a face is tracked (FaceTracker.full_every;
# None: every detection searches the whole frame). Off: the region search's boxes differ from
# the whole frame's as much as a 1% change of detection scale does (mean IoU on the demo 0.91
# with 10, 0.88 with 25), and the renderer's choices follow the landmarks so closely that any
# such change moves its output (on the demo 12 or 7 reference changes instead of 5, a mouth
# one frame early out of a pause), for ~0.5 CPU-s of detection saved there.
FULL_FRAME_EVERY: int | None = None


@dataclass(frozen=True)
class FaceSettings:
    """What a lip-sync backend's loop would track: the same settings give the same track."""

    detector: str = "auto"
    detect_every: int = 5
    face_index: int = 0
    landmarks: bool = True
    smoothing: float = 0.5  # weight of the current frame's landmarks (1 = no smoothing)

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "version": VERSION}


class FaceFollower:
    """Frame by frame: the tracked face (FaceTracker) and its landmarks, averaged with the
    previous frame's within a track and restarted on cuts or when the face is re-found."""

    def __init__(self, settings: FaceSettings, predictor: LandmarkPredictor | None) -> None:
        self.settings = settings
        self.predictor = predictor if settings.landmarks else None
        self._tracker: FaceTracker | None = None  # made on first use: a fixed box needs none
        self._previous: np.ndarray | None = None

    @property
    def detections(self) -> int:
        return self._tracker.detections if self._tracker is not None else 0

    def step(self, frame: np.ndarray) -> tuple[FaceBox | None, np.ndarray | None]:
        if self._tracker is None:
            self._tracker = FaceTracker(FaceDetector(self.settings.detector),
                                        self.settings.detect_every, self.settings.face_index,
                                        full_every=FULL_FRAME_EVERY)
        box = self._tracker.update(frame)
        return box, self.landmarks(frame, box, self._tracker.restarted)

    def landmarks(self, frame: np.ndarray, box: FaceBox | None,
                  restarted: bool) -> np.ndarray | None:
        """Landmarks of `box` (None without a box or a predictor), smoothed unless restarted."""
        landmarks = None
        if box is not None and self.predictor is not None:
            landmarks = self.predictor.predict(frame, box)
            if self._previous is not None and not restarted:
                weight = self.settings.smoothing
                landmarks = weight * landmarks + (1.0 - weight) * self._previous
        self._previous = landmarks
        return landmarks


@dataclass(frozen=True, eq=False)
class FaceTrack:
    """(N, 5) boxes (x0, y0, x1, y1, score; x0 = -1 where no face) and (N, 68, 2) landmarks
    (NaN where none) of the N source frames, with the settings that made them."""

    settings: FaceSettings
    boxes: np.ndarray
    landmarks: np.ndarray
    detections: int

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def at(self, index: int) -> tuple[FaceBox | None, np.ndarray | None]:
        row = self.boxes[index]
        if row[0] < 0:
            return None, None
        box = FaceBox(int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[4]))
        points = self.landmarks[index]
        return box, None if np.isnan(points).any() else points.astype(np.float32)

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:  # a file object: np.savez would append ".npz"
            np.savez(handle, boxes=self.boxes, landmarks=self.landmarks,
                     detections=np.array(self.detections),
                     settings=np.array(json.dumps(asdict(self.settings))))

    @classmethod
    def load(cls, path: Path) -> FaceTrack:
        with np.load(path, allow_pickle=False) as data:
            settings = FaceSettings(**json.loads(str(data["settings"])))
            return cls(settings, data["boxes"], data["landmarks"], int(data["detections"]))


def compute_face_track(video: str | Path, fps: float, width: int, height: int,
                       settings: FaceSettings) -> FaceTrack:
    """Decodes `video` as the lip-sync loop does and follows the face through every frame."""
    from f2f.media import iter_frames

    predictor = shared_landmark_predictor() if settings.landmarks else None
    follower = FaceFollower(settings, predictor)
    boxes: list[list[float]] = []
    points: list[np.ndarray] = []
    for frame in iter_frames(video, fps, width, height):
        box, landmarks = follower.step(frame)
        boxes.append([-1, -1, -1, -1, 0.0] if box is None else
                     [box.x0, box.y0, box.x1, box.y1, box.score])
        points.append(np.full((68, 2), np.nan, np.float32) if landmarks is None
                      else np.asarray(landmarks, np.float32))
    return FaceTrack(settings, np.array(boxes, np.float64).reshape(-1, 5),
                     np.array(points, np.float32).reshape(-1, 68, 2), follower.detections)


class FaceTrackJob:
    """`compute_face_track` in a child process writing `out`; `wait()` gives the track, or None
    (logged) when the child failed, so the loop computes the faces itself: slower, never lost."""

    def __init__(self, video: str | Path, fps: float, width: int, height: int,
                 settings: FaceSettings, out: Path) -> None:
        self.out, self.settings = out, settings
        root = str(Path(__file__).resolve().parent.parent)  # f2f's own import root
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
        self._stderr = out.with_suffix(".log")
        with self._stderr.open("wb") as err:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "f2f.face_track", str(video), str(out), "--fps", repr(fps),
                 "--size", f"{width}x{height}", "--settings", json.dumps(asdict(settings))],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env)

    def wait(self) -> FaceTrack | None:
        code = self._proc.wait()
        try:
            if code == 0:
                return FaceTrack.load(self.out)
            tail = self._stderr.read_text(errors="replace").strip().splitlines()[-1:]
            log.warning("face track process failed (exit %s: %s); lip sync tracks the faces "
                        "itself", code, tail[0] if tail else "no message")
        except (OSError, ValueError, KeyError) as exc:
            log.warning("face track unreadable (%s); lip sync tracks the faces itself", exc)
        finally:
            self._stderr.unlink(missing_ok=True)
        return None

    def cancel(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._stderr.unlink(missing_ok=True)


class FaceTrackAhead:
    """The graph's side: starts the job unless the cache has the track, and later turns it into
    a cache entry (`compute`), computing it in this process if the child failed."""

    FILE = "faces.npz"

    def __init__(self, cache: Cache, video: VideoRef, video_key: str,
                 settings: FaceSettings) -> None:
        self.video, self.settings = video, settings
        self.key = make_key(step="face_track", video=video_key, fps=video.fps,
                            **settings.to_dict())
        self.job: FaceTrackJob | None = None
        if cache.lookup("face_track", self.key) is None:
            out = cache.scratch("face_track") / f"{self.key}.{os.getpid()}.npz"
            self.job = FaceTrackJob(video.path, video.fps, video.width, video.height, settings,
                                    out)

    def compute(self, tmp: Path) -> Path:
        track = self.job.wait() if self.job is not None else None
        if self.job is not None:
            self.job.out.unlink(missing_ok=True)
        if track is None:
            video = self.video
            track = compute_face_track(video.path, video.fps, video.width, video.height,
                                       self.settings)
        track.save(tmp / self.FILE)
        return tmp / self.FILE

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.out.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m f2f.face_track", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video")
    parser.add_argument("out", type=Path)
    parser.add_argument("--fps", type=float, required=True)
    parser.add_argument("--size", required=True, help="WIDTHxHEIGHT as probed")
    parser.add_argument("--settings", default="{}", help="FaceSettings as JSON")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    track = compute_face_track(args.video, args.fps, width, height,
                               FaceSettings(**json.loads(args.settings)))
    if len(track) == 0:
        print(f"no frames could be decoded from {args.video}", file=sys.stderr)
        return 1
    partial = args.out.with_name(args.out.name + ".partial")
    track.save(partial)
    partial.replace(args.out)  # the reader never sees half a file
    return 0


if __name__ == "__main__":
    sys.exit(main())
