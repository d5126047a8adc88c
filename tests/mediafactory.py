"""Makes small synthetic media files with the bundled ffmpeg, for tests of bad and edge inputs."""

from __future__ import annotations

from pathlib import Path

from f2f.media import run_ffmpeg


def make_video(path: Path, seconds: float = 1.0, size: str = "160x120", fps: float = 25,
               audio: str | None = "sine", rate: int = 16000, channels: int = 1,
               extra: list[str] | None = None) -> Path:
    """A test-pattern video; audio is 'sine', 'silence', 'noise' or None (no audio track)."""
    args = ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={fps}:duration={seconds}"]
    if audio == "sine":
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={rate}:duration={seconds}"]
    elif audio == "silence":
        layout = "mono" if channels == 1 else "stereo" if channels == 2 else "5.1"
        args += ["-f", "lavfi", "-i",
                 f"anullsrc=channel_layout={layout}:sample_rate={rate}", "-t", str(seconds)]
    elif audio == "noise":
        args += ["-f", "lavfi", "-i",
                 f"anoisesrc=color=pink:amplitude=0.3:sample_rate={rate}:duration={seconds}"]
    args += ["-map", "0:v"]
    if audio:
        args += ["-map", "1:a", "-ac", str(channels), "-c:a", "aac"]
    width, height = (int(v) for v in size.split("x"))
    pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"  # 4:2:0 needs even
    args += ["-c:v", "libx264", "-pix_fmt", pix_fmt, *(extra or []), "-shortest", str(path)]
    run_ffmpeg(args, f"making test video {path.name}")
    return path


def make_audio(path: Path, seconds: float = 1.0, rate: int = 16000, kind: str = "sine") -> Path:
    source = {"sine": f"sine=frequency=300:sample_rate={rate}:duration={seconds}",
              "silence": f"anullsrc=channel_layout=mono:sample_rate={rate}",
              "noise": f"anoisesrc=amplitude=0.3:sample_rate={rate}:duration={seconds}"}[kind]
    run_ffmpeg(["-f", "lavfi", "-i", source, "-t", str(seconds), str(path)],
               f"making test audio {path.name}")
    return path


def with_audio_of(video: Path, audio_source: Path, out: Path, offset_s: float = 0.0) -> Path:
    """`video`'s frames with `audio_source`'s first audio stream, optionally delayed."""
    args = ["-i", str(video)]
    if offset_s:
        args += ["-itsoffset", f"{offset_s:.3f}"]
    args += ["-i", str(audio_source), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "libx264",
             "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out)]
    run_ffmpeg(args, f"making {out.name}")
    return out


def make_vfr_video(path: Path) -> Path:
    """2 s of video: the first second at 15 fps, the second at 30 fps (variable frame rate)."""
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc=size=160x120:rate=15:duration=1",
                "-f", "lavfi", "-i", "testsrc=size=160x120:rate=30:duration=1",
                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=2",
                "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-map", "2:a",
                "-fps_mode", "vfr", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                str(path)], f"making test video {path.name}")
    return path
