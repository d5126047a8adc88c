"""The reliability sweep: bad and edge-case inputs through the real CLI, in a subprocess.

Every input must end in either a valid output (exit 0: an H.264 MP4 whose audio is exactly as long
as its video) or one clear `error:` line with the documented exit code; never a traceback, never
a hang (each run has a timeout). docs/app.md has the table of inputs and what each gets.

Where the point is input handling, the runs take cheap stages: the timing comes from a given
subtitle file (`--asr none --translation`), eSpeak dubs it, VC and lip sync are off. Cases about
speech run the real ASR; cases about faces run the real viseme lip sync.
"""

from __future__ import annotations

import json

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from f2f import media
from f2f.media import run_ffmpeg
from mediafactory import make_video

REPO = Path(__file__).resolve().parent.parent
CLI_TIMEOUT_S = 240
SUBTITLES = ("1\n00:00:00,300 --> 00:00:01,400\nबिन नीला\n\n"
             "2\n00:00:01,500 --> 00:00:02,700\nएफ दो अभी\n")

# stage flags per purpose
FORMAT = ["--asr", "none", "--translation", "{srt}", "--vc", "none", "--lipsync", "none"]
SPEECH = ["--vc", "none", "--lipsync", "none"]
FACES = ["--asr", "none", "--translation", "{srt}", "--vc", "none", "--lipsync", "viseme"]
OK = 0


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path, Path], Path]  # (folder, GRID clip) -> input file
    flags: list[str]
    outcomes: frozenset[int]  # allowed exit codes; 0 = a valid output
    message: str = ""  # what the error line must contain (when it is an error)
    fps: float | None = None  # expected output frame rate, when it is known


def cli(*args: str, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "f2f", "-q", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=timeout)


# ------------------------------------------------------------------------------ the inputs


def _ff(out: Path, *args: str) -> Path:
    run_ffmpeg([*args, str(out)], f"making {out.name}")
    return out


def _h264(out: Path, grid: Path, *args: str) -> Path:
    return _ff(out, "-i", str(grid), *args, "-c:v", "libx264", "-preset", "ultrafast",
               "-pix_fmt", "yuv420p", "-c:a", "aac")


def zero_length(folder: Path, grid: Path) -> Path:
    (folder / "zero.mp4").write_bytes(b"")
    return folder / "zero.mp4"


def truncated_mp4(folder: Path, grid: Path) -> Path:
    """Cut in half; the index (moov) sits at the end, so nothing is left to read."""
    whole = _h264(folder / "whole.mp4", grid)
    data = whole.read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 2])
    return folder / "truncated.mp4"


def truncated_faststart(folder: Path, grid: Path) -> Path:
    """Cut at 60 %; the index is at the front, so the first part still decodes."""
    whole = _h264(folder / "whole_fs.mp4", grid, "-movflags", "+faststart")
    data = whole.read_bytes()
    (folder / "truncated_fs.mp4").write_bytes(data[: len(data) * 6 // 10])
    return folder / "truncated_fs.mp4"


def wrong_extension(folder: Path, grid: Path) -> Path:
    return _h264(folder / "real_video.mp4", grid).rename(folder / "talk.wav")


def text_named_mp4(folder: Path, grid: Path) -> Path:
    (folder / "notes.mp4").write_text("this is a text file, not a video\n" * 40)
    return folder / "notes.mp4"


def audio_only(folder: Path, grid: Path) -> Path:
    return _ff(folder / "speech.m4a", "-i", str(grid), "-vn", "-c:a", "aac")


def video_only(folder: Path, grid: Path) -> Path:
    return _ff(folder / "mute.mp4", "-i", str(grid), "-an", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p")


def one_frame(folder: Path, grid: Path) -> Path:
    """One video frame, with the clip's whole 3 s of audio."""
    return _h264(folder / "one_frame.mp4", grid, "-frames:v", "1")


def fps_120(folder: Path, grid: Path) -> Path:
    return _h264(folder / "fps120.mp4", grid, "-vf", "fps=120")


def variable_frame_rate(folder: Path, grid: Path) -> Path:
    """Frames dropped irregularly and timestamps kept: a variable-rate stream."""
    return _h264(folder / "vfr.mp4", grid, "-vf", "select='not(mod(n\\,3))+between(n\\,20\\,40)'",
                 "-fps_mode", "vfr")


def odd_size(folder: Path, grid: Path) -> Path:
    return _ff(folder / "odd.mp4", "-i", str(grid), "-vf", "scale=97:61", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv444p", "-c:a", "aac")


def rotated_phone(folder: Path, grid: Path) -> Path:
    """A phone clip stored landscape with a 90-degree display rotation in its metadata."""
    plain = _h264(folder / "unrotated.mp4", grid)
    return _ff(folder / "rotated.mp4", "-display_rotation", "90", "-i", str(plain), "-c", "copy")


def surround_51(folder: Path, grid: Path) -> Path:
    return _h264(folder / "surround.mp4", grid, "-ac", "6")


def audio_8khz(folder: Path, grid: Path) -> Path:
    return _h264(folder / "phone_8k.mp4", grid, "-ar", "8000", "-ac", "1")


def minute_of_silence(folder: Path, grid: Path) -> Path:
    return make_video(folder / "silence.mp4", seconds=60, size="64x48", fps=10, audio="silence")


def music(folder: Path, grid: Path) -> Path:
    """Eight seconds of a plucked chord progression: tonal, rhythmic, no words."""
    chord = ("0.2*(sin(2*PI*{a}*t)+sin(2*PI*{b}*t)+sin(2*PI*{c}*t))*exp(-3*mod(t\\,0.5))")
    expr = "+".join(f"between(t\\,{i * 2}\\,{i * 2 + 2})*" + chord.format(a=a, b=b, c=c)
                    for i, (a, b, c) in enumerate([(262, 330, 392), (220, 262, 330),
                                                   (175, 220, 262), (196, 247, 294)]))
    return _ff(folder / "music.mp4", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:d=8",
               "-f", "lavfi", "-i", f"aevalsrc='{expr}':s=16000:d=8", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest")


def no_face(folder: Path, grid: Path) -> Path:
    """A test pattern with the clip's speech."""
    return _ff(folder / "no_face.mp4", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:d=3",
               "-i", str(grid), "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest")


def two_faces(folder: Path, grid: Path) -> Path:
    other = grid.parent / "lbbc2a.mpg"
    return _ff(folder / "two_faces.mp4", "-i", str(grid), "-i", str(other), "-filter_complex",
               "[0:v][1:v]hstack=inputs=2[v]", "-map", "[v]", "-map", "0:a", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac")


def face_leaving(folder: Path, grid: Path) -> Path:
    """The speaker slides out of the frame to the right from 1 s on."""
    return _ff(folder / "leaving.mp4", "-i", str(grid), "-f", "lavfi", "-i",
               "color=black:size=360x288:rate=25:d=3", "-filter_complex",
               "[1:v][0:v]overlay=x='max(0\\,(t-1)*300)':y=0:shortest=1[v]", "-map", "[v]",
               "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
               "-c:a", "aac")


def non_english(folder: Path, grid: Path) -> Path:
    """The clip's face with German speech (eSpeak NG) instead of its English."""
    from f2f.artifacts import TranslatedSegment, Translation
    from f2f.registry import get_backend_class

    tts = get_backend_class("tts", "espeak")()
    german = Translation("en", "de", (TranslatedSegment(
        0, "", "Guten Morgen, wie geht es Ihnen heute? Das Wetter ist schön.", 0.0, 3.0),),
        backend="test")
    speech = tts.synthesize(german, lambda *_: None)  # type: ignore[attr-defined]
    wav = folder / "german.wav"
    speech.segments[0].speech.save_wav(wav)
    return _ff(folder / "german.mp4", "-i", str(grid), "-i", str(wav), "-map", "0:v",
               "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
               "-c:a", "aac")


def two_hours(folder: Path, grid: Path) -> Path:
    """Two hours at 16x16 and 1 fps: cheap to make, long enough to hit the duration limit."""
    return _ff(folder / "two_hours.mp4", "-f", "lavfi", "-i", "testsrc=size=16x16:rate=1",
               "-f", "lavfi", "-i", "anullsrc=channel_layout=mono:sample_rate=8000",
               "-t", "7200", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
               "-c:a", "aac", "-b:a", "8k")


CASES = [
    Case("zero-length file", zero_length, FORMAT, frozenset({3}), "empty"),
    Case("truncated MP4 (index lost)", truncated_mp4, FORMAT, frozenset({3}), "not a readable"),
    Case("truncated MP4 (index kept)", truncated_faststart, FORMAT, frozenset({OK})),
    Case("video with a .wav extension", wrong_extension, FORMAT, frozenset({OK}), fps=25),
    Case("text file named .mp4", text_named_mp4, FORMAT, frozenset({3}), "not a readable"),
    Case("audio-only file", audio_only, FORMAT, frozenset({3}), "no video stream"),
    Case("video-only file", video_only, SPEECH, frozenset({3}), "no audio track"),
    Case("1-frame video", one_frame, FORMAT, frozenset({OK})),
    Case("120 fps", fps_120, FORMAT, frozenset({OK}), fps=120),
    Case("variable frame rate", variable_frame_rate, FORMAT, frozenset({OK})),
    Case("odd size 97x61", odd_size, FORMAT, frozenset({OK}), fps=25),
    Case("rotated phone video", rotated_phone, FORMAT, frozenset({OK}), fps=25),
    Case("5.1 audio", surround_51, FORMAT, frozenset({OK}), fps=25),
    Case("8 kHz audio", audio_8khz, FORMAT, frozenset({OK}), fps=25),
    Case("a minute of silence", minute_of_silence, SPEECH, frozenset({4}), "silent"),
    Case("music, no speech", music, SPEECH, frozenset({OK, 4})),
    Case("no face", no_face, FACES, frozenset({OK, 5})),
    Case("two faces", two_faces, FACES, frozenset({OK}), fps=25),
    Case("face leaving the frame", face_leaving, FACES, frozenset({OK}), fps=25),
    Case("non-English speech", non_english, SPEECH, frozenset({OK, 4})),
    Case("2-hour video", two_hours, FORMAT, frozenset({3}), "over the limit"),
]


# ------------------------------------------------------------------------------ the sweep


def assert_valid_output(out: Path, case: Case, source: Path) -> None:
    info = media.probe(out)
    assert info.video_codec == "h264" and info.has_audio and info.frame_count >= 1
    assert info.width % 2 == 0 and info.height % 2 == 0  # yuv420p needs even sizes
    if case.fps:
        assert info.fps == pytest.approx(case.fps, rel=0.01)
    audio = media.read_audio(out)
    assert abs(audio.duration_s - info.frame_count / info.fps) < 0.1
    assert np.all(np.isfinite(audio.samples))
    source_info = media.probe(source)
    if source_info.rotation_deg in (90, 270):  # rotation applied: portrait out
        assert info.height > info.width
    assert out.with_suffix("").with_suffix(".hi.srt").is_file() or \
        Path(f"{out.with_suffix('')}.hi.srt").is_file(), "no Hindi subtitles beside the output"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_input_gets_a_clear_error_or_a_valid_output(case: Case, tmp_path: Path,
                                                    grid_clip: Path) -> None:
    source = case.make(tmp_path, grid_clip)
    srt = tmp_path / "translation.hi.srt"
    srt.write_text(SUBTITLES, encoding="utf-8")
    out = tmp_path / "out" / "dubbed.mp4"
    out.parent.mkdir()
    flags = [f.replace("{srt}", str(srt)) for f in case.flags]
    result = cli("translate", str(source), "--to", "hi", "-o", str(out),
                 "--workdir", str(tmp_path / "work"), *flags)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in case.outcomes, (result.returncode, result.stderr)
    if result.returncode == OK:
        assert_valid_output(out, case, source)
        if case.name == "no face":  # passing through is fine, silently is not
            report = json.loads(out.with_suffix(".report.json").read_text(encoding="utf-8"))
            assert any("face was found in only 0%" in w for w in report["warnings"]), report
    else:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.stderr
        assert case.message in errors[0], errors[0]
        assert not out.exists()  # never a partial output
        assert not [p for p in out.parent.iterdir()], list(out.parent.iterdir())
