"""The renderer's shortcuts give what the long way gives: the warp of a window of the region is
that window of the whole warp, and the speaker's rest opening follows every new frame."""

from __future__ import annotations

import numpy as np

from stages.lipsync._mouth_motion import MouthMotion
from stages.lipsync._mouth_range import MAX_REST, SpeakerRange
from stages.lipsync._mouth_warp import triangle_map, triangulate


def test_a_window_of_the_triangle_map_is_that_window_of_the_whole_map() -> None:
    rng = np.random.default_rng(3)
    shape = (90, 120)
    ring = np.array([(x, y) for x in (0, 60, 119) for y in (0, 89)] + [(0, 45), (119, 45)],
                    np.float64)
    dst = np.concatenate([rng.uniform(10, 80, (12, 2)) * [1.3, 1.0], ring])
    src = dst + rng.normal(0, 2.0, dst.shape)
    triangles = triangulate(dst)
    whole = triangle_map(shape, dst, src, triangles)
    for window in ((17, 9, 101, 77), (0, 0, 120, 90), (33, 41, 34, 42)):
        x0, y0, x1, y1 = window
        part = triangle_map(shape, dst, src, triangles, window)
        for full, cut in zip(whole, part, strict=True):
            assert cut.shape == (y1 - y0, x1 - x0)
            np.testing.assert_array_equal(cut, full[y0:y1, x0:x1])


def test_the_rest_opening_follows_each_new_frame() -> None:
    n = 40
    motion = MouthMotion(np.zeros((n, 20, 2)), np.zeros(n), np.zeros(n), "test")
    speaker = SpeakerRange(motion)
    assert speaker.rest() == 0.0
    seen = []
    for opening in np.linspace(0.05, 0.0, 30):  # ever more closed: the 5th percentile falls
        speaker.observe(float(opening), new_track=False)
        seen.append(float(opening))
        assert speaker.rest() == min(float(np.percentile(seen, 5)), MAX_REST)
        assert speaker.rest() == speaker.rest()
