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


def _renders(frames, marks, boxes, whole_region: bool, monkeypatch) -> list:
    """Each frame rendered on its own (None for frames of a reference fade, where the windowed
    flow is allowed to differ); `whole_region`: the long way, the window being the region."""
    from stages.lipsync import _mouth_render
    from stages.lipsync._common import FaceFrame

    fades: list[float] = []
    real_fade = _mouth_render.morph_fade

    def counted_fade(new: np.ndarray, old: np.ndarray, t: float) -> np.ndarray:
        fades.append(t)
        return real_fade(new, old, t)

    with monkeypatch.context() as patch:
        patch.setattr(_mouth_render, "morph_fade", counted_fade)
        if whole_region:
            patch.setattr(_mouth_render, "mask_window",
                          lambda mask, lips: (0, 0, mask.shape[1], mask.shape[0]))
        n = len(frames)
        offsets = np.zeros((n, 20, 2), np.float32)
        offsets[:, 17:20, 1] = 0.06 * np.sin(np.arange(n) / 2.0)[:, None] ** 2  # talking
        speaker = SpeakerRange(MouthMotion(offsets, np.zeros(n, np.float32),
                                           np.ones(n, np.float32), "test"))
        renderer = _mouth_render.MouthReplacer(speaker, _mouth_render.RenderSettings())
        out = []
        for i, (frame, box, mark) in enumerate(zip(frames, boxes, marks, strict=True)):
            before = len(fades)
            rendered = renderer.render([FaceFrame(i, frame, box, mark)])[0]
            out.append(None if len(fades) > before else rendered)
    return out


def test_the_windowed_render_is_the_whole_region_render_outside_fades(grid_clip, monkeypatch):
    from f2f.faces import FaceDetector, FaceTracker, LandmarkPredictor
    from tests._lipsync_helpers import read_frames

    # the GRID face as it is, and with its chin cut by the frame's bottom edge
    for rows in (288, 240):
        frames = [np.ascontiguousarray(f[:rows]) for f in read_frames(grid_clip)[:16]]
        tracker, predictor = FaceTracker(FaceDetector("auto"), detect_every=1), LandmarkPredictor()
        boxes = [tracker.update(f) for f in frames]
        assert all(b is not None for b in boxes)
        marks = [predictor.predict(f, b) for f, b in zip(frames, boxes, strict=True) if b]
        windowed = _renders(frames, marks, boxes, False, monkeypatch)
        whole = _renders(frames, marks, boxes, True, monkeypatch)
        compared = 0
        for i, (a, b) in enumerate(zip(windowed, whole, strict=True)):
            if a is None or b is None:
                continue
            assert not np.array_equal(a, frames[i]), f"frame {i} was not rendered"
            np.testing.assert_array_equal(a, b, err_msg=f"rows {rows}, frame {i}")
            compared += 1
        assert compared >= 8, compared
