"""What shows between parted lips: the speaker's own upper teeth where a source frame showed them,
else shaded teeth; below them a depth-shaded, tongue-coloured cavity.

Interior coordinates: u runs 0..1 from mouth corner to mouth corner, d is the depth below the
upper inner lip in inter-ocular distances (teeth hang from the upper lip, so the same patch fits
any opening: a small opening shows their edge, a wide one shows them whole and the cavity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PATCH_U, PATCH_D = 48, 24  # exemplar patch size (samples across, samples down)
DEPTH = 0.24  # face units the exemplar patch reaches below the upper inner lip
MIN_GAP = 0.12  # a source frame must be at least this open to lend its teeth


def _curve(points: np.ndarray, along: np.ndarray, origin: np.ndarray, width: float,
           down: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Down-offset of a lip curve (points ordered corner to corner) at positions u (0..1)."""
    t = ((points - origin) @ along) / max(width, 1e-6)
    dd = (points - origin) @ down
    order = np.argsort(t)
    return np.interp(u, t[order], dd[order])


@dataclass(frozen=True)
class MouthFrame:
    """The interior coordinate system of one mouth (60-67 inner lip points, pixels)."""

    left: np.ndarray
    along: np.ndarray
    down: np.ndarray
    width: float
    scale: float  # pixels per inter-ocular distance
    inner: np.ndarray  # (8, 2)

    @classmethod
    def of(cls, inner: np.ndarray, down: np.ndarray, scale: float) -> MouthFrame:
        left, right = inner[0], inner[4]
        width = float(np.linalg.norm(right - left)) + 1e-6
        return cls(left, (right - left) / width, down, width, scale, inner)

    def coordinates(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
        """(u, d, local gap) for pixel grids xs, ys; d and gap in face units."""
        px = np.stack([xs, ys], axis=-1) - self.left
        u = (px @ self.along) / self.width
        uc = np.clip(u, 0.0, 1.0)
        upper = _curve(self.inner[[0, 1, 2, 3, 4]], self.along, self.left, self.width,
                       self.down, uc.ravel()).reshape(u.shape)
        lower = _curve(self.inner[[0, 7, 6, 5, 4]], self.along, self.left, self.width,
                       self.down, uc.ravel()).reshape(u.shape)
        d = (px @ self.down - upper) / self.scale
        return u, d, (lower - upper) / self.scale


@dataclass(frozen=True)
class TeethExemplar:
    patch: np.ndarray  # (PATCH_D, PATCH_U, 3) float32 RGB, rows = depth below the upper lip
    valid: np.ndarray  # (PATCH_D, PATCH_U) float32, 1 where the source mouth was open
    gap: float  # the source's inner gap, face units
    brightness: float  # of its top rows (teeth are the brightest part)


def capture_teeth(frame: np.ndarray, landmarks: np.ndarray, down: np.ndarray, scale: float,
                  gap: float) -> TeethExemplar | None:
    """Samples an open source mouth's interior into patch coordinates (None if not open)."""
    import cv2

    if gap < MIN_GAP:
        return None
    mouth = MouthFrame.of(landmarks[60:68].astype(np.float64), down, scale)
    u = np.linspace(0.0, 1.0, PATCH_U)
    d = np.linspace(0.0, DEPTH, PATCH_D)
    upper = _curve(mouth.inner[[0, 1, 2, 3, 4]], mouth.along, mouth.left, mouth.width, down, u)
    lower = _curve(mouth.inner[[0, 7, 6, 5, 4]], mouth.along, mouth.left, mouth.width, down, u)
    base = mouth.left + u[:, None] * mouth.width * mouth.along  # (U, 2) on the corner line
    pos = (base[None] + (upper[None, :, None] + d[:, None, None] * scale) * down[None, None])
    patch = cv2.remap(frame, pos[..., 0].astype(np.float32), pos[..., 1].astype(np.float32),
                      cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    # the upper 60% of the opening: upper teeth; below lie the tongue and lower lip
    valid = (d[:, None] * scale < 0.6 * (lower - upper)[None, :]).astype(np.float32)
    valid[:, :PATCH_U // 8] = 0.0  # the corners are mostly lip, not teeth
    valid[:, -(PATCH_U // 8):] = 0.0
    if valid.mean() < 0.2:
        return None
    top = patch[: max(2, PATCH_D // 4), PATCH_U // 4: -PATCH_U // 4]
    return TeethExemplar(patch, valid, gap, float(top.mean()))


def better(candidate: TeethExemplar | None, current: TeethExemplar | None) -> bool:
    """Prefer wider mouths (more of the teeth) up to 0.2, then brighter top rows."""
    if candidate is None:
        return False
    if current is None:
        return True
    def score(e: TeethExemplar) -> float:
        return min(e.gap, 0.2) * 4.0 + e.brightness / 255.0
    return score(candidate) > score(current) + 0.02


def paint_interior(region: np.ndarray, inner: np.ndarray, down: np.ndarray, scale: float,
                   lip_colour: np.ndarray, teeth: TeethExemplar | None) -> None:
    """Paints the interior of the inner-lip polygon `inner` (8, 2), region pixel coordinates,
    into `region` (H, W, 3) uint8 in place."""
    import cv2

    mouth = MouthFrame.of(inner.astype(np.float64), down, scale)
    x0, y0 = np.floor(inner.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(inner.max(axis=0)).astype(int) + 3
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, region.shape[1]), min(y1, region.shape[0])
    if x1 - x0 < 3 or y1 - y0 < 2:
        return
    cavity = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.fillPoly(cavity, [np.round((inner - [x0, y0]) * 4).astype(np.int32)], 1.0,
                 lineType=cv2.LINE_AA, shift=2)
    if cavity.max() <= 0:
        return
    cavity = cv2.GaussianBlur(cavity, (3, 3), 0)[..., None]
    # barely parted lips keep the reference's own dark lip line: a painted slit reads wider
    mean_gap = float(np.mean([(inner[b] - inner[a]) @ down for a, b in ((1, 7), (2, 6), (3, 5))]))
    cavity = cavity * float(np.clip((mean_gap / scale - 0.03) / 0.05, 0.0, 1.0))
    if cavity.max() <= 0:
        return
    xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    u, d, gap = mouth.coordinates(xs, ys)
    uc = np.clip(u, 0.0, 1.0)
    depth_frac = np.clip(d / np.maximum(gap, 1e-3), 0.0, 1.0)
    side = np.abs(2.0 * uc - 1.0)
    # cavity: darkest high in the middle (the throat), warmer and lighter low (the tongue)
    tongue = np.array([0.95, 0.62, 0.62], np.float32) * lip_colour
    light = (0.2 + 0.55 * np.clip(depth_frac - 0.35, 0.0, 1.0) ** 1.5) * (1.0 - 0.35 * side ** 2)
    colour = tongue[None, None] * light[..., None].astype(np.float32)
    opening = float(np.clip(gap.max() / 0.12, 0.0, 1.0))
    colour = colour * (0.55 + 0.45 * opening) + lip_colour * 0.45 * (1.0 - opening) * 0.5
    # teeth hang from the upper lip
    if teeth is not None:
        mx = (uc * (PATCH_U - 1)).astype(np.float32)
        my = (np.clip(d, 0.0, DEPTH) / DEPTH * (PATCH_D - 1)).astype(np.float32)
        sampled = cv2.remap(teeth.patch, mx, my, cv2.INTER_LINEAR)
        weight = cv2.remap(teeth.valid, mx, my, cv2.INTER_LINEAR) * (d <= DEPTH)
        weight = weight * np.clip(1.0 - (d - 0.7 * gap) / np.maximum(0.3 * gap, 1e-3), 0, 1)
    else:
        shade = 0.92 - 0.3 * side ** 2 - 0.25 * np.clip(d / 0.07, 0, 1)
        tooth = np.array([214.0, 206.0, 190.0], np.float32)
        level = float(np.clip(np.sqrt(float(lip_colour.mean()) / 128.0), 0.7, 1.0))
        sampled = tooth[None, None] * (shade * level)[..., None].astype(np.float32)
        edge = np.minimum(0.07, 0.45 * gap)  # the teeth's lower edge, an arc
        arc = edge * (1.0 - (np.clip(side, 0, 1) ** 2) * 0.6)
        weight = np.clip((arc - d) / 0.01, 0.0, 1.0) * (side < 0.8)
    weight = (weight * np.clip((gap - 0.02) / 0.04, 0.0, 1.0))[..., None].astype(np.float32)
    inside = colour * (1.0 - weight) + sampled * weight
    box = region[y0:y1, x0:x1]
    painted = box.astype(np.float32) * (1.0 - cavity) + inside * cavity
    box[:] = np.clip(painted + 0.5, 0, 255).astype(region.dtype)
