"""Stream start times and variable frame rates: what is read lines up with what is seen."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from f2f import media
from mediafactory import make_audio, make_vfr_video, make_video, run_ffmpeg, with_audio_of


def _first_loud_s(samples: np.ndarray, rate: int) -> float:
    return float(np.argmax(np.abs(samples) > 0.05)) / rate


def test_delayed_audio_stream_is_read_at_its_start_time(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4", seconds=2.0, audio=None)
    tone = make_audio(tmp_path / "tone.wav", seconds=2.0)  # loud from its first sample
    delayed = with_audio_of(video, tone, tmp_path / "delayed.mp4", offset_s=0.5)
    info = media.probe(delayed)
    assert abs(info.audio_start_s - info.video_start_s - 0.5) < 0.07  # AAC priming aside
    speech = media.read_audio(delayed)
    assert abs(_first_loud_s(speech.samples, speech.sample_rate) - 0.5) < 0.02


def test_audio_ahead_of_video_is_trimmed_to_the_first_frame(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4", seconds=2.0, audio=None)
    tone = make_audio(tmp_path / "tone.wav", seconds=3.0)
    late_video = tmp_path / "late_video.mp4"
    run_ffmpeg(["-itsoffset", "0.5", "-i", str(video), "-i", str(tone), "-map", "0:v:0",
                "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", str(late_video)], "late video")
    speech = media.read_audio(late_video)
    plain = media.read_audio(tone)
    # sample 0 is the first frame's time: 0.5 s into the tone
    assert abs(speech.duration_s - (plain.duration_s - 0.5)) < 0.1


def test_variable_frame_rate_keeps_every_source_frame(tmp_path: Path) -> None:
    clip = make_vfr_video(tmp_path / "vfr.mp4")  # 15 + 30 = 45 source frames over 2 s
    info = media.probe(clip)
    assert info.variable_frame_rate and info.fps == 30.0
    frames = list(media.iter_frames(clip, info.fps, info.width, info.height))
    assert len(frames) == info.frame_count == 60  # 2 s at the fastest rate: none dropped


def test_constant_rate_is_not_called_variable(tmp_path: Path) -> None:
    info = media.probe(make_video(tmp_path / "c.mp4", seconds=1.0, fps=25))
    assert not info.variable_frame_rate and info.fps == 25.0 and info.frame_count == 25


def test_extra_streams_are_counted(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4", seconds=1.0)
    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:00,900\nhello\n", encoding="utf-8")
    tone = make_audio(tmp_path / "t.wav", seconds=1.0)
    both = tmp_path / "both.mp4"
    run_ffmpeg(["-i", str(video), "-i", str(tone), "-i", str(srt), "-map", "0:v", "-map", "0:a",
                "-map", "1:a", "-map", "2:s", "-c:v", "copy", "-c:a", "aac", "-c:s", "mov_text",
                str(both)], "two audio tracks and subtitles")
    info = media.probe(both)
    assert (info.audio_streams, info.subtitle_streams) == (2, 1)
