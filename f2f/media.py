"""Media I/O through the static ffmpeg that `imageio-ffmpeg` ships (no system ffmpeg needed).

Frames are streamed through pipes, never held whole in memory. Every file this module writes
appears at its final path only when complete (written beside it, then renamed).
"""

from __future__ import annotations

import io
import logging
import subprocess
import tempfile
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from f2f.artifacts import Speech, VideoExtension
from f2f.atomic import atomic_path as atomic_output  # re-exported: callers import it here
from f2f.errors import MediaError, MissingDependencyError
from f2f.media_info import MediaInfo

log = logging.getLogger(__name__)
T = TypeVar("T")  # any per-frame item

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
# PyAV (with faster-whisper) reads the stream records; decoding stays on the ffmpeg binary

_VFR_SPREAD = 1.1  # frame durations differing by more than this factor: variable frame rate


def _open_container(path: Path) -> Any:
    try:
        import av
    except ImportError as exc:
        raise MissingDependencyError("probing media needs PyAV: pip install av") from exc
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"not a readable video or audio file: {path} ({exc})") from exc


def _seconds(value: Any, time_base: Any) -> float:
    return float(value * time_base) if value is not None and time_base is not None else 0.0


def _video_stream(container: Any) -> Any | None:
    """The first real video stream: attached cover pictures are not video."""
    import av

    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


def _frame_timing(container: Any, stream: Any) -> tuple[int, float, bool]:
    """(frame count, frame rate, variable?) from the stream's packets, without decoding."""
    pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None and p.size)
    rate = float(stream.average_rate or stream.guessed_rate or 0)
    if len(pts) < 3:
        return len(pts), rate, False
    steps = np.diff(np.asarray(pts, dtype=np.int64))
    steps = steps[steps > 0]
    variable = steps.size > 1 and steps.max() > _VFR_SPREAD * steps.min()
    if not variable:
        return len(pts), rate, False
    # variable rate: decode at the stream's highest rate so no source frame is dropped
    fastest = 1.0 / _seconds(int(np.percentile(steps, 5)), stream.time_base)
    base = float(stream.base_rate or 0)
    rate = base if 0 < base <= fastest * 1.01 else fastest
    span_s = _seconds(pts[-1] - pts[0] + int(np.median(steps)), stream.time_base)
    return max(int(round(span_s * rate)), 1), rate, True


def _rotation(path: Path) -> int:
    """The display rotation in degrees (of the first frame); ffmpeg applies it when decoding."""
    container = _open_container(path)
    try:
        stream = _video_stream(container)
        for frame in container.decode(stream):
            return int(round(float(frame.rotation or 0))) % 360
        return 0
    finally:
        container.close()


def probe(path: str | Path) -> MediaInfo:
    """Reads a file's streams and duration; a clear MediaError when it is not usable media."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"input file not found: {path}")
    if path.is_dir():
        raise MediaError(f"input is a folder, not a media file: {path}")
    if path.stat().st_size == 0:
        raise MediaError(f"input file is empty (0 bytes): {path}")
    container = _open_container(path)
    try:
        return _probe_open(path, container)
    finally:
        container.close()


def _probe_open(path: Path, container: Any) -> MediaInfo:
    import av

    video = _video_stream(container)
    audios = list(container.streams.audio)
    if video is None and not audios:
        raise MediaError(f"not a readable video or audio file: {path} (no audio or video stream)")
    duration_s = container.duration / av.time_base if container.duration else 0.0
    info: dict[str, Any] = {
        "path": str(path), "duration_s": max(duration_s, 0.0), "has_video": False,
        "has_audio": bool(audios), "audio_streams": len(audios),
        "subtitle_streams": len(container.streams.subtitles)}
    if video is not None:
        ctx = video.codec_context
        width, height = int(ctx.width or 0), int(ctx.height or 0)
        try:
            frame_count, fps, variable = _frame_timing(container, video)
            rotation_deg = _rotation(path)
        except av.FFmpegError as exc:
            raise MediaError(f"cannot read the video stream of {path}: {exc}") from exc
        if width > 0 and height > 0 and fps > 0 and frame_count > 0:
            if rotation_deg in (90, 270):  # ffmpeg auto-rotates when decoding
                width, height = height, width
            info.update(has_video=True, width=width, height=height, fps=fps,
                        rotation_deg=rotation_deg, video_codec=ctx.name, frame_count=frame_count,
                        variable_frame_rate=variable,
                        video_start_s=_seconds(video.start_time, video.time_base))
    if audios:
        audio = audios[0]
        ctx = audio.codec_context
        info.update(audio_sample_rate=int(ctx.sample_rate or 0),
                    audio_channels=int(ctx.layout.nb_channels if ctx.layout else 0),
                    audio_codec=ctx.name,
                    audio_start_s=_seconds(audio.start_time, audio.time_base))
    return MediaInfo(**info)


def audio_offset_s(path: str | Path) -> float:
    """Seconds by which the first audio stream starts after the first video frame.

    Start times include the container's edit lists (libavformat applies them). 0 for audio-only
    files, whose own start is their timeline.
    """
    container = _open_container(Path(path))
    try:
        video, audios = _video_stream(container), list(container.streams.audio)
        if video is None or not audios:
            return 0.0
        return (_seconds(audios[0].start_time, audios[0].time_base)
                - _seconds(video.start_time, video.time_base))
    finally:
        container.close()


# ------------------------------------------------------------------------------------ reading


def read_audio(path: str | Path, sample_rate: int = AUDIO_RATE) -> Speech:
    """Decodes the first audio stream to mono float32 at `sample_rate`, on the video's timeline.

    Sample 0 is the time of the first video frame: audio that starts later (an `-itsoffset`,
    an edit list) is preceded by silence, audio that starts earlier is trimmed.
    """
    result = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-vn", "-ac", "1",
                         "-ar", str(sample_rate), "-f", "f32le", "-acodec", "pcm_f32le", "-"],
                        f"reading audio from {path}")
    samples = np.frombuffer(result.stdout, dtype="<f4").copy()
    np.nan_to_num(samples, copy=False)
    shift = int(round(audio_offset_s(path) * sample_rate))
    if shift > 0:
        samples = np.concatenate([np.zeros(shift, np.float32), samples])
    elif shift < 0:
        samples = samples[-shift:]
    return Speech(samples, sample_rate)


def iter_frames(path: str | Path, fps: float, width: int, height: int, threads: int = 0
                ) -> Generator[np.ndarray, None, None]:
    """Streams RGB frames (H, W, 3) uint8, each a new writable array, at a constant `fps`
    (variable-rate input is resampled). `width`/`height`: the decoded size `probe` reports;
    `threads`: the decoder's (0: ffmpeg decides; the frames are the same either way)."""
    # frame 0 is the first video frame whatever the stream's start time (audio is read alike)
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-threads",
            str(threads), "-i", str(path), "-map", "0:v:0", "-vf",
            f"setpts=PTS-STARTPTS,fps={fps:.6f}", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    frame_bytes = width * height * 3
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            bufsize=frame_bytes * 2)
    assert isinstance(proc.stdout, io.BufferedReader) and proc.stderr is not None  # bufsize > 0
    try:
        while True:
            # straight into the frame's own writable array: an owner can draw into it
            frame = np.empty((height, width, 3), np.uint8)
            if proc.stdout.readinto(frame.data.cast("B")) < frame_bytes:
                break
            yield frame
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        err = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
        if proc.returncode not in (0, -9) and err:
            log.warning("ffmpeg while decoding %s: %s", path, err.splitlines()[-1])


def extended_frames(frames: Iterable[T], fps: float,
                    extensions: Sequence[VideoExtension]) -> Generator[T, None, None]:
    """Inserts frozen copies of the frame at each extension's source time (see DubTrack).
    Any per-frame item works (the lip-sync loop passes (source index, frame) pairs)."""
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
