"""`lipgan`: the LipGAN generator (Prajwal et al. 2019) of the `lipgan` package on face crops.

Audio input per frame is LipGAN's MFCC heat-map (12 x 35: 350 ms at 100 Hz centred on the
frame); faces are 96x96 RGB crops (lower half masked + identity reference), as `lipgan` trains
them. There are no public PyTorch LipGAN weights: train one with `python -m lipgan.train`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from f2f.registry import register
from f2f.weights import WeightsSpec, resolve
from lipgan.weights import LIPGAN_SPEC
from stages.lipsync._crop_model import AudioWindows, CropModelSync

LIPGAN = LIPGAN_SPEC


def mfcc_window_batch(features: np.ndarray, fps: float) -> AudioWindows:
    """A function: output frame indices -> (B, 1, 12, 35) MFCC heat-maps."""
    from lipgan.audio import mfcc_window_for_frame

    def windows(indices: list[int]) -> np.ndarray:
        return np.stack([mfcc_window_for_frame(features, i, fps) for i in indices])[:, None]

    return windows


@register
class LipGANSync(CropModelSync):
    name = "lipgan"
    version = "2"  # 2: bilinear crops, fixed box option
    quality_note = "LipGAN generator trained with lipgan; quality depends on its training data"
    # Config: CropModelSync.Config; checkpoint empty = $F2F_HOME/weights/lipgan.pt

    @classmethod
    def weights_specs(cls) -> tuple[WeightsSpec, ...]:
        return (LIPGAN,)

    def weights_path(self) -> Path:
        return resolve(LIPGAN, self.config.checkpoint or None)

    def load_model(self, path: Path, device: str) -> tuple[Any, bool]:
        from lipgan.checkpoint import load_lipgan

        return load_lipgan(path, device), False  # lipgan trains on RGB crops

    def audio_windows(self, samples_16k: np.ndarray, fps: float) -> AudioWindows:
        from lipgan.audio import mfcc

        return mfcc_window_batch(mfcc(samples_16k), fps)  # (12, T) at 100 Hz
