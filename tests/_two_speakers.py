"""Test material: a two-speaker video made from shared GRID clips.

A male speaker (s1) on the left and a female speaker (s4) on the right, side by side at
360x288 each, taking turns A, B, A, B. While one speaks (their own clip, trimmed to its speech
plus 0.2 s), the other shows the first frame of their clip (a still,
closed mouth whose head drifts a pixel to and fro).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from f2f.artifacts import Speech

FPS = 25.0
SIZE = (360, 288)  # width, height of each side
RATE = 16_000
PAD_S = 0.2


@dataclass(frozen=True)
class TwoSpeakers:
    video: Path  # 720x288, 25 fps, H.264 + AAC
    audio: Speech  # the same audio, 16 kHz
    turns: tuple[tuple[str, float, float], ...]  # reference (speaker, start_s, end_s) of speech
    faces: dict[str, int]  # speaker -> face index, left (0) to right (1)
    frames: int


def _speech_span(samples: np.ndarray) -> tuple[float, float]:
    frame = RATE // 100
    n = samples.size // frame
    db = 10 * np.log10((samples[: n * frame].reshape(n, frame) ** 2).mean(axis=1) + 1e-12)
    loud = np.flatnonzero(db > db.max() - 35.0)
    return loud[0] / 100.0, (loud[-1] + 1) / 100.0


def _clip(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    import cv2

    from f2f import media

    info = media.probe(path)
    frames = [cv2.resize(f, SIZE, interpolation=cv2.INTER_AREA)
              for f in media.iter_frames(path, FPS, info.width, info.height)]
    return frames, media.read_audio(path, RATE).samples


def make_two_speakers(data: Path, out_dir: Path, speakers: tuple[str, str] = ("s1", "s4"),
                      first_clip: int = 0) -> TwoSpeakers:
    from f2f.media import mux
    from f2f.video_writer import VideoWriter

    sources = {k: sorted((data / "grid" / s).glob("*.mpg"))[first_clip:first_clip + 2]
               for k, s in zip("AB", speakers, strict=True)}
    clips = {k: [_clip(p) for p in v] for k, v in sources.items()}
    idle = {}
    for speaker, (frames, _) in ((k, v[0]) for k, v in clips.items()):
        # the first (closed-mouth) frame, drifting a pixel to and fro like a listener's head
        first_frame = frames[0]
        idle[speaker] = [np.roll(first_frame, shift, axis=1) for shift in (0, 0, 1, 1, 1, 1, 0, 0)]
    video_frames: list[np.ndarray] = []
    audio_parts: list[np.ndarray] = []
    turns = []
    for turn_index, speaker in enumerate(("A", "B", "A", "B")):
        frames, audio = clips[speaker][turn_index // 2]
        start_s, end_s = _speech_span(audio)
        first = max(int((start_s - PAD_S) * FPS), 0)
        last = min(int(np.ceil((end_s + PAD_S) * FPS)), len(frames))
        offset_s = len(video_frames) / FPS
        turns.append((speaker, offset_s + start_s - first / FPS, offset_s + end_s - first / FPS))
        other = "B" if speaker == "A" else "A"
        for i in range(first, last):
            listener = idle[other][(len(video_frames)) % len(idle[other])]
            pair = (frames[i], listener) if speaker == "A" else (listener, frames[i])
            video_frames.append(np.concatenate(pair, axis=1))
        piece = audio[int(first / FPS * RATE):int(last / FPS * RATE)]
        audio_parts.append(np.pad(piece, (0, int((last - first) / FPS * RATE) - piece.size)))
    audio_all = Speech(np.concatenate(audio_parts).astype(np.float32), RATE)
    silent = out_dir / "two_speakers_silent.mp4"
    with VideoWriter(silent, FPS, 2 * SIZE[0], SIZE[1]) as writer:
        for frame in video_frames:
            writer.write(frame)
    video = out_dir / "two_speakers.mp4"
    mux(silent, audio_all, video)
    return TwoSpeakers(video, audio_all, tuple(turns), {"A": 0, "B": 1}, len(video_frames))
