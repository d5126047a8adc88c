"""A closed target collapses the reference's opening into slivers: they must neither win the
pixels of the lips' meeting line (their affines scatter those pixels over the whole opening:
demo frame 210 showed a line of bright and dark specks between closed lips) nor count as a
fold that holds the whole mouth back open."""

from __future__ import annotations

import numpy as np

from stages.lipsync._mouth_render import sliver_fold
from stages.lipsync._mouth_warp import folds, triangle_map


def test_a_collapsed_triangle_never_owns_the_line_its_neighbour_covers() -> None:
    # an upper-lip triangle mapped onto itself, and below its edge (y = 20.3) a sliver whose
    # source is a wide opening reaching y = 40: listed last, it would win the shared pixels
    dst = np.array([[10.0, 20.3], [50.0, 20.3], [30.0, 5.0], [30.0, 20.32]])
    src = np.array([[10.0, 20.3], [50.0, 20.3], [30.0, 5.0], [30.0, 40.0]])
    triangles = np.array([[0, 1, 2], [0, 1, 3]], np.int32)
    map_x, map_y, covered = triangle_map((48, 64), dst, src, triangles)
    row = slice(15, 46)
    assert covered[20, row].min() == 1.0  # the meeting line is rendered ...
    # ... from the lip above it, as it is, not from far inside the opening
    np.testing.assert_allclose(map_y[20, row], 20.0, atol=0.01)
    np.testing.assert_allclose(map_x[20, row], np.arange(15, 46), atol=0.01)


def test_a_sliver_turned_over_at_a_mouth_corner_is_not_a_fold() -> None:
    scale = 130.0  # pixels per inter-ocular distance, as on the demo
    src = np.array([[0.0, 0.0], [40.0, 0.0], [20.0, 10.0]])
    corner = np.array([[0.0, 0.0], [40.0, 0.0], [20.0, -0.2]])  # doubled area -8 px²
    flipped = np.array([[0.0, 0.0], [40.0, 0.0], [20.0, -5.0]])  # -200 px²: a real fold
    triangles = np.array([[0, 1, 2]], np.int32)
    assert folds(corner, src, triangles)  # by the strict rule
    assert not folds(corner, src, triangles, sliver_fold(scale))
    assert folds(flipped, src, triangles, sliver_fold(scale))
    assert sliver_fold(20.0) == 0.5  # a small face: half a pixel, as before
