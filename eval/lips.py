"""Lip measures that need a model or a reference: LSE-D/LSE-C, PSNR/SSIM/LMD, FID.

LSE-D / LSE-C follow the public SyncNet evaluation (Chung & Zisserman; the script Wav2Lip's
authors used): one embedding per 5-frame face window and per 0.2 s audio window starting at the
same frame; for every video window i and every offset k in -15..+15 the Euclidean distance
between video[i] and audio[i + k] (audio zero-padded past both ends); the mean over i per offset;
LSE-D = the smallest mean distance, LSE-C = median minus smallest, AV offset = the argmin.
The protocol is `lse_from_features`; the embeddings come from an expert:

- by default the project's judge (`eval.judge.load_expert`): a SyncNet colour expert trained
  on GRID speakers and shipped in `eval/data/`, SHA-256 pinned;
- `Wav2LipExpert.load(path)`: any SyncNet_color checkpoint, the public `lipsync_expert.pth`
  (trained on BGR frames) or one of ours (RGB). Unit embeddings: distances lie in 0..2, NOT on
  the scale of the published LSE numbers (syncnet_v2); compare only like with like.

Every expert sees the crops it was trained on: `lipgan.preprocess.video_face_crops`, the
`f2f.facecrop` rule, at 25 fps.

Reconstruction (the LipGAN LRW protocol: a lip-sync model redraws a video from its own audio):
PSNR and SSIM on 96x96 face crops, LMD = mean distance of the 20 mouth landmarks in pixels of a
face scaled to 96 px wide. FID needs Inception weights; without them it is skipped with a reason.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from f2f.errors import MediaError, MissingDependencyError, NoFaceError
from f2f.facecrop import FACE_SIZE, crop_face, face_region
from f2f.weights import WeightsSpec, resolve
from lipgan.quality import psnr, ssim

if TYPE_CHECKING:
    from f2f.artifacts import Speech

log = logging.getLogger(__name__)

VSHIFT = 15  # offsets -15..+15 frames, as in the public evaluation
WINDOW_FRAMES = 5
EXPERT_FPS = 25.0  # a 5-frame window is 0.2 s of audio only at the expert's frame rate
MOUTH = slice(48, 68)

INCEPTION_SPEC = WeightsSpec(
    name="inception-fid",
    filenames=("pt_inception-2015-12-05-6726825d.pth",),
    how_to_get="FID needs the pytorch-fid Inception weights (pt_inception-2015-12-05-6726825d.pth) "
               "and `pip install pytorch-fid`; put the file into $F2F_HOME/weights/")


# ------------------------------------------------------------------------------ the protocol


@dataclass(frozen=True)
class LSEResult:
    lse_d: float  # the smallest mean distance over offsets (lower is better)
    lse_c: float  # median minus smallest (higher is better)
    offset_frames: int  # the public script's AV offset: vshift - argmin
    windows: int
    mean_distances: tuple[float, ...]  # per offset k = -vshift..+vshift

    def summary(self) -> dict[str, float | int]:
        return {"lse_d": round(self.lse_d, 4), "lse_c": round(self.lse_c, 4),
                "lse_offset_frames": self.offset_frames}


def offset_distances(video_features: np.ndarray, audio_features: np.ndarray,
                     vshift: int = VSHIFT) -> tuple[np.ndarray, np.ndarray]:
    """Distances (N, 2 vshift + 1) between video[i] and audio[i + k], audio zero-padded as the
    public script does, and a mask of the pairs whose audio window exists (N, 2 vshift + 1)."""
    video = np.asarray(video_features, dtype=np.float64)
    audio = np.asarray(audio_features, dtype=np.float64)
    if video.ndim != 2 or audio.ndim != 2 or video.shape[1] != audio.shape[1]:
        raise ValueError(f"need (N, D) features of equal D, got {video.shape} and {audio.shape}")
    n = min(len(video), len(audio))
    if n == 0:
        raise MediaError("LSE: no complete 5-frame window in the video")
    video, audio = video[:n], audio[:n]
    padded = np.pad(audio, ((vshift, vshift), (0, 0)))
    offsets = 2 * vshift + 1
    distances = np.empty((n, offsets))
    for i in range(n):
        distances[i] = np.linalg.norm(padded[i:i + offsets] - video[i], axis=1)
    shifted = np.arange(n)[:, None] + np.arange(-vshift, vshift + 1)[None, :]
    return distances, (shifted >= 0) & (shifted < n)


def lse_from_features(video_features: np.ndarray, audio_features: np.ndarray,
                      vshift: int = VSHIFT) -> LSEResult:
    """LSE-D/LSE-C from aligned embeddings (N, D) each: row i of both starts at frame i."""
    distances, _ = offset_distances(video_features, audio_features, vshift)
    mean = distances.mean(axis=0)
    best = int(np.argmin(mean))
    return LSEResult(lse_d=float(mean[best]), lse_c=float(np.median(mean) - mean[best]),
                     offset_frames=vshift - best, windows=len(distances),
                     mean_distances=tuple(float(d) for d in mean))


class SyncExpert(Protocol):
    """Embeds 5-frame face windows and 0.2 s audio windows; row i of both starts at frame i."""

    name: str

    def features(self, faces: np.ndarray, audio: Speech, fps: float
                 ) -> tuple[np.ndarray, np.ndarray]:
        """faces (T, H, W, 3) RGB uint8 crops -> (video (N, D), audio (N, D)), N = T - 4."""
        ...


class Wav2LipExpert:
    """A SyncNet_color as the expert: lower halves of 96x96 faces, 80x16 mel windows.

    `bgr`: the channel order the expert was trained on. Faces always arrive RGB (f2f decodes
    rgb24); the public lipsync_expert.pth was trained on cv2's BGR frames, ours on RGB.
    """

    def __init__(self, model: Any, name: str = "wav2lip-expert", bgr: bool = False,
                 batch: int = 64) -> None:
        self.model = model.eval()
        self.name = name
        self.bgr = bgr
        self.batch = batch

    @classmethod
    def load(cls, path: str | Path | None = None) -> Wav2LipExpert:
        """A checkpoint of ours (format 'lipgan': RGB) or a public one (BGR)."""
        from lipgan.checkpoint import model_from_checkpoint, read_checkpoint
        from lipgan.weights import SYNCNET_SPEC

        resolved = resolve(SYNCNET_SPEC, path)
        data = read_checkpoint(resolved)
        model = model_from_checkpoint("syncnet", data, resolved)
        bgr = data.get("format") != "lipgan"
        log.info("LSE expert: SyncNet_color from %s (%s)", resolved, "BGR" if bgr else "RGB")
        return cls(model, name=f"wav2lip-expert:{resolved.name}", bgr=bgr)

    def features(self, faces: np.ndarray, audio: Speech, fps: float
                 ) -> tuple[np.ndarray, np.ndarray]:
        import torch

        from f2f.timing import resample
        from lipgan.audio import SAMPLE_RATE, mel_window_for_frame, melspectrogram
        from lipgan.models.syncnet import expert_windows

        if audio.sample_rate != SAMPLE_RATE:
            audio = resample(audio, SAMPLE_RATE)
        mel = melspectrogram(audio.samples)
        windows = len(faces) - WINDOW_FRAMES + 1
        if windows <= 0:
            raise MediaError(f"LSE needs at least {WINDOW_FRAMES} frames, got {len(faces)}")
        pixels = torch.from_numpy(np.ascontiguousarray(faces[..., ::-1] if self.bgr else faces))
        video_out, audio_out = [], []
        with torch.inference_mode():
            for start in range(0, windows, self.batch):
                ids = range(start, min(windows, start + self.batch))
                face_batch = expert_windows(pixels.float() / 255.0, ids)  # (B, 15, 48, 96)
                mel_batch = np.stack([mel_window_for_frame(mel, i, fps) for i in ids])[:, None]
                a, v = self.model(torch.from_numpy(mel_batch), face_batch)
                video_out.append(v.float().numpy())
                audio_out.append(a.float().numpy())
        return np.concatenate(video_out), np.concatenate(audio_out)


# ------------------------------------------------------------------------------ face crops


def _face_frames(video_path: str | Path, detect_every: int = 5
                 ) -> Generator[tuple[np.ndarray, Any], None, None]:
    """(frame, smoothed face box or None) for every frame of the video, streamed."""
    from f2f.faces import FaceDetector, FaceTracker
    from f2f.media import iter_frames, probe

    info = probe(video_path)
    if not info.has_video:
        raise MediaError(f"no video stream in {video_path}")
    tracker = FaceTracker(FaceDetector("auto"), detect_every=detect_every)
    for frame in iter_frames(video_path, info.fps, info.width, info.height):
        yield frame, tracker.update(frame)


def _crop(frame: np.ndarray, box: Any, size: int) -> np.ndarray:
    """The `f2f.facecrop` crop of `box`; the whole frame if nothing of the box is left."""
    region = face_region(box, frame.shape[:2])
    return crop_face(frame, region if region is not None else box, size)


def face_crops(video_path: str | Path, size: int = FACE_SIZE) -> tuple[np.ndarray, float]:
    """Face crops (T, size, size, 3) RGB at the expert's 25 fps: the training crops."""
    from f2f.faces import FaceDetector
    from lipgan.preprocess import video_face_crops

    faces, _ = video_face_crops(video_path, FaceDetector("auto"), size=size, fps=EXPERT_FPS)
    return faces, EXPERT_FPS


def lse(video_path: str | Path, expert: SyncExpert, audio: Speech | None = None,
        vshift: int = VSHIFT) -> LSEResult:
    """LSE-D/LSE-C of a video with its own (or the given) audio under `expert`."""
    from f2f.media import read_audio

    faces, fps = face_crops(video_path, getattr(expert, "face_size", FACE_SIZE))
    audio = audio if audio is not None else read_audio(video_path)
    video_features, audio_features = expert.features(faces, audio, fps)
    result = lse_from_features(video_features, audio_features, vshift)
    log.info("LSE %s (%s): D %.3f C %.3f offset %+d", video_path, expert.name, result.lse_d,
             result.lse_c, result.offset_frames)
    return result


# ------------------------------------------------------------------------------ reconstruction


@dataclass(frozen=True)
class ReconstructionResult:
    psnr: float  # dB, mean over frames
    ssim: float
    lmd: float  # mouth landmark distance, pixels of a 96-px-wide face
    frames: int

    def summary(self) -> dict[str, float | int]:
        return {"psnr": round(self.psnr, 3), "ssim": round(self.ssim, 4),
                "lmd": round(self.lmd, 4), "frames": self.frames}


def lmd(generated_landmarks: np.ndarray, reference_landmarks: np.ndarray,
        face_width_px: float) -> float:
    """Mean distance of the mouth landmarks (48-67), in pixels of a face scaled to 96 px."""
    a = np.asarray(generated_landmarks, dtype=np.float64)[MOUTH]
    b = np.asarray(reference_landmarks, dtype=np.float64)[MOUTH]
    return float(np.linalg.norm(a - b, axis=1).mean() * FACE_SIZE / max(face_width_px, 1.0))


def reconstruction(generated_path: str | Path, reference_path: str | Path,
                   max_frames: int | None = None) -> ReconstructionResult:
    """PSNR/SSIM on face crops and LMD, frame by frame, faces located in the reference."""
    from f2f.faces import LandmarkPredictor
    from f2f.media import iter_frames, probe

    info = probe(generated_path)
    predictor = LandmarkPredictor()
    psnrs, ssims, lmds = [], [], []
    # closing(): both decoders stop their ffmpeg process on an early break or error, not at GC
    with closing(iter_frames(generated_path, info.fps, info.width, info.height)) as generated, \
            closing(_face_frames(reference_path)) as references:
        for index, (reference, box) in enumerate(references):
            if max_frames is not None and index >= max_frames:
                break
            frame = next(generated, None)
            if frame is None:
                break
            if frame.shape != reference.shape:
                raise MediaError(
                    f"{generated_path} is {frame.shape[1]}x{frame.shape[0]}, the reference "
                    f"{reference_path} {reference.shape[1]}x{reference.shape[0]}")
            if box is None:
                continue
            a, b = _crop(frame, box, FACE_SIZE), _crop(reference, box, FACE_SIZE)
            psnrs.append(psnr(a, b, data_range=255))
            ssims.append(ssim(a, b, data_range=255))
            lmds.append(lmd(predictor.predict(frame, box), predictor.predict(reference, box),
                            box.width))
    if not psnrs:
        raise NoFaceError(f"reconstruction: no face found in {reference_path}")
    return ReconstructionResult(float(np.mean(psnrs)), float(np.mean(ssims)),
                                float(np.mean(lmds)), len(psnrs))


# ------------------------------------------------------------------------------ FID


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between two feature sets (N, D): FID when they are Inception features."""
    from scipy import linalg

    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("FID needs at least 2 samples per set")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    if not np.isfinite(root).all():  # near-singular product: regularise as pytorch-fid does
        eps = np.eye(len(cov_a)) * 1e-6
        root = linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    root = np.real(root)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * root))


def fid_unavailable_reason() -> str:
    """'' when face-crop FID can run here, else why not (printed in the metrics table)."""
    if importlib.util.find_spec("pytorch_fid") is None:
        return "FID skipped: needs `pip install pytorch-fid` and its Inception weights"
    try:
        resolve(INCEPTION_SPEC)
    except Exception as exc:  # WeightsNotFoundError: say where it looked
        return f"FID skipped: {exc}"
    return ""


def face_fid(generated_path: str | Path, reference_path: str | Path) -> float:
    """FID between face crops of two videos (pytorch-fid's Inception, 2048-d pool features)."""
    reason = fid_unavailable_reason()
    if reason:
        raise MissingDependencyError(reason)
    import torch
    from pytorch_fid.inception import InceptionV3

    model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()

    def features(path: str | Path) -> np.ndarray:
        faces, _ = face_crops(path, 299)
        with torch.inference_mode():
            batch = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 255.0
            return model(batch)[0].flatten(1).numpy()
    return frechet_distance(features(generated_path), features(reference_path))


__all__ = ["LSEResult", "ReconstructionResult", "SyncExpert", "Wav2LipExpert", "face_crops",
           "face_fid", "fid_unavailable_reason", "frechet_distance", "lse", "lse_from_features",
           "offset_distances", "psnr", "reconstruction", "ssim"]
