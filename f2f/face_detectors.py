"""Loaders of the optional face detectors behind `f2f.faces.FaceDetector`: face-alignment's
S3FD (weights from the torch hub cache, never downloaded) and OpenCV's Haar cascade."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from f2f.errors import MissingDependencyError, WeightsNotFoundError

S3FD_FILE = "s3fd-619a316812.pth"  # the file name face-alignment caches in torch hub


def load_s3fd() -> Any:
    """face-alignment's S3FD detector from the torch hub cache; never downloads."""
    import importlib.util

    if importlib.util.find_spec("face_alignment") is None:
        raise MissingDependencyError(
            "face detector 'face-alignment' needs its package: pip install face-alignment "
            "(or use lipsync.face_detector=auto)")
    import torch

    path = Path(torch.hub.get_dir()) / "checkpoints" / S3FD_FILE
    if not path.is_file():
        raise WeightsNotFoundError(
            f"face detector 'face-alignment' needs its S3FD weights {S3FD_FILE}, looked for at "
            f"{path}; run face-alignment once on a machine with internet (it caches them there) "
            "and copy the file, or use lipsync.face_detector=auto")
    try:
        from face_alignment.detection.sfd.sfd_detector import SFDDetector

        return SFDDetector(device="cpu", path_to_detector=str(path))
    except (ImportError, TypeError, RuntimeError) as exc:
        raise MissingDependencyError(
            f"this face-alignment version's S3FD detector could not be loaded from {path}: "
            f"{exc}; use lipsync.face_detector=auto") from exc


def load_haar() -> Any:
    import cv2

    # opencv's type stubs leave out cv2.data (it is there at run time)
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise MissingDependencyError(
            f"OpenCV's Haar face cascade could not be loaded from {path}: "
            "pip install 'opencv-python-headless<5'")
    return cascade
