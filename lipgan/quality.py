"""Image reconstruction quality: PSNR and SSIM, the one definition (training and `eval`)."""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_PSNR_DB = 100.0  # identical images: a finite cap instead of infinity


def _images(x: Any) -> np.ndarray:
    """numpy or torch (..., H, W, 3) -> float64 (N, H, W, 3)."""
    array = x.detach().float().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    return array.astype(np.float64).reshape(-1, *array.shape[-3:])


def psnr(generated: Any, reference: Any, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB of channel-last images, averaged over images."""
    a, b = _images(generated), _images(reference)
    mse = ((a - b) ** 2).reshape(len(a), -1).mean(axis=1)
    floor = data_range ** 2 * 10 ** (-MAX_PSNR_DB / 10)
    return float(np.mean(10 * np.log10(data_range ** 2 / np.maximum(mse, floor))))


def ssim(generated: Any, reference: Any, data_range: float = 1.0) -> float:
    """Structural similarity (scikit-image) of channel-last RGB images, averaged over images."""
    from skimage.metrics import structural_similarity

    a, b = _images(generated), _images(reference)
    return float(np.mean([structural_similarity(y, x, channel_axis=-1, data_range=data_range)
                          for x, y in zip(a, b, strict=True)]))


def channel_last(frames: Any) -> Any:
    """Torch images (..., 3, H, W) -> (..., H, W, 3)."""
    return frames.movedim(-3, -1)
