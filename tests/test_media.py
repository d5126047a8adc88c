"""Media I/O: probing, streaming frames, writing browser-playable MP4s, exact-length muxing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from f2f import media
from f2f.artifacts import Speech, VideoExtension
from f2f.errors import MediaError
from f2f.video_writer import VideoWriter, rgb_to_i420
from mediafactory import make_audio, make_video


def test_probe_real_grid_clip(grid_clip: Path) -> None:
    info = media.probe(grid_clip)
    assert (info.width, info.height, info.fps, info.frame_count) == (360, 288, 25.0, 75)
    assert info.has_audio and info.audio_sample_rate == 44100 and info.audio_channels == 2


def test_probe_rejects_bad_files(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="not found"):
        media.probe(tmp_path / "missing.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        media.probe(tmp_path / "empty.mp4")
    (tmp_path / "text.mp4").write_text("this is not a video\n" * 50)
    with pytest.raises(MediaError, match="not a readable"):
        media.probe(tmp_path / "text.mp4")


def test_frames_stream_at_constant_rate(tmp_path: Path) -> None:
    clip = make_video(tmp_path / "a.mp4", seconds=1.0, size="97x61", fps=25)
    info = media.probe(clip)
    frames = list(media.iter_frames(clip, info.fps, info.width, info.height))
    assert len(frames) == 25 and frames[0].shape == (info.height, info.width, 3)
    assert frames[0].dtype == np.uint8
    # each frame its own writable array (the lip-sync loop draws into them)
    assert all(f.flags.writeable and f.flags.c_contiguous for f in frames)
    assert not np.shares_memory(frames[0], frames[1])
    # one decoder thread (the lip-sync loop's choice on 2 CPUs) decodes the same frames
    single = list(media.iter_frames(clip, info.fps, info.width, info.height, threads=1))
    assert len(single) == 25 and all(np.array_equal(a, b) for a, b in zip(frames, single))


def test_writer_is_atomic_and_playable(tmp_path: Path) -> None:
    out = tmp_path / "w.mp4"
    frames = [np.full((61, 97, 3), i * 10, np.uint8) for i in range(20)]
    with VideoWriter(out, 25, 97, 61) as writer:
        assert not out.exists()  # nothing at the final path until complete
        for frame in frames:
            writer.write(frame)
    info = media.probe(out)
    assert info.video_codec == "h264" and info.frame_count == 20
    assert (info.width, info.height) == (98, 62)  # padded to even for yuv420p


def test_writer_keeps_colours_and_pads_odd_sides_with_black(tmp_path: Path) -> None:
    # four flat quadrants, one per channel and a grey: a channel swap or a wrong matrix in the
    # writer's own yuv420p conversion moves them by tens of levels, x264 by a few
    height, width = 61, 97
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:30, :48] = (200, 30, 30)
    frame[:30, 48:] = (30, 200, 30)
    frame[30:, :48] = (30, 30, 200)
    frame[30:, 48:] = (128, 128, 128)
    i420 = rgb_to_i420(frame)
    assert i420.shape == (62 * 3 // 2, 98)  # padded to even sides, then Y, U and V planes
    out = tmp_path / "colours.mp4"
    with VideoWriter(out, 25, width, height) as writer:
        for _ in range(3):
            writer.write(frame)
    decoded = next(iter(media.iter_frames(out, 25, 98, 62))).astype(int)
    for rows, cols in ((slice(4, 26), slice(4, 44)), (slice(4, 26), slice(52, 93)),
                       (slice(34, 57), slice(4, 44)), (slice(34, 57), slice(52, 93))):
        want = frame[rows, cols].reshape(-1, 3).mean(axis=0)
        got = decoded[rows, cols].reshape(-1, 3).mean(axis=0)
        assert np.abs(got - want).max() < 6, (rows, cols, got, want)
    # the padding is black (its chroma is shared with the row beside it, so only by luma)
    luma = decoded @ np.array([0.299, 0.587, 0.114])
    assert luma[-1].mean() < 0.5 * luma[-3].mean() and luma[:, -1].mean() < 0.5 * luma[:, -3].mean()


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "fail.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(out, 25, 32, 32) as writer:
            writer.write(np.zeros((32, 32, 3), np.uint8))
            raise RuntimeError("crash mid-stage")
    assert not out.exists() and not list(tmp_path.glob(".fail*"))


def test_mux_makes_audio_exactly_video_length(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4", seconds=2.0, audio=None)
    speech = Speech(np.random.default_rng(0).uniform(-0.1, 0.1, 16000 * 3), 16000)  # 3 s: too long
    out = tmp_path / "muxed.mp4"
    media.mux(video, speech, out)
    info = media.probe(out)
    assert info.has_audio and info.frame_count == 50
    audio = media.read_audio(out)
    assert abs(audio.duration_s - 2.0) < 0.04  # within one frame


def test_read_audio_resamples_and_downmixes(tmp_path: Path) -> None:
    wav = make_audio(tmp_path / "a.wav", seconds=1.0, rate=8000)
    speech = media.read_audio(wav)
    assert speech.sample_rate == 16000 and abs(speech.duration_s - 1.0) < 0.01
    five_one = make_video(tmp_path / "51.mp4", seconds=1.0, audio="silence", channels=6,
                          rate=48000)
    assert media.probe(five_one).audio_channels == 6
    assert media.read_audio(five_one).samples.ndim == 1


def test_extended_frames_inserts_freezes() -> None:
    frames = [np.full((2, 2, 3), i, np.uint8) for i in range(10)]
    out = list(media.extended_frames(frames, 10.0, [VideoExtension(0.5, 0.3)]))
    assert len(out) == 13
    assert [int(f[0, 0, 0]) for f in out[4:9]] == [4, 4, 4, 4, 5]


def test_atomic_output_needs_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="does not exist"):
        with media.atomic_output(tmp_path / "nope" / "x.mp4"):
            pass
