"""Geometry of dlib's 68 face landmarks: index groups, the face's own frame of reference
(eye line, unit = inter-ocular distance) and mouth measures in it. Numpy only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# 68-point landmark index groups (iBUG 300-W numbering, 0-based)
JAW = slice(0, 17)
NOSE_TIP = 33
RIGHT_EYE = slice(36, 42)  # the subject's right eye: left side of the image
LEFT_EYE = slice(42, 48)
OUTER_LIPS = slice(48, 60)
INNER_LIPS = slice(60, 68)


def interocular(landmarks: np.ndarray) -> float:
    """Distance between the eye centres: the face's scale in pixels."""
    left = landmarks[LEFT_EYE].mean(axis=0)
    right = landmarks[RIGHT_EYE].mean(axis=0)
    return float(np.linalg.norm(left - right)) + 1e-6


def mouth_opening(landmarks: np.ndarray) -> float:
    """Inner-lip gap (mean of the three vertical pairs) divided by the inter-ocular distance."""
    pairs = ((61, 67), (62, 66), (63, 65))
    gap = np.mean([np.linalg.norm(landmarks[a] - landmarks[b]) for a, b in pairs])
    return float(gap) / interocular(landmarks)


MOUTH = slice(48, 68)  # the 20 mouth points: outer lips then inner lips
INNER_GAP_PAIRS = ((61, 67), (62, 66), (63, 65))  # upper / lower inner-lip points, left to right


@dataclass(frozen=True)
class FaceFrameOfReference:
    """The face's own axes: origin between the eye centres, x along the eye line (image left to
    right), y down the face, unit = the inter-ocular distance. Mouth shapes compared in these
    units are free of head position, roll and size."""

    origin: np.ndarray  # (2,) pixels
    across: np.ndarray  # (2,) unit vector
    down: np.ndarray  # (2,) unit vector
    scale: float  # pixels per inter-ocular distance

    @classmethod
    def of(cls, landmarks: np.ndarray) -> FaceFrameOfReference:
        right = landmarks[RIGHT_EYE].mean(axis=0).astype(np.float64)
        left = landmarks[LEFT_EYE].mean(axis=0).astype(np.float64)
        axis = left - right
        scale = float(np.linalg.norm(axis)) + 1e-6
        across = axis / scale
        return cls((left + right) / 2.0, across, np.array([-across[1], across[0]]), scale)

    def to_face(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) pixels -> (N, 2) face units."""
        rel = np.asarray(points, np.float64) - self.origin
        return np.stack([rel @ self.across, rel @ self.down], axis=-1) / self.scale

    def to_pixels(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) face units -> (N, 2) pixels."""
        pts = np.asarray(points, np.float64) * self.scale
        return self.origin + pts[..., :1] * self.across + pts[..., 1:] * self.down


def normalized_mouth(landmarks: np.ndarray) -> np.ndarray:
    """The 20 mouth points (48-67) in face units (see FaceFrameOfReference): (20, 2)."""
    return FaceFrameOfReference.of(landmarks).to_face(landmarks[MOUTH])


def inner_gap(landmarks: np.ndarray) -> float:
    """Signed inner-lip gap along the face's down axis, in inter-ocular distances (0 = closed)."""
    ref = FaceFrameOfReference.of(landmarks)
    return float(np.mean([(landmarks[b] - landmarks[a]) @ ref.down
                          for a, b in INNER_GAP_PAIRS])) / ref.scale
