"""The cross-fade between an outgoing and a new mouth reference, as a morph.

Both references are warped to the same target points, but each was aligned by its own (noisy)
landmarks, so their lips can lie a few pixels apart. A plain alpha blend then shows both pairs
of lips at once for the whole fade (a double upper lip). Here dense optical flow between the
two warped regions carries each towards the other's geometry: at fade weight t the outgoing
image is moved t of the way to the new one and the new one (1 - t) of the way back, so the
edges move across instead of doubling.
"""

from __future__ import annotations

import threading

import numpy as np

_LOCAL = threading.local()  # one flow object per thread: OpenCV's DIS keeps state per call
# DIS raises under 12 px a side and crashes the process at 12-15 px: smaller images are not
# halved, and below this size the fade is a plain cross-fade
MIN_FLOW_SIDE = 16


def _flow_between(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """(h, w, 2) flow d with new(p) ~ old(p + d(p)), on grey levels at half size (the two lips
    lie a few pixels apart, a smooth motion: a quarter of the pixels finds it as well, for a
    quarter of the work), scaled back up."""
    import cv2

    dis = getattr(_LOCAL, "dis", None)
    if dis is None:
        # (OpenCV's type stubs leave out this factory, which the wheel has)
        create = getattr(cv2, "DISOpticalFlow_create")
        dis = create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        _LOCAL.dis = dis
    height, width = new.shape[:2]
    half = (width // 2, height // 2)
    if min(half) < MIN_FLOW_SIDE:
        half = (width, height)
    grey_new = cv2.resize(cv2.cvtColor(new, cv2.COLOR_RGB2GRAY), half,
                          interpolation=cv2.INTER_AREA)
    grey_old = cv2.resize(cv2.cvtColor(old, cv2.COLOR_RGB2GRAY), half,
                          interpolation=cv2.INTER_AREA)
    flow = dis.calc(grey_new, grey_old, None)
    flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    flow[..., 0] *= width / half[0]
    flow[..., 1] *= height / half[1]
    return flow


def morph_fade(new: np.ndarray, old: np.ndarray, t: float) -> np.ndarray:
    """(h, w, 3) uint8: `old` (t = 0) turning into `new` (t = 1), shapes and colours together."""
    import cv2

    t = float(np.clip(t, 0.0, 1.0))
    if min(new.shape[:2]) < MIN_FLOW_SIDE:
        return cv2.addWeighted(new, t, old, 1.0 - t, 0.0)
    flow = _flow_between(new, old)
    height, width = new.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    fx, fy = flow[..., 0], flow[..., 1]
    old_moved = cv2.remap(old, xs + t * fx, ys + t * fy, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    new_moved = cv2.remap(new, xs - (1.0 - t) * fx, ys - (1.0 - t) * fy, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    return cv2.addWeighted(new_moved, t, old_moved, 1.0 - t, 0.0)
