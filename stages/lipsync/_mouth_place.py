"""Where a mouth render goes in a frame: the similarity that aligns a reference's landmarks
to the frame's, the region box around the lower face and the window of it the mask reaches."""

from __future__ import annotations

import numpy as np


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(2, 3) least-squares similarity (rotation, uniform scale, shift) taking src onto dst."""
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    a = float((s * d).sum())
    b = float((s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum())
    norm = float((s * s).sum()) + 1e-9
    c, si = a / norm, b / norm
    rot = np.array([[c, -si], [si, c]])
    return np.concatenate([rot, (mu_d - rot @ mu_s)[:, None]], axis=1)


def apply(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ affine[:, :2].T + affine[:, 2]


def invert(affine: np.ndarray) -> np.ndarray:
    inv = np.linalg.inv(affine[:, :2])
    return np.concatenate([inv, (-inv @ affine[:, 2])[:, None]], axis=1)


def lower_face_box(landmarks: np.ndarray, scale: float, width: int, height: int
                   ) -> tuple[int, int, int, int]:
    """Pixel box that holds the mouth, the chin at any opening, and the soft mask's edge."""
    pts = landmarks[[*range(2, 15), *range(29, 36), *range(48, 68)]]
    x0, y0 = pts.min(axis=0) - 0.25 * scale
    x1, y1 = pts.max(axis=0) + [0.25 * scale, 0.45 * scale]
    return (int(max(0, np.floor(x0))), int(max(0, np.floor(y0))),
            int(min(width, np.ceil(x1))), int(min(height, np.ceil(y1))))


def ring_box(box: tuple[int, int, int, int], points: np.ndarray, margin: float
             ) -> tuple[float, float, float, float]:
    """The warp's border ring: the region's box, pushed out on any side where `points` come
    closer to it than `margin` (only where the frame cut the box, in practice)."""
    x0, y0, x1, y1 = box
    low, high = points.min(axis=0) - margin, points.max(axis=0) + margin
    return (min(x0, low[0]), min(y0, low[1]), max(x1, high[0]), max(y1, high[1]))


def mask_window(mask: np.ndarray, lips: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the region that holds every pixel `mask` reaches and the lip points
    the lip colour is sampled at."""
    height, width = mask.shape
    rows = np.flatnonzero(mask.max(axis=1) > 0)
    cols = np.flatnonzero(mask.max(axis=0) > 0)
    if rows.size == 0:
        return 0, 0, width, height
    low = np.clip(lips.min(axis=0).astype(int), 0, None)
    high = lips.max(axis=0).astype(int) + 1
    return (int(min(cols[0], low[0])), int(min(rows[0], low[1])),
            int(min(max(cols[-1] + 1, high[0]), width)),
            int(min(max(rows[-1] + 1, high[1]), height)))
