"""Loaders of the face detectors behind `f2f.faces.FaceDetector`: dlib's HOG detector (from a
saved copy), face-alignment's S3FD (weights from the torch hub cache, never downloaded) and
OpenCV's Haar cascade."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from f2f.errors import MissingDependencyError, WeightsNotFoundError
from f2f.weights import weights_dir

log = logging.getLogger(__name__)

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


def dlib_detector_copy(dlib: Any) -> Path:
    """Where the saved copy of this dlib version's frontal face detector lives."""
    return weights_dir() / f"dlib_frontal_face_detector_{dlib.__version__}.svm"


def load_dlib_detector(dlib: Any) -> Any:
    """dlib's frontal face detector. Decoding the copy built into dlib costs ~0.7 CPU-s in every
    process; the same detector saved to a file ($F2F_HOME/weights, written on first use) loads in
    milliseconds and detects exactly the same."""
    path = dlib_detector_copy(dlib)
    if path.is_file():
        try:
            return dlib.fhog_object_detector(str(path))
        except RuntimeError as exc:  # a damaged copy: decoded again and saved over
            log.warning("saved face detector %s unreadable (%s); decoding dlib's own", path, exc)
    detector = dlib.get_frontal_face_detector()
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        detector.save(str(partial))
        partial.replace(path)  # readers never see half a file
    except (OSError, RuntimeError) as exc:
        log.info("face detector not saved to %s (%s); it is decoded in each process", path, exc)
        # the clean-up can fail too (a read-only mount answers EROFS, a file in the path
        # ENOTDIR, even for a name that is not there): the detector is still good
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return detector


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
