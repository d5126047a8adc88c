"""The one face-crop rule shared by lip-sync inference, training data and sync evaluation.

A generator or a SyncNet expert only works on crops like the ones it was trained on, so
preprocessing (`lipgan.preprocess`), inference (`stages/lipsync`) and scoring (`eval`) all crop
here. Resizing is bilinear, as the reference Wav2Lip `inference.py` does with `cv2.resize`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from f2f.faces import FaceBox

# top, bottom, left, right as fractions of the box: a little extra chin, as Wav2Lip's default
# `--pads 0 10 0 0` (pixels) does for its detector's boxes.
DEFAULT_PADS: tuple[float, float, float, float] = (0.0, 0.1, 0.0, 0.0)
FACE_SIZE = 96


def face_region(box: FaceBox, frame_hw: tuple[int, int],
                pads: tuple[float, float, float, float] = DEFAULT_PADS) -> FaceBox | None:
    """The padded box, clipped to the frame; None when nothing of it is left."""
    height, width = frame_hw
    return box.padded(*pads).clipped(width, height)


def crop_face(frame: np.ndarray, region: FaceBox, size: int = FACE_SIZE) -> np.ndarray:
    """frame[y0:y1, x0:x1] resized to (size, size, C), bilinear."""
    import cv2

    crop = np.ascontiguousarray(region.crop(frame))
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR)


def mask_lower_half(faces: Any) -> Any:
    """A copy of channel-first faces (..., C, H, W), numpy or torch, with each lower half zeroed.

    Wav2Lip and LipGAN see the target frame this way: the mouth region is what they must draw.
    """
    masked = faces.clone() if hasattr(faces, "clone") else faces.copy()
    masked[..., faces.shape[-2] // 2:, :] = 0
    return masked
