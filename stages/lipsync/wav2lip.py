"""`wav2lip`: the Wav2Lip generator (Prajwal et al. 2020) on tracked face crops.

Loads the public `wav2lip_gan.pth` / `wav2lip.pth` files (strict, with or without the `module.`
prefix) or a Wav2Lip checkpoint trained with `lipgan`. Audio front end and windows exactly as the
checkpoints expect: 16 kHz mel spectrogram (80 frames/s), 16 mel frames starting at each video
frame; faces 96x96 with the lower half masked plus the same crop as identity reference. The
public files were trained on BGR frames, ours on RGB: `channels = "auto"` picks by file format.
tests/test_wav2lip_golden.py checks this data path against the reference implementation's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from f2f.errors import ConfigError, WeightsNotFoundError
from f2f.registry import register
from f2f.weights import WeightsSpec, find, missing_message, resolve
from lipgan.weights import WAV2LIP_GAN_SPEC, WAV2LIP_SPEC
from stages.lipsync._crop_model import AudioWindows, CropModelSync

log = logging.getLogger(__name__)

WAV2LIP_GAN, WAV2LIP = WAV2LIP_GAN_SPEC, WAV2LIP_SPEC


def mel_window_batch(mel: np.ndarray, fps: float) -> AudioWindows:
    """A function: output frame indices -> (B, 1, 80, 16) float32 mel windows."""
    from lipgan.audio import mel_window_for_frame

    def windows(indices: list[int]) -> np.ndarray:
        return np.stack([mel_window_for_frame(mel, i, fps) for i in indices])[:, None]

    return windows


def public_format(checkpoint: Mapping[str, Any]) -> bool:
    """True for the authors' files (trained on BGR), False for checkpoints written by lipgan."""
    return checkpoint.get("format") != "lipgan"


@register
class Wav2LipSync(CropModelSync):
    name = "wav2lip"
    version = "2"  # 2: bilinear crops (the reference's resize), fixed box option
    quality_note = "Wav2Lip generator; 96x96 mouths, blurry on high-resolution faces"

    @dataclass(frozen=True)
    class Config(CropModelSync.Config):
        # checkpoint: a .pth path; empty: wav2lip_gan.pth, then wav2lip.pth
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

    def load_model(self, path: Path, device: str) -> tuple[Any, bool]:
        from lipgan.checkpoint import model_from_checkpoint, read_checkpoint

        channels = self.config.channels
        if channels not in ("auto", "bgr", "rgb"):
            raise ConfigError(f"lipsync.channels must be auto, bgr or rgb, not {channels!r}")
        checkpoint = read_checkpoint(path)  # once: the public files are ~400 MB
        model = model_from_checkpoint("wav2lip", checkpoint, path, device)
        return model, public_format(checkpoint) if channels == "auto" else channels == "bgr"

    def audio_windows(self, samples_16k: np.ndarray, fps: float) -> AudioWindows:
        from lipgan.audio import melspectrogram

        return mel_window_batch(melspectrogram(samples_16k), fps)  # mel: (80, T)
