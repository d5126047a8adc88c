"""Nothing is lost: no output over an input, every output checked before work, outputs that
appear together with normal permissions, or not at all."""

from __future__ import annotations

import os
import stat
from collections import Counter
from pathlib import Path

import pytest

from f2f.config import load_config
from f2f.errors import MediaError
from f2f.pipeline import BackendPool, translate_video
from mediafactory import make_video
from test_pipeline import CALLS, TEST_STAGES, InvertLipSync, run

SRT = ("1\n00:00:00,000 --> 00:00:01,000\nनमस्ते\n\n"
       "2\n00:00:01,000 --> 00:00:02,000\nअलविदा\n")


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return make_video(tmp_path / "talk.mp4", seconds=2.0, audio="noise")


def test_output_onto_the_input_is_refused_before_any_work(clip: Path, tmp_path: Path) -> None:
    before = clip.read_bytes()
    link = tmp_path / "link.mp4"
    link.symlink_to(clip)
    hard = tmp_path / "hard.mp4"
    os.link(clip, hard)
    CALLS.clear()
    for out in (clip, link, hard, tmp_path / "." / clip.name):
        with pytest.raises(MediaError, match="never writes over an input"):
            run(clip, out, tmp_path / "w")
    assert CALLS == Counter() and clip.read_bytes() == before


def test_a_subtitle_output_named_like_the_manual_translation_is_refused(
        clip: Path, tmp_path: Path) -> None:
    mine = tmp_path / "my.hi.srt"
    mine.write_text(SRT, encoding="utf-8")
    CALLS.clear()
    with pytest.raises(MediaError, match=r"hi\.srt.*never writes over an input"):
        translate_video(clip, tmp_path / "my.mp4", load_config(
            sets=TEST_STAGES, manual_translation=str(mine)), workdir=tmp_path / "w",
            pool=BackendPool())
    assert mine.read_text(encoding="utf-8") == SRT and CALLS == Counter()


def test_an_existing_folder_as_output_is_refused_before_any_work(clip: Path,
                                                                   tmp_path: Path) -> None:
    (tmp_path / "out.mp4").mkdir()
    CALLS.clear()
    with pytest.raises(MediaError, match="existing folder"):
        run(clip, tmp_path / "out.mp4", tmp_path / "w")
    assert CALLS == Counter()


def _read_only_folder(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    return Path("/proc")  # root writes anywhere but here


def test_an_unwritable_output_folder_is_refused_before_any_work(clip: Path,
                                                                 tmp_path: Path) -> None:
    CALLS.clear()
    with pytest.raises(MediaError, match="cannot write to the output folder"):
        run(clip, _read_only_folder(tmp_path) / "o.mp4", tmp_path / "w")
    assert CALLS == Counter()


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_outputs_get_the_permissions_open_would_give(clip: Path, tmp_path: Path,
                                                     umask: int) -> None:
    old = os.umask(umask)
    try:
        result = run(clip, tmp_path / "p.mp4", tmp_path / "w")
    finally:
        os.umask(old)
    assert len(result.outputs) == 7  # video, 4 subtitle files, report, config
    for path in result.outputs.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_a_failed_run_leaves_no_output_at_all(clip: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    monkeypatch.setattr(InvertLipSync, "sync", lambda *a, **k: 1 / 0)
    with pytest.raises(Exception, match="ZeroDivisionError"):
        run(clip, out_dir / "f.mp4", tmp_path / "w")  # subtitles were made before lip sync
    assert list(out_dir.iterdir()) == []  # no subtitles without their video, no staging left
    monkeypatch.undo()
    result = run(clip, out_dir / "f.mp4", tmp_path / "w")
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        p.name for p in result.outputs.values())


def test_outputs_appear_only_at_the_end(clip: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    seen: list[str] = []
    original = InvertLipSync.sync

    def sync(self, *args, **kwargs):  # runs after the subtitles are written
        seen.extend(p.name for p in out_dir.iterdir() if not p.name.startswith("."))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(InvertLipSync, "sync", sync)
    run(clip, out_dir / "e.mp4", tmp_path / "w")
    assert seen == [] and (out_dir / "e.hi.srt").is_file()


def test_a_folder_given_as_output_is_one_line_and_exit_3(clip: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "f2f", "translate", str(clip), "-o",
                             str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert "existing folder" in result.stderr


def test_the_config_file_is_never_overwritten_by_the_resolved_config(clip: Path,
                                                                       tmp_path: Path) -> None:
    import subprocess
    import sys

    mine = tmp_path / "o.config.toml"
    mine.write_text('[timing]\nmax_stretch = 1.2\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "f2f", "translate", str(clip), "--config",
                             str(mine), "-o", str(tmp_path / "o.mp4")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 3 and "never writes over an input" in result.stderr
    assert mine.read_text(encoding="utf-8") == '[timing]\nmax_stretch = 1.2\n'


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(clip: Path,
                                                                 tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dead = subprocess_pid_that_exited()
    stale = out_dir / f".k.f2f-{dead}-abc123"
    stale.mkdir()
    (stale / "k.hi.srt").write_text("half", encoding="utf-8")
    live = out_dir / f".k.f2f-{os.getpid()}-def456"  # a run still going: left alone
    live.mkdir()
    run(clip, out_dir / "k.mp4", tmp_path / "w")
    assert not stale.exists() and live.is_dir()


def subprocess_pid_that_exited() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
