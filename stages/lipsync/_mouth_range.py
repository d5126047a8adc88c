"""The speaker's own mouth range: how wide and how fast this speaker's mouth moves in the source,
measured on the landmarks of the frames as they stream by, and the scale that puts the dub's
motion into that range.

The output's inner-lip gap is rest_gap + k * gap(offsets). k is chosen so the output's mean
opening equals the source's; among a few temporal smoothings of the offsets the one whose
frame-to-frame change comes closest to the source's is used. Until enough source frames have
been seen, a typical speaker (GRID, face units) stands in, with the weight of `PRIOR_FRAMES`.
"""

from __future__ import annotations

import numpy as np

from stages.lipsync._mouth_motion import MouthMotion, gap_of
from stages.lipsync._mouth_shapes import smooth_columns

PRIOR_MEAN_GAP = 0.09  # a GRID speaker's mean inner gap above rest, inter-ocular distances
PRIOR_MEAN_CHANGE = 0.022  # and mean |frame-to-frame change| of the gap
PRIOR_FRAMES = 25.0
SMOOTHINGS = (0.0, 0.7, 1.2, 1.8, 2.5)  # Gaussian sigmas in frames
MAX_SCALE = 4.0


class SpeakerRange:
    """Running statistics of the source's inner gap, and the dub motion scaled to them."""

    def __init__(self, motion: MouthMotion) -> None:
        self.motion = motion
        n = len(motion)
        flat = motion.offsets.reshape(n, -1)
        self._variants = [smooth_columns(flat, s).reshape(n, 20, 2) if n else motion.offsets
                          for s in SMOOTHINGS]
        gaps = [np.maximum(gap_of(v), 0.0) for v in self._variants]
        self._mean_gap = [float(g.mean()) if n else 0.0 for g in gaps]
        self._mean_change = [float(np.abs(np.diff(g)).mean()) if n > 1 else 0.0 for g in gaps]
        self._gaps: list[float] = []
        self._last: float | None = None
        self._change_sum = 0.0
        self._changes = 0

    def observe(self, gap: float, new_track: bool) -> None:
        """One source frame's inner gap (face units); `new_track`: not continuous with the last."""
        if self._last is not None and not new_track:
            self._change_sum += abs(gap - self._last)
            self._changes += 1
        self._last = gap
        self._gaps.append(gap)

    def source_stats(self) -> tuple[float, float, float]:
        """(rest gap, mean opening above rest, mean frame-to-frame change), prior-shrunk."""
        n = len(self._gaps)
        if n == 0:
            return 0.0, PRIOR_MEAN_GAP, PRIOR_MEAN_CHANGE
        gaps = np.asarray(self._gaps)
        rest = float(np.percentile(gaps, 5))
        mean = (float(np.maximum(gaps - rest, 0).sum()) + PRIOR_FRAMES * PRIOR_MEAN_GAP) / (
            n + PRIOR_FRAMES)
        change = (self._change_sum + PRIOR_FRAMES * PRIOR_MEAN_CHANGE) / (
            self._changes + PRIOR_FRAMES)
        return rest, mean, change

    def choice(self) -> tuple[int, float]:
        """(smoothing variant, scale k) for the statistics seen so far."""
        _, mean, change = self.source_stats()
        best, best_error, best_k = 0, np.inf, 1.0
        for i, (dub_mean, dub_change) in enumerate(zip(self._mean_gap, self._mean_change,
                                                       strict=True)):
            if dub_mean <= 1e-6:
                continue
            k = min(mean / dub_mean, MAX_SCALE)
            error = abs(np.log(max(k * dub_change, 1e-9) / change))
            if error < best_error - 1e-9:
                best, best_error, best_k = i, error, k
        return best, best_k

    def offsets(self, index: int) -> tuple[np.ndarray, float]:
        """The scaled (20, 2) offsets for output frame `index`, and its bilabial closure."""
        n = len(self.motion)
        if n == 0:
            return np.zeros((20, 2), np.float32), 0.0
        i = min(index, n - 1)
        variant, k = self.choice()
        return self._variants[variant][i] * k, float(self.motion.closure[i])
