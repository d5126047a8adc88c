"""Small helpers shared by the face and lip-sync tests (not a test module)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from f2f.artifacts import VideoRef
from f2f.media import iter_frames, probe
from f2f.video_writer import VideoWriter


def video_ref(path: Path) -> VideoRef:
    info = probe(path)
    return VideoRef(str(path), info.fps, info.frame_count, info.width, info.height)


def read_frames(path: Path) -> list[np.ndarray]:
    info = probe(path)
    return list(iter_frames(path, info.fps, info.width, info.height))


def write_with_blank_middle(source: Path, out: Path, blank: range, limit: int | None = None
                            ) -> Path:
    """Re-encodes `source` with the frames in `blank` made black (no face there)."""
    info = probe(source)
    with VideoWriter(out, info.fps, info.width, info.height) as writer:
        for i, frame in enumerate(iter_frames(source, info.fps, info.width, info.height)):
            if limit is not None and i >= limit:
                break
            writer.write(np.zeros_like(frame) if i in blank else frame)
    return out
