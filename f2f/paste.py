"""Putting a re-rendered face region back into the full frame without visible seams.

A generated crop rarely matches the frame's colours exactly and always has hard borders, so it is
colour-matched to the original pixels it replaces and alpha-blended through a feathered mask.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

import numpy as np

from f2f.faces import FaceBox


@lru_cache(maxsize=32)
def feather_mask(height: int, width: int, feather: float = 0.15,
                 lower_fraction: float = 1.0) -> np.ndarray:
    """(H, W, 1) float32 alpha: 1 inside, falling smoothly to 0 at the borders.

    `feather` is the width of the ramp as a fraction of the smaller side; `lower_fraction` < 1
    keeps only the bottom part of the box (the mouth region), with the same soft top edge.
    """
    ramp = max(1.0, feather * min(height, width))
    ys = np.arange(height, dtype=np.float32) + 0.5
    xs = np.arange(width, dtype=np.float32) + 0.5
    top = height * (1.0 - lower_fraction)
    wy = np.clip(np.minimum(ys - top, height - ys) / ramp, 0.0, 1.0)
    wx = np.clip(np.minimum(xs, width - xs) / ramp, 0.0, 1.0)
    mask = np.outer(_smoothstep(wy), _smoothstep(wx)).astype(np.float32)
    mask.flags.writeable = False
    return mask[:, :, None]


def _smoothstep(x: np.ndarray) -> np.ndarray:
    return x * x * (3.0 - 2.0 * x)


def match_colour(generated: np.ndarray, reference: np.ndarray, mask: np.ndarray | None = None,
                 strength: float = 1.0) -> np.ndarray:
    """Shifts `generated`'s per-channel mean and spread to those of `reference` (same size).

    Statistics are taken where `mask` (H, W, 1) is high, i.e. the pixels that will be replaced.
    """
    channels = generated.shape[-1]
    gen = generated.reshape(-1, channels).astype(np.float32)
    ref = reference.reshape(-1, channels).astype(np.float32)
    weights = (np.ones(gen.shape[0], np.float32) if mask is None
               else mask.reshape(-1).astype(np.float32))
    total = float(weights.sum()) + 1e-6

    def mean_std(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # weighted moments as two matrix-vector products (one pass each over the pixels)
        mean = weights @ pixels / total
        var = weights @ (pixels * pixels) / total - mean * mean
        return mean, np.sqrt(np.maximum(var, 0.0)) + 1e-3

    gen_mean, gen_std = mean_std(gen)
    ref_mean, ref_std = mean_std(ref)
    # limit the gain so a nearly flat crop is not blown up into noise
    gain = np.clip(ref_std / gen_std, 0.5, 2.0)
    scale = strength * gain + (1.0 - strength)
    offset = strength * (ref_mean - gen_mean * gain)
    out = gen * scale.astype(np.float32) + offset.astype(np.float32)
    return np.clip(out, 0.0, 255.0).astype(np.uint8).reshape(generated.shape)


def paste_back(frame: np.ndarray, crop: np.ndarray, box: FaceBox, feather: float = 0.15,
               lower_fraction: float = 1.0, colour_match: bool = True) -> np.ndarray:
    """Returns a copy of `frame` with `crop` (any size) resized into `box` and blended in.

    `box` must lie inside the frame (see FaceBox.clipped).
    """
    import cv2

    region = box.crop(frame)
    height, width = region.shape[:2]
    if crop.shape[:2] != (height, width):
        interp = cv2.INTER_CUBIC if crop.shape[0] < height else cv2.INTER_AREA
        crop = cv2.resize(crop, (width, height), interpolation=interp)
    mask = feather_mask(height, width, feather, lower_fraction)
    # only the rows the mask reaches (the lower part for a mouth): the rest is left as it is
    first = int(np.argmax(mask[:, width // 2, 0] > 0))
    mask, region, crop = mask[first:], region[first:], crop[first:]
    if colour_match:
        crop = match_colour(crop, region, mask)
    blended = region.astype(np.float32) * (1.0 - mask) + crop.astype(np.float32) * mask
    out = frame.copy()
    out[box.y0 + first:box.y1, box.x0:box.x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out


def mean_difference(reference: np.ndarray, image: np.ndarray, where: np.ndarray
                    ) -> np.ndarray | None:
    """Per-channel mean of `reference` minus `image` over the bool (H, W) mask `where`, or None
    when it holds too few pixels to mean anything."""
    import cv2

    selected = where.astype(np.uint8)
    if int(cv2.countNonZero(selected)) < 20:
        return None
    a = cv2.mean(reference, mask=selected)[:3]
    b = cv2.mean(image, mask=selected)[:3]
    return np.subtract(a, b)


def shifted(image: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """uint8 `image` + a per-channel offset, saturated."""
    import cv2

    scalar = tuple(float(v) for v in shift) + (0.0,)
    # opencv's stubs leave out the Scalar form of src2 that cv2.add accepts
    return cv2.add(image, cast(Any, scalar))


def blend_into(frame: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x0: int, y0: int,
               in_place: bool = False) -> np.ndarray:
    """A copy of `frame` (or, `in_place`, `frame` itself) with uint8 `patch` blended in at
    (x0, y0) through float32 `alpha` (H, W) in 0..1; only the rows and columns where alpha is
    non-zero are touched."""
    import cv2

    out = frame if in_place else frame.copy()
    rows = np.flatnonzero(alpha.max(axis=1) > 1e-3)
    cols = np.flatnonzero(alpha.max(axis=0) > 1e-3)
    if rows.size == 0 or cols.size == 0:
        return out
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    a = np.ascontiguousarray(alpha[r0:r1, c0:c1], np.float32)
    target = out[y0 + r0:y0 + r1, x0 + c0:x0 + c1]
    target[:] = cv2.blendLinear(np.ascontiguousarray(patch[r0:r1, c0:c1]),
                                np.ascontiguousarray(target), a, 1.0 - a)
    return out
