"""The CLI: one line and a non-zero exit code for every user error, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mediafactory import make_video

REPO = Path(__file__).resolve().parent.parent


def f2f(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "f2f", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], pattern: str,
                          code: int | None = None) -> None:
    assert result.returncode != 0, result.stderr
    if code is not None:
        assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and pattern in errors[0], result.stderr


def test_backends_lists_every_kind() -> None:
    result = f2f("backends", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    kinds = {row["kind"] for row in rows}
    assert kinds == {"asr", "mt", "tts", "vc", "lipsync"}
    for row in rows:
        assert row["available"] or row["reason"], row  # never "no" without a why


@pytest.mark.parametrize("name, content, pattern, code", [
    ("missing.mp4", None, "not found", 3),
    ("zero.mp4", b"", "empty", 3),
    ("notes.mp4", b"hello, I am text\n" * 40, "not a readable", 3),
    ("truncated.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 300, "not a readable", 3),
])
def test_unreadable_inputs(tmp_path: Path, name: str, content: bytes | None, pattern: str,
                           code: int) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = f2f("translate", str(path), "--to", "hi", "-o", str(tmp_path / "o.mp4"))
    assert_one_line_error(result, pattern, code)


def test_config_errors(tmp_path: Path) -> None:
    clip = make_video(tmp_path / "c.mp4", seconds=1.0)
    out = str(tmp_path / "o.mp4")
    assert_one_line_error(f2f("translate", str(clip), "--to", "xx", "-o", out),
                          "not supported", 2)
    assert_one_line_error(f2f("translate", str(clip), "--mt", "marain", "-o", out),
                          "did you mean 'marian'", 2)
    assert_one_line_error(f2f("translate", str(clip), "--set", "timing.max_strech=2", "-o", out),
                          "max_stretch", 2)
    assert_one_line_error(f2f("translate", str(clip), "-o", str(tmp_path / "no" / "o.mp4")),
                          "does not exist", 3)
    assert_one_line_error(f2f("translate", str(clip), "--lipsync", "wav2lip", "-o", out),
                          "wav2lip_gan.pth", 7)


def test_video_without_audio_and_silence(tmp_path: Path) -> None:
    no_audio = make_video(tmp_path / "na.mp4", seconds=1.0, audio=None)
    assert_one_line_error(f2f("translate", str(no_audio), "-o", str(tmp_path / "o.mp4")),
                          "no audio track", 3)
    silent = make_video(tmp_path / "s.mp4", seconds=1.0, audio="silence")
    assert_one_line_error(f2f("translate", str(silent), "-o", str(tmp_path / "o.mp4")),
                          "silent", 4)


def test_audio_with_no_speech(tmp_path: Path) -> None:
    noise = make_video(tmp_path / "noise.mp4", seconds=2.0, audio="noise")
    result = f2f("translate", str(noise), "--workdir", str(tmp_path / "w"), "-o",
                 str(tmp_path / "o.mp4"), timeout=300)
    assert_one_line_error(result, "no speech", 4)


def test_translate_ends_quickly_but_keeps_its_exit_handlers(grid_clip: Path,
                                                            tmp_path: Path) -> None:
    # `python -m f2f translate` skips the interpreter's teardown (f2f/__main__.py): the outputs
    # must be complete, the code kept, and atexit's work (eSpeak's private data folder) done
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "out.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "f2f", "translate", str(grid_clip), "--to", "hi", "--vc", "none",
         "--lipsync", "none", "--workdir", str(tmp_path / "w"), "-o", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
        env={**os.environ, "TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout + result.stderr  # the last line reached its stream
    assert out.is_file() and json.loads(out.with_suffix(".report.json").read_text())["steps"]
    assert not list(scratch.glob("f2f-espeak-*")), list(scratch.iterdir())
