"""What probing a media file tells: streams, sizes, rates, start times (f2f.media.probe)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class MediaInfo:
    """What the container says about an input file (read with PyAV)."""

    path: str
    duration_s: float
    has_video: bool
    has_audio: bool
    width: int = 0
    height: int = 0
    fps: float = 0.0
    frame_count: int = 0
    rotation_deg: int = 0
    audio_sample_rate: int = 0
    audio_channels: int = 0
    video_codec: str = ""
    audio_codec: str = ""
    variable_frame_rate: bool = False  # then `fps` is the highest rate, so no frame is dropped
    video_start_s: float = 0.0  # stream start times, edit lists applied
    audio_start_s: float = 0.0
    audio_streams: int = 0  # f2f reads the first; the others are not carried to the output
    subtitle_streams: int = 0  # not carried to the output either

    def __post_init__(self) -> None:
        if self.duration_s < 0:
            raise ValueError("duration_s must be >= 0")
        if self.has_video and (self.width <= 0 or self.height <= 0 or self.fps <= 0):
            raise ValueError("a video stream needs a positive size and frame rate")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaInfo:
        return cls(**data)
