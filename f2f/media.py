"""Media I/O through the static ffmpeg that `imageio-ffmpeg` ships (no system ffmpeg needed).

Frames are streamed through pipes, never held whole in memory. Every file this module writes
appears at its final path only when complete (written beside it, then renamed).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from f2f.artifacts import MediaInfo, Speech, VideoExtension
from f2f.errors import MediaError, MissingDependencyError

log = logging.getLogger(__name__)

AUDIO_RATE = 16_000  # what ASR, VC and lip sync read


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise MissingDependencyError(
            "video I/O needs the ffmpeg binary of imageio-ffmpeg: pip install imageio-ffmpeg"
        ) from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: Sequence[str], what: str, input_bytes: bytes | None = None
               ) -> subprocess.CompletedProcess[bytes]:
    """Runs ffmpeg with an argument list; a failure becomes a MediaError with its stderr tail."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    result = subprocess.run(cmd, input=input_bytes, capture_output=True, check=False)
    if result.returncode != 0:
        tail = result.stderr.decode(errors="replace").strip().splitlines()[-3:]
        detail = " | ".join(tail) or f"ffmpeg exited {result.returncode}"
        raise MediaError(f"{what} failed: {detail}")
    return result


# ------------------------------------------------------------------------------------ probing

_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\d+:\d+.*?: Video: (\w+)(.*)")
_AUDIO = re.compile(r"Stream #\d+:\d+.*?: Audio: (\w+)(.*)")
_SIZE = re.compile(r"(?<![\w.])(\d{1,5})x(\d{1,5})(?![\w.])")
_FPS = re.compile(r"([\d.]+)(k?) fps")
_TBR = re.compile(r"([\d.]+)(k?) tbr")
_HZ = re.compile(r"(\d+) Hz")
_ROTATE = re.compile(r"(?:rotate\s*:\s*|rotation of )(-?[\d.]+)")
_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "4.0": 4, "5.0": 5, "5.1": 6,
             "5.1(side)": 6, "6.1": 7, "7.1": 8}


def _rate(match: re.Match[str] | None) -> float:
    if not match:
        return 0.0
    return float(match.group(1)) * (1000.0 if match.group(2) else 1.0)


def _count_frames(path: Path, duration_s: float, fps: float) -> int:
    """Frame count from the container's packets (fast, no decoding); estimate as fallback."""
    try:
        import imageio_ffmpeg

        frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
        if frames > 0:
            return int(frames)
    except (RuntimeError, OSError, ValueError, subprocess.SubprocessError):
        pass
    return max(int(round(duration_s * fps)), 1)


def probe(path: str | Path) -> MediaInfo:
    """Reads a file's streams and duration; a clear MediaError when it is not usable media."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"input file not found: {path}")
    if path.is_dir():
        raise MediaError(f"input is a folder, not a media file: {path}")
    if path.stat().st_size == 0:
        raise MediaError(f"input file is empty (0 bytes): {path}")
    result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
                            capture_output=True, check=False)
    text = result.stderr.decode(errors="replace")
    video, audio = _VIDEO.search(text), _AUDIO.search(text)
    if video is None and audio is None:
        last = text.strip().splitlines()[-1] if text.strip() else "unknown format"
        raise MediaError(f"not a readable video or audio file: {path} ({last})")
    duration = _DURATION.search(text)
    duration_s = (int(duration.group(1)) * 3600 + int(duration.group(2)) * 60
                  + float(duration.group(3))) if duration else 0.0
    info: dict[str, object] = {"path": str(path), "duration_s": duration_s,
                               "has_video": video is not None, "has_audio": audio is not None}
    if video is not None:
        # attached cover pictures are not video
        rest = video.group(2)
        size = _SIZE.search(rest)
        fps = _rate(_FPS.search(rest)) or _rate(_TBR.search(rest))
        if size is None or fps <= 0 or "attached pic" in rest:
            info["has_video"] = False
        else:
            width, height = int(size.group(1)), int(size.group(2))
            rotation = _ROTATE.search(text[video.start():])
            rotation_deg = int(round(float(rotation.group(1)))) % 360 if rotation else 0
            if rotation_deg in (90, 270):  # ffmpeg auto-rotates when decoding
                width, height = height, width
            info.update(width=width, height=height, fps=fps, rotation_deg=rotation_deg,
                        video_codec=video.group(1),
                        frame_count=_count_frames(path, duration_s, fps))
    if audio is not None:
        rest = audio.group(2)
        hz = _HZ.search(rest)
        channels = 0
        for token in (t.strip() for t in rest.split(",")):
            if token in _CHANNELS:
                channels = _CHANNELS[token]
            elif token.endswith("channels") and token.split()[0].isdigit():
                channels = int(token.split()[0])
        info.update(audio_sample_rate=int(hz.group(1)) if hz else 0, audio_channels=channels,
                    audio_codec=audio.group(1))
    return MediaInfo(**info)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ reading


def read_audio(path: str | Path, sample_rate: int = AUDIO_RATE) -> Speech:
    """Decodes the first audio stream to mono float32 at `sample_rate`."""
    result = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-vn", "-ac", "1",
                         "-ar", str(sample_rate), "-f", "f32le", "-acodec", "pcm_f32le", "-"],
                        f"reading audio from {path}")
    samples = np.frombuffer(result.stdout, dtype="<f4").copy()
    np.nan_to_num(samples, copy=False)
    return Speech(samples, sample_rate)


def iter_frames(path: str | Path, fps: float, width: int, height: int) -> Iterator[np.ndarray]:
    """Streams RGB frames (H, W, 3) uint8 at a constant `fps` (variable-rate input is resampled).

    `width`/`height` must be the decoded size that `probe` reports.
    """
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
            "-map", "0:v:0", "-vf", f"fps={fps:.6f}", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    frame_bytes = width * height * 3
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            bufsize=frame_bytes * 2)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        while True:
            raw = proc.stdout.read(frame_bytes)
            if len(raw) < frame_bytes:
                break
            yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        err = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
        if proc.returncode not in (0, -9) and err:
            log.warning("ffmpeg while decoding %s: %s", path, err.splitlines()[-1])


def extended_frames(frames: Iterable[np.ndarray], fps: float,
                    extensions: Sequence[VideoExtension]) -> Iterator[np.ndarray]:
    """Inserts frozen copies of the frame at each extension's source time (see DubTrack)."""
    plan = sorted(extensions, key=lambda e: e.at_s)
    inserts = [(int(round(e.at_s * fps)), int(round(e.duration_s * fps))) for e in plan]
    index, last = 0, None
    for frame in frames:
        while inserts and inserts[0][0] <= index and last is not None:
            _, count = inserts.pop(0)
            for _ in range(count):
                yield last
        yield frame
        last = frame
        index += 1
    for _, count in inserts:  # extensions at or past the end freeze the last frame
        if last is not None:
            for _ in range(count):
                yield last


# ------------------------------------------------------------------------------------ writing


@contextmanager
def atomic_output(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yields a temporary path beside `path`; renamed onto `path` only if the block succeeds."""
    path = Path(path)
    if not path.parent.exists():
        raise MediaError(f"output folder does not exist: {path.parent}")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix or path.suffix,
                                    dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass
class _WriterState:
    proc: subprocess.Popen[bytes]
    frames: int = 0


class VideoWriter:
    """Writes RGB frames to a browser-playable H.264/yuv420p MP4, atomically.

        with VideoWriter(out, fps=25, width=w, height=h) as writer:
            for frame in frames:
                writer.write(frame)

    Odd sizes are padded by one pixel (yuv420p needs even dimensions).
    """

    def __init__(self, path: str | Path, fps: float, width: int, height: int,
                 crf: int = 18, preset: str = "veryfast") -> None:
        self.path, self.fps, self.width, self.height = Path(path), fps, width, height
        self.crf, self.preset = crf, preset
        self._atomic = atomic_output(self.path)
        self._state: _WriterState | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None

    @property
    def frames_written(self) -> int:
        return self._state.frames if self._state else 0

    def __enter__(self) -> VideoWriter:
        tmp = self._atomic.__enter__()
        self._stderr = tempfile.TemporaryFile()
        args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{self.width}x{self.height}",
                "-r", f"{self.fps:.6f}", "-i", "-",
                "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",
                "-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf),
                "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", str(tmp)]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=self._stderr)
        self._state = _WriterState(proc)
        return self

    def write(self, frame: np.ndarray) -> None:
        assert self._state is not None and self._state.proc.stdin is not None
        if frame.shape != (self.height, self.width, 3):
            raise ValueError(f"frame shape {frame.shape} != {(self.height, self.width, 3)}")
        try:
            self._state.proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        except BrokenPipeError as exc:
            raise MediaError(f"video encoder stopped while writing {self.path}: "
                             f"{self._error_text()}") from exc
        self._state.frames += 1

    def _error_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        assert self._state is not None
        proc = self._state.proc
        try:
            if proc.stdin:
                proc.stdin.close()
        except BrokenPipeError:
            pass
        code = proc.wait()
        failure: BaseException | None = exc
        if exc is None and code != 0:
            failure = MediaError(f"video encoding of {self.path} failed: {self._error_text()}")
        if exc is None and failure is None and self._state.frames == 0:
            failure = MediaError(f"no frames were written to {self.path}")
        if self._stderr:
            self._stderr.close()
        if failure is None:
            self._atomic.__exit__(None, None, None)
        else:
            try:
                self._atomic.__exit__(type(failure), failure, None)
            except BaseException:
                pass
            if exc is None:
                raise failure


def fit_length(speech: Speech, duration_s: float) -> Speech:
    """Pads with silence or trims so the audio lasts exactly `duration_s`."""
    target = int(round(duration_s * speech.sample_rate))
    samples = speech.samples
    if samples.size >= target:
        return Speech(samples[:target], speech.sample_rate)
    return Speech(np.pad(samples, (0, target - samples.size)), speech.sample_rate)


@dataclass(frozen=True)
class SubtitleTrack:
    path: Path  # an .srt file
    language: str  # ISO 639-2 code for the container, e.g. "eng", "hin"


def mux(video_path: str | Path, audio: Speech | None, out_path: str | Path,
        subtitles: Sequence[SubtitleTrack] = (), reencode_video: bool = False) -> None:
    """Puts `audio` (made exactly as long as the video) and soft subtitles onto the video.

    The video stream is copied when it is already H.264 (our own writer's output).
    """
    info = probe(video_path)
    if not info.has_video:
        raise MediaError(f"no video stream in {video_path}")
    duration_s = info.frame_count / info.fps if info.frame_count else info.duration_s
    with tempfile.TemporaryDirectory(prefix="f2f-mux-") as tmp_dir:
        args = ["-i", str(video_path)]
        maps = ["-map", "0:v:0"]
        n_inputs = 1
        if audio is not None:
            wav = Path(tmp_dir) / "audio.wav"
            fit_length(audio, duration_s).save_wav(wav)
            args += ["-i", str(wav)]
            maps += ["-map", f"{n_inputs}:a:0"]
            n_inputs += 1
        for track in subtitles:
            args += ["-i", str(track.path)]
            maps += ["-map", f"{n_inputs}:s:0"]
            n_inputs += 1
        codec = ["-c:v", "copy"]
        if reencode_video or info.video_codec != "h264":
            codec = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
                     "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]
        codec += ["-c:a", "aac", "-b:a", "128k"] if audio is not None else []
        if subtitles:
            codec += ["-c:s", "mov_text"]
            for i, track in enumerate(subtitles):
                codec += [f"-metadata:s:s:{i}", f"language={track.language}"]
        with atomic_output(out_path) as tmp:
            run_ffmpeg([*args, *maps, *codec, "-movflags", "+faststart", "-f", "mp4", str(tmp)],
                       f"writing {out_path}")
