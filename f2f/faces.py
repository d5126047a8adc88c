"""Faces in video frames: detection, 68-point landmarks, tracking with smoothing, crops.

Detection is dlib's HOG detector (the LipGAN paper uses dlib) with OpenCV's Haar cascade as a
fallback; landmarks are dlib's 68-point shape predictor whose model file ships in the PyPI package
`face-recognition-models` (located on disk, never imported: its import needs `pkg_resources`).
All frames are RGB uint8 (H, W, 3). Boxes are integer pixels with exclusive ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from f2f.errors import ConfigError, MissingDependencyError
from f2f.face_detectors import load_dlib_detector, load_haar, load_s3fd
# the landmark geometry lives in f2f.face_geometry (names kept importable from here)
from f2f.face_geometry import (
    INNER_GAP_PAIRS as INNER_GAP_PAIRS,
    INNER_LIPS as INNER_LIPS,
    JAW as JAW,
    LEFT_EYE as LEFT_EYE,
    MOUTH as MOUTH,
    NOSE_TIP as NOSE_TIP,
    OUTER_LIPS as OUTER_LIPS,
    RIGHT_EYE as RIGHT_EYE,
    FaceFrameOfReference as FaceFrameOfReference,
    inner_gap as inner_gap,
    interocular as interocular,
    mouth_opening as mouth_opening,
    normalized_mouth as normalized_mouth,
)
from f2f.weights import WeightsSpec, resolve

log = logging.getLogger(__name__)

DETECTOR_BACKENDS = ("auto", "dlib", "haar", "face-alignment")
# detection near a known face (FaceDetector.detect_near): the region around it, and the smallest
# size the face is shrunk to there (dlib's HOG window is 80 px; a face moving away still fits)
NEAR_MARGIN = 0.35
NEAR_FACE_PX = 100.0
TRACK_IOU = 0.3  # a detection overlapping the tracked box this much is the same face

LANDMARKS_68 = WeightsSpec(
    name="dlib-68-landmarks",
    filenames=("shape_predictor_68_face_landmarks.dat",),
    package=("face_recognition_models", "models/shape_predictor_68_face_landmarks.dat"),
    how_to_get="pip install face-recognition-models (it ships the dlib 68-point model), or put "
               "shape_predictor_68_face_landmarks.dat into $F2F_HOME/weights/",
)


@dataclass(frozen=True)
class FaceBox:
    """A face rectangle in pixels: x0 <= x < x1, y0 <= y < y1."""

    x0: int
    y0: int
    x1: int
    y1: int
    score: float = 1.0

    def __post_init__(self) -> None:
        if self.x1 <= self.x0 or self.y1 <= self.y0:
            raise ValueError(f"empty FaceBox {self}")

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def area(self) -> int:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)

    def iou(self, other: FaceBox) -> float:
        ix = max(0, min(self.x1, other.x1) - max(self.x0, other.x0))
        iy = max(0, min(self.y1, other.y1) - max(self.y0, other.y0))
        inter = ix * iy
        return inter / float(self.area + other.area - inter) if inter else 0.0

    def clipped(self, width: int, height: int) -> FaceBox | None:
        """The part inside a width x height frame, or None when nothing is left."""
        x0, y0 = max(0, self.x0), max(0, self.y0)
        x1, y1 = min(width, self.x1), min(height, self.y1)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        return FaceBox(x0, y0, x1, y1, self.score)

    def padded(self, top: float, bottom: float, left: float, right: float) -> FaceBox:
        """Grown by fractions of its own size (negative values shrink)."""
        w, h = self.width, self.height
        return FaceBox(int(round(self.x0 - left * w)), int(round(self.y0 - top * h)),
                       int(round(self.x1 + right * w)), int(round(self.y1 + bottom * h)),
                       self.score)

    def crop(self, frame: np.ndarray) -> np.ndarray:
        return frame[self.y0:self.y1, self.x0:self.x1]


# ------------------------------------------------------------------------------------ detection


class FaceDetector:
    """Finds frontal faces; `.detect(frame)` returns boxes sorted largest first.

    `backend`: "dlib" (HOG), "haar" (OpenCV cascade), "auto" (dlib, and the cascade when dlib
    is missing or finds nothing) or "face-alignment" (its S3FD detector: better on small and
    turned faces; needs the `face-alignment` package and its weights in the torch hub cache).
    Frames are shrunk to at most `max_side` pixels before detection (HOG cost grows with area;
    faces in talking-head video are large).
    """

    def __init__(self, backend: str = "auto", max_side: int = 640, min_face_px: int = 40) -> None:
        if backend not in DETECTOR_BACKENDS:
            raise ConfigError(f"unknown face detector {backend!r}; choose one of: "
                              f"{', '.join(DETECTOR_BACKENDS)}")
        self.backend = backend
        self.max_side = max_side
        self.min_face_px = min_face_px
        self._dlib: Any = None
        self._haar: Any = None
        self._s3fd: Any = None
        if backend == "face-alignment":
            self._s3fd = load_s3fd()
            log.info("face detector: face-alignment S3FD")
            return
        if backend in ("auto", "dlib"):
            try:
                import dlib

                self._dlib = load_dlib_detector(dlib)
            except ImportError as exc:
                if backend == "dlib":
                    raise MissingDependencyError(
                        "face detector 'dlib' needs dlib: pip install dlib-bin") from exc
                log.warning("dlib is not installed; using the OpenCV Haar cascade for faces")
        if backend == "haar" or self._dlib is None:
            self._haar = load_haar()
        log.info("face detector: %s", "dlib HOG" if self._dlib is not None else "OpenCV Haar")

    def detect(self, frame_rgb: np.ndarray) -> list[FaceBox]:
        height, width = frame_rgb.shape[:2]
        return self._detect(frame_rgb, self._full_scale(width, height), width, height)

    def detect_near(self, frame_rgb: np.ndarray, box: FaceBox, margin: float = NEAR_MARGIN
                    ) -> list[FaceBox]:
        """Faces in the region around a known face `box` (grown by `margin` of its size on
        every side), at the full-frame detection's scale shrunk by whole steps of dlib's
        pyramid (5/6) while the face stays over NEAR_FACE_PX: the box sizes HOG can give are
        then the full frame's. A few times cheaper than `detect`, and blind outside the region
        (the caller's full-frame passes find faces there)."""
        height, width = frame_rgb.shape[:2]
        scale = self._full_scale(width, height)
        steps = np.log(max(box.width, box.height) * scale / NEAR_FACE_PX) / np.log(6 / 5)
        scale *= (5 / 6) ** max(0, int(np.floor(steps)))
        region = box.padded(margin, margin, margin, margin).clipped(width, height)
        if region is None:
            return []
        return self._detect(region.crop(frame_rgb), scale, width, height, region.x0, region.y0)

    def _full_scale(self, width: int, height: int) -> float:
        return min(1.0, self.max_side / float(max(height, width)))

    def _detect(self, image: np.ndarray, scale: float, width: int, height: int, dx: int = 0,
                dy: int = 0) -> list[FaceBox]:
        """Faces in `image` (the frame, or its region at (dx, dy)) detected at `scale`, in the
        width x height frame's pixels."""
        import cv2

        rows, cols = image.shape[:2]
        small = image if scale == 1.0 else cv2.resize(
            image, (max(1, int(cols * scale)), max(1, int(rows * scale))),
            interpolation=cv2.INTER_AREA)
        boxes: list[FaceBox] = []
        if self._s3fd is not None:
            found = self._s3fd.detect_from_image(np.ascontiguousarray(small)) or []
            boxes = [_scaled_box(d[0], d[1], d[2], d[3], float(d[4]) if len(d) > 4 else 1.0, scale)
                     for d in found]
        if self._dlib is not None:
            rects, scores, _ = self._dlib.run(np.ascontiguousarray(small), 0, 0.0)
            boxes = [_scaled_box(r.left(), r.top(), r.right() + 1, r.bottom() + 1, float(s), scale)
                     for r, s in zip(rects, scores, strict=True)]
        if not boxes and (self._haar is not None or self.backend == "auto"):
            if self._haar is None:
                self._haar = load_haar()
            gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
            min_px = max(8, int(self.min_face_px * scale))
            found = self._haar.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                                minSize=(min_px, min_px))
            boxes = [_scaled_box(x, y, x + w, y + h, 1.0, scale) for (x, y, w, h) in found]
        if dx or dy:
            boxes = [FaceBox(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy, b.score) for b in boxes]
        clipped = [b.clipped(width, height) for b in boxes]
        faces = [b for b in clipped if b is not None and min(b.width, b.height) >= 8]
        return sorted(faces, key=lambda b: b.area, reverse=True)


def _scaled_box(x0: float, y0: float, x1: float, y1: float, score: float,
                scale: float) -> FaceBox:
    return FaceBox(int(round(x0 / scale)), int(round(y0 / scale)),
                   int(round(x1 / scale)), int(round(y1 / scale)), score)


# ------------------------------------------------------------------------------------ landmarks


class LandmarkPredictor:
    """dlib's 68-point shape predictor; `.predict(frame, box)` -> (68, 2) float32 (x, y)."""

    def __init__(self, model_path: str | None = None) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise MissingDependencyError(
                "face landmarks need dlib: pip install dlib-bin face-recognition-models") from exc
        path = resolve(LANDMARKS_68, model_path)
        log.info("face landmarks: dlib 68-point model %s", path)
        self._dlib = dlib
        self._predictor = dlib.shape_predictor(str(path))

    def predict(self, frame_rgb: np.ndarray, box: FaceBox) -> np.ndarray:
        rect = self._dlib.rectangle(box.x0, box.y0, box.x1 - 1, box.y1 - 1)
        shape = self._predictor(np.ascontiguousarray(frame_rgb), rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)  # (68, 2)


_SHARED_LOCK = threading.Lock()
_shared: LandmarkPredictor | None = None


def shared_landmark_predictor() -> LandmarkPredictor:
    """One default predictor per process (its 100 MB model takes ~1 s to load), so a stage's
    warm-up can load it while earlier stages run; predicting holds the GIL, one user at a time."""
    global _shared
    with _SHARED_LOCK:
        if _shared is None:
            _shared = LandmarkPredictor()
        return _shared


# ------------------------------------------------------------------------------------ tracking


def is_scene_cut(previous: np.ndarray | None, current: np.ndarray, threshold: float = 30.0
                 ) -> bool:
    """A hard cut: mean absolute difference of 32x32 grey thumbnails above `threshold` (0..255)."""
    if previous is None:
        return True
    return float(np.abs(previous.astype(np.int16) - current.astype(np.int16)).mean()) > threshold


def _thumbnail(frame_rgb: np.ndarray) -> np.ndarray:
    import cv2

    # a strided view first (every 5th pixel at 720p): a cut changes the whole picture, and this
    # runs on every frame
    step = max(1, min(frame_rgb.shape[:2]) // 128)
    small = cv2.resize(np.ascontiguousarray(frame_rgb[::step, ::step]), (32, 32),
                       interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


class FaceTracker:
    """Streaming face track: detects every `detect_every` frames and on scene cuts, keeps the
    chosen face by overlap in between, and smooths the box with an exponential average.

    `face_index` picks among faces sorted largest first when a track (re)starts. A frame where the
    detector finds no face yields None, and the next frame is detected again.
    `full_every` (frames; None: always): while a face is tracked, the detections in between
    look only around it (FaceDetector.detect_near, a few times cheaper) and the whole frame is
    searched at most this many frames apart (on cuts, when the track is lost, and when the
    region holds no face overlapping the track, at once), so a face that appears elsewhere or a
    larger one is found within that many frames.
    """

    def __init__(self, detector: FaceDetector, detect_every: int = 5, face_index: int = 0,
                 smoothing: float = 0.6, full_every: int | None = None) -> None:
        if detect_every < 1:
            raise ConfigError(f"detect_every must be >= 1, got {detect_every}")
        if face_index < 0:
            raise ConfigError(f"face_index must be >= 0, got {face_index}")
        if full_every is not None and full_every < 1:
            raise ConfigError(f"full_every must be >= 1 or None, got {full_every}")
        self.detector = detector
        self.detect_every = detect_every
        self.face_index = face_index
        self.smoothing = smoothing  # weight of the new detection (1 = no smoothing)
        self.full_every = full_every
        self._box: np.ndarray | None = None  # smoothed (x0, y0, x1, y1) float
        self._score = 0.0
        self._since_detect = 0
        self._since_full = 0  # frames since the last full-frame detection
        self._thumb: np.ndarray | None = None
        self.detections = 0  # how many frames ran the detector (for reports)
        self.full_detections = 0  # of which searched the whole frame
        self.restarted = True  # the last update began a new track (cut or face re-found)

    def update(self, frame_rgb: np.ndarray) -> FaceBox | None:
        height, width = frame_rgb.shape[:2]
        thumb = _thumbnail(frame_rgb)
        cut = is_scene_cut(self._thumb, thumb)
        self._thumb = thumb
        self.restarted = cut or self._box is None
        self._since_full += 1
        due = self._box is None or cut or self._since_detect >= self.detect_every - 1
        if not due:
            self._since_detect += 1
            return self._current(width, height)
        self._since_detect = 0
        self.detections += 1
        faces = self._detect(frame_rgb, restart=cut or self._box is None)
        chosen = self._choose(faces, restart=cut or self._box is None)
        if chosen is None:
            self._box = None
            return None
        new = np.array([chosen.x0, chosen.y0, chosen.x1, chosen.y1], dtype=np.float64)
        if self._box is None or cut:
            self._box = new
        else:
            self._box = self.smoothing * new + (1.0 - self.smoothing) * self._box
        self._score = chosen.score
        return self._current(width, height)

    def _detect(self, frame_rgb: np.ndarray, restart: bool) -> list[FaceBox]:
        """Around the tracked face while a full-frame pass is not due and that finds it; else
        in the whole frame."""
        current = None if restart or self._box is None else self._rounded()
        if (current is not None and self.full_every is not None
                and self._since_full < self.full_every):
            near = self.detector.detect_near(frame_rgb, current)
            if any(current.iou(face) >= TRACK_IOU for face in near):
                return near
        self._since_full = 0
        self.full_detections += 1
        return self.detector.detect(frame_rgb)

    def _rounded(self) -> FaceBox | None:
        assert self._box is not None
        x0, y0, x1, y1 = (int(round(v)) for v in self._box)
        return FaceBox(x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def _choose(self, faces: list[FaceBox], restart: bool) -> FaceBox | None:
        if not faces:
            return None
        if not restart and self._box is not None:
            current = FaceBox(*(int(round(v)) for v in self._box))
            best = max(faces, key=current.iou)
            if current.iou(best) >= TRACK_IOU:
                return best
        if self.face_index >= len(faces):
            return None  # the requested face is not in view
        return faces[self.face_index]

    def _current(self, width: int, height: int) -> FaceBox | None:
        if self._box is None:
            return None
        x0, y0, x1, y1 = (int(round(v)) for v in self._box)
        if x1 <= x0 or y1 <= y0:
            return None
        return FaceBox(x0, y0, x1, y1, self._score).clipped(width, height)


def track_faces(frames: Iterable[np.ndarray], detector: FaceDetector, detect_every: int = 5,
                face_index: int = 0) -> Iterator[FaceBox | None]:
    """One smoothed face box (or None) per frame, streaming; see FaceTracker."""
    tracker = FaceTracker(detector, detect_every=detect_every, face_index=face_index)
    for frame in frames:
        yield tracker.update(frame)
