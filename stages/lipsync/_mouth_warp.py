"""Piecewise-affine image warps on landmark triangulations, as one dense remap.

Every output pixel belongs to one triangle of the target points and samples the source image
through that triangle's affine map, so the warp is exact at every landmark, continuous, and can
never fold (a triangle maps onto a triangle). Triangles that collapse in the target (closed lips)
simply get no pixels: what was between the lips is cut out, not squeezed.
"""

from __future__ import annotations

import numpy as np


def triangulate(points: np.ndarray) -> np.ndarray:
    """(T, 3) vertex indices of a Delaunay triangulation of (N, 2) points; none (T = 0) for
    degenerate input (e.g. landmarks collapsed on a line), which leaves the frame unchanged."""
    from scipy.spatial import Delaunay, QhullError

    try:
        return Delaunay(np.asarray(points, np.float64)).simplices.astype(np.int32)
    except (QhullError, ValueError):
        return np.zeros((0, 3), np.int32)


def _affines(dst: np.ndarray, src: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(T, 2, 3) affine maps taking each dst triangle onto its src triangle (zero if the dst
    triangle is degenerate: it owns no pixels)."""
    d = dst[triangles]  # (T, 3, 2)
    s = src[triangles]
    ones = np.ones((len(triangles), 3, 1))
    dh = np.concatenate([d, ones], axis=2)  # (T, 3, 3): rows [x, y, 1]
    det = np.linalg.det(dh)
    ok = np.abs(det) > 1e-6
    out = np.zeros((len(triangles), 2, 3))
    if ok.any():
        # solve dh @ M = s for M (3, 2); the affine is M.T
        out[ok] = np.transpose(np.linalg.solve(dh[ok], s[ok]), (0, 2, 1))
    return out


def signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = points[triangles[:, 0]], points[triangles[:, 1]], points[triangles[:, 2]]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def folds(dst: np.ndarray, src: np.ndarray, triangles: np.ndarray,
          sliver: float = 0.5) -> bool:
    """Whether the mesh turns over anywhere: a triangle whose orientation differs from the
    triangulation's (positive) one in the target or the source, by more than `sliver` square
    pixels of (doubled) area. Collapsed ones are fine."""
    return bool((signed_areas(dst, triangles) < -sliver).any()
                or (signed_areas(src, triangles) < -sliver).any())


def triangle_map(shape: tuple[int, int], dst: np.ndarray, src: np.ndarray,
                 triangles: np.ndarray, window: tuple[int, int, int, int] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward maps (map_x, map_y) of `shape` (H, W) for cv2.remap, and the (H, W) float32
    mask of pixels covered by some triangle. `dst` are target points in output pixel
    coordinates, `src` the same points in source pixel coordinates. `window` (x0, y0, x1, y1):
    only that part of the output, exactly as it is in the whole (pixels outside it are not
    wanted: the work grows with the area)."""
    import cv2

    height, width = shape
    wx0, wy0, wx1, wy1 = window if window is not None else (0, 0, width, height)
    # which triangle owns each pixel (0: none, t + 1: triangle t); a mesh has at most 255, so
    # one byte each, and cv2.LUT spreads their coefficients (as fast as a byte copy)
    small = len(triangles) < 256
    owner = np.zeros((height, width), np.uint8 if small else np.int32)
    # rasterise triangle ids (over the whole shape: clipped to a window, the edges' pixels
    # come out a little differently), smallest first: later triangles win on shared edges,
    # and a sliver (a collapsed cavity triangle of closed lips) must not, as its affine
    # scatters the line of pixels it would own over the whole opening it collapsed (bright
    # and dark specks between closed lips), or to the crop's corner where it is degenerate
    fixed = np.round(dst * 16).astype(np.int32)
    for t in np.argsort(np.abs(signed_areas(dst, triangles)), kind="stable"):
        cv2.fillConvexPoly(owner, fixed[triangles[t]], int(t) + 1, lineType=cv2.LINE_8,
                           shift=4)
    owner = owner[wy0:wy1, wx0:wx1]
    affines = np.zeros((6, 256 if small else len(triangles) + 1), np.float32)
    affines[:, 0] = (1, 0, 0, 0, 1, 0)  # uncovered pixels map to themselves
    affines[:, 1:len(triangles) + 1] = _affines(dst, src, triangles).reshape(-1, 6).T
    c = [cv2.LUT(owner, row) if small else np.take(row, owner) for row in affines]
    xs = np.arange(wx0, wx1, dtype=np.float32)[None, :]
    ys = np.arange(wy0, wy1, dtype=np.float32)[:, None]
    map_x = c[0] * xs
    map_x += c[1] * ys
    map_x += c[2]
    map_y = c[3] * xs
    map_y += c[4] * ys
    map_y += c[5]
    return map_x, map_y, (owner > 0).astype(np.float32)
