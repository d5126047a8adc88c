"""The streaming loop every lip-sync backend shares: decode -> track -> render -> encode.

Frames flow through in batches of `batch_size`; nothing grows with the video's length except
per-frame scalars. A backend supplies a `FrameRenderer` that turns a batch of `FaceFrame`s into
output frames; frames without a face are handed over with `box=None` and must pass through.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from f2f.artifacts import DubTrack, Speech, VideoRef
from f2f.errors import ConfigError
from f2f.faces import FaceBox, FaceDetector, FaceTracker, LandmarkPredictor
from f2f.progress import StageProgress

log = logging.getLogger(__name__)

FACE_BOXES = "face_boxes.json"  # per-frame [x0, y0, x1, y1] or null, beside the output video


@dataclass(frozen=True)
class FaceFrame:
    """One output frame on its way through a renderer."""

    index: int  # output frame number (time = index / fps in the dub track)
    frame: np.ndarray  # (H, W, 3) uint8 RGB, read-only
    box: FaceBox | None  # None: no face, the frame passes through unchanged
    landmarks: np.ndarray | None = None  # (68, 2) float32, when the renderer asked for them


class FrameRenderer(Protocol):
    needs_landmarks: bool

    def render(self, batch: Sequence[FaceFrame]) -> list[np.ndarray]:
        """One output frame (H, W, 3) uint8 per input, same order."""


@dataclass(frozen=True)
class LoopOptions:
    face_detector: str = "auto"
    detect_every: int = 5
    face_index: int = 0
    batch_size: int = 8
    landmark_smoothing: float = 0.5  # weight of the current frame's landmarks (1 = none)
    # per output frame, the face to sync (None: that frame passes through), e.g. the active
    # speaker's (f2f.active_speaker.frame_plan); frames beyond it use the tracker
    face_plan: Sequence[FaceBox | None] | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ConfigError(f"lipsync batch_size must be >= 1, got {self.batch_size}")
        if not 0.0 < self.landmark_smoothing <= 1.0:
            raise ConfigError("lipsync landmark_smoothing must be in (0, 1]")


def output_frame_count(video: VideoRef, track: DubTrack) -> int:
    """Source frames plus the frozen frames of every extension (as `extended_frames` inserts)."""
    return video.frame_count + sum(int(round(e.duration_s * video.fps)) for e in track.extensions)


def samples_16k(speech: Speech) -> np.ndarray:
    """The dub audio as 16 kHz float32 (what the audio front ends expect); never empty."""
    samples = speech.samples
    if speech.sample_rate != 16_000:
        from math import gcd

        from scipy.signal import resample_poly

        factor = gcd(16_000, speech.sample_rate)
        samples = resample_poly(samples, 16_000 // factor, speech.sample_rate // factor)
    samples = np.asarray(samples, dtype=np.float32)
    return samples if samples.size else np.zeros(1600, np.float32)


def resolve_device(device: str) -> str:
    """'auto' -> cuda when torch sees a GPU, else cpu."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def run_lipsync(video: VideoRef, track: DubTrack, out_path: Path, progress: StageProgress,
                renderer: FrameRenderer, options: LoopOptions, backend_name: str
                ) -> tuple[VideoRef, dict[str, Any]]:
    """Streams `video` (with `track.extensions` frozen in) through `renderer` into `out_path`.

    Returns the written video and metrics for the report (frames, face coverage, speed).
    """
    from f2f.media import VideoWriter, extended_frames, iter_frames

    expected = output_frame_count(video, track)
    tracker = FaceTracker(FaceDetector(options.face_detector), options.detect_every,
                          options.face_index)
    predictor = LandmarkPredictor() if renderer.needs_landmarks else None
    frames = extended_frames(iter_frames(video.path, video.fps, video.width, video.height),
                             video.fps, track.extensions)
    started = time.perf_counter()
    face_frames = 0
    boxes: list[list[int] | None] = []  # per output frame, kept in the cache entry
    previous_landmarks: np.ndarray | None = None
    batch: list[FaceFrame] = []
    with VideoWriter(out_path, video.fps, video.width, video.height) as writer:

        def flush() -> None:
            for out in renderer.render(batch):
                writer.write(out)
            batch.clear()
            progress(min(writer.frames_written / max(expected, 1), 1.0),
                     f"{backend_name}: {writer.frames_written}/{expected} frames")

        plan = options.face_plan if options.face_plan is not None else [
            None if b is None else FaceBox(*b) for b in track.face_plan]
        for index, frame in enumerate(frames):
            box = plan[index] if plan and index < len(plan) else tracker.update(frame)
            if plan and index < len(plan):  # a change of face restarts landmark smoothing
                previous_box = FaceBox(*boxes[-1]) if index and boxes[-1] else None
                tracker.restarted = box is None or previous_box is None \
                    or box.iou(previous_box) < 0.3
            boxes.append(None if box is None else [box.x0, box.y0, box.x1, box.y1])
            landmarks = None
            if box is not None:
                face_frames += 1
                if predictor is not None:
                    landmarks = predictor.predict(frame, box)
                    if previous_landmarks is not None and not tracker.restarted:
                        weight = options.landmark_smoothing
                        landmarks = weight * landmarks + (1.0 - weight) * previous_landmarks
            previous_landmarks = landmarks
            batch.append(FaceFrame(index, frame, box, landmarks))
            if len(batch) >= options.batch_size:
                flush()
        if batch:
            flush()
        written = writer.frames_written
    seconds = time.perf_counter() - started
    (out_path.parent / FACE_BOXES).write_text(json.dumps({"fps": video.fps, "boxes": boxes}))
    if face_frames == 0:
        log.warning("lipsync %s: no face found in any frame; the video passes through unchanged",
                    backend_name)
    if written != expected:
        log.warning("lipsync %s: wrote %d frames, expected %d (source frame count estimate?)",
                    backend_name, written, expected)
    metrics = {
        "frames": written,
        "face_frames": face_frames,
        "face_coverage": round(face_frames / max(written, 1), 4),
        "detector_runs": tracker.detections,
        "seconds": round(seconds, 3),
        "frames_per_second": round(written / max(seconds, 1e-9), 2),
    }
    log.info("lipsync %s: %d frames (%d with a face) in %.1f s = %.1f frames/s", backend_name,
             written, face_frames, seconds, metrics["frames_per_second"])
    ref = VideoRef(str(out_path), video.fps, written, video.width, video.height)
    return ref, metrics


# ------------------------------------------------------------------------------ crop models


@dataclass(frozen=True)
class CropSettings:
    pads: tuple[float, float, float, float] = (0.0, 0.1, 0.0, 0.0)  # top, bottom, left, right
    feather: float = 0.15  # soft edge of the pasted region, fraction of the crop size
    paste_fraction: float = 0.6  # paste only the lower part of the crop (mouth, chin)
    bgr: bool = False  # the public Wav2Lip files were trained on OpenCV's BGR frames
    face_size: int = 96


class CropModelRenderer:
    """Runs a face-crop generator (Wav2Lip, LipGAN) on each batch and pastes the mouths back.

    `audio_windows(indices)` returns the model's audio input for those output frames, e.g.
    (B, 1, 80, 16) mel windows. The model takes (audio, faces (B, 6, S, S)) with faces in [0, 1]:
    the target crop with its lower half zeroed, then the same crop as identity reference.
    """

    needs_landmarks = False

    def __init__(self, model: Any, audio_windows: Any, settings: CropSettings, device: str,
                 bf16: bool) -> None:
        self.model = model
        self.audio_windows = audio_windows
        self.settings = settings
        self.device = device
        self.bf16 = bf16

    def render(self, batch: Sequence[FaceFrame]) -> list[np.ndarray]:
        import cv2
        import torch

        from f2f.paste import paste_back

        out = [item.frame for item in batch]
        jobs: list[tuple[int, FaceBox]] = []
        crops = []
        size = self.settings.face_size
        for position, item in enumerate(batch):
            if item.box is None:
                continue
            height, width = item.frame.shape[:2]
            box = item.box.padded(*self.settings.pads).clipped(width, height)
            if box is None:
                continue
            crop = cv2.resize(np.ascontiguousarray(box.crop(item.frame)), (size, size),
                              interpolation=cv2.INTER_AREA)
            crops.append(crop[:, :, ::-1] if self.settings.bgr else crop)
            jobs.append((position, box))
        if not jobs:
            return out
        faces = torch.from_numpy(np.stack(crops).astype(np.float32) / 255.0)
        faces = faces.permute(0, 3, 1, 2)  # (B, 3, S, S)
        masked = faces.clone()
        masked[:, :, size // 2:] = 0.0
        inputs = torch.cat([masked, faces], dim=1).to(self.device)  # (B, 6, S, S)
        audio = torch.from_numpy(
            self.audio_windows([batch[p].index for p, _ in jobs])).to(self.device)
        device_type = "cuda" if str(self.device).startswith("cuda") else "cpu"
        with torch.inference_mode(), torch.autocast(device_type, dtype=torch.bfloat16,
                                                    enabled=self.bf16):
            generated = self.model(audio, inputs)  # (B, 3, S, S) in [0, 1]
        images = (generated.float().clamp(0, 1) * 255.0 + 0.5).byte()
        images = images.permute(0, 2, 3, 1).cpu().numpy()
        for (position, box), image in zip(jobs, images, strict=True):
            rgb = image[:, :, ::-1] if self.settings.bgr else image
            out[position] = paste_back(out[position], np.ascontiguousarray(rgb), box,
                                       feather=self.settings.feather,
                                       lower_fraction=self.settings.paste_fraction)
        return out
