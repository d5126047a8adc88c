"""The CLI's flags and exit codes: -q/-v/--debug after the command, --debug keeps the code,
one exit code per error type even through a stage, each message once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from f2f.cli import build_parser
from f2f.errors import MediaError, StageError, WeightsNotFoundError
from mediafactory import make_video, run_ffmpeg

REPO = Path(__file__).resolve().parent.parent


def f2f(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "f2f", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout)


@pytest.mark.parametrize("flags", [["-q", "translate", "x.mp4"], ["translate", "x.mp4", "-q"],
                                   ["translate", "-v", "--debug", "x.mp4"]])
def test_common_flags_work_before_and_after_the_command(flags: list[str]) -> None:
    args = build_parser().parse_args(flags)
    assert args.command == "translate" and args.input == "x.mp4"
    assert args.quiet or (args.verbose and args.debug)


def test_flags_before_the_command_survive_the_sub_parser() -> None:
    args = build_parser().parse_args(["--debug", "backends"])
    assert args.debug and not args.quiet


def test_debug_keeps_the_documented_exit_code(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.mp4")
    plain = f2f("translate", missing, "-o", str(tmp_path / "o.mp4"))
    debug = f2f("translate", missing, "-o", str(tmp_path / "o.mp4"), "--debug")
    assert plain.returncode == debug.returncode == 3
    assert "Traceback" in debug.stderr and "Traceback" not in plain.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("error: input file not found")


def test_a_wrapped_error_keeps_its_own_exit_code() -> None:
    from f2f.errors import exit_code_of, run_command

    def backend_failure() -> int:
        try:
            raise WeightsNotFoundError("wav2lip_gan.pth not found in ~/.cache/f2f/weights")
        except WeightsNotFoundError as exc:
            raise StageError(f"lipsync backend 'wav2lip' failed: {exc}") from exc

    assert run_command(backend_failure) == 7
    assert exit_code_of(StageError("plain stage failure")) == 8
    assert exit_code_of(MediaError("bad file")) == 3


def test_each_message_appears_once(tmp_path: Path) -> None:
    plain = make_video(tmp_path / "c.mp4", seconds=2.0, audio="noise")
    srt = tmp_path / "t.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,500\nhello there\n", encoding="utf-8")
    clip = tmp_path / "with_subs.mp4"  # its subtitle track is dropped: a warning to show once
    run_ffmpeg(["-i", str(plain), "-i", str(srt), "-map", "0", "-map", "1", "-c:v", "copy",
                "-c:a", "copy", "-c:s", "mov_text", str(clip)], "a clip with subtitles")
    result = f2f("translate", str(clip), "--asr", "none", "--translation", str(srt), "--mt",
                 "lexicon", "--tts", "none", "-o", str(tmp_path / "o.mp4"), "--workdir",
                 str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert sum("wrote" in line for line in lines) == 1, result.stderr
    assert sum("not carried to the output" in line for line in lines) == 1, result.stderr
    assert len(lines) == len(set(lines)), result.stderr


def test_a_backend_quality_note_is_logged_once(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from f2f.config import load_config
    from f2f.pipeline import BackendPool, translate_video
    from test_pipeline import TEST_STAGES

    clip = make_video(tmp_path / "c.mp4", seconds=2.0, audio="noise")
    config = load_config(sets=[*TEST_STAGES, "mt=lexicon", "tts=none"])
    # on the "f2f" logger itself: an earlier in-process `main(["-q", ...])` leaves it at ERROR
    with caplog.at_level("INFO", logger="f2f"):
        translate_video(clip, tmp_path / "o.mp4", config, workdir=tmp_path / "w",
                        pool=BackendPool())
    notes = [r.getMessage() for r in caplog.records if "low quality" in r.getMessage()]
    assert len(notes) == 1, notes
