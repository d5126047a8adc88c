"""What a run says about itself: the full resolved config, warnings for weak face coverage,
variable frame rate and dropped streams, and a fit cache key that follows the fitting code."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from f2f import timing
from f2f.config import PipelineConfig, with_settings, load_config
from f2f.pipeline import BackendPool, translate_video
from f2f.registry import register
from f2f.stage import LipSyncBackend
from fakes import rewrite_frames
from mediafactory import make_audio, make_vfr_video, make_video, run_ffmpeg
from test_pipeline import TEST_STAGES


@register
class PartlyFacelessLipSync(LipSyncBackend):
    """Reports a face in 70% of the frames, as a real backend would."""

    name = "test-faces-70"

    def sync(self, video, track, out_path, progress):
        out = rewrite_frames(video, track, out_path, lambda frame: frame)
        self.metrics = {"face_coverage": 0.7}
        return out


def _run(clip: Path, out: Path, sets: list[str] = ()):
    config = load_config(sets=[*TEST_STAGES, *sets])
    return translate_video(clip, out, config, workdir=out.parent / "w", pool=BackendPool())


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return make_video(tmp_path / "talk.mp4", seconds=2.0, audio="noise")


def test_config_toml_holds_every_backend_option_and_reproduces_the_run(clip: Path,
                                                                        tmp_path: Path) -> None:
    config = load_config(sets=["asr.model=base.en", "lipsync=none"])
    data = tomllib.loads(config.to_toml())
    assert data["asr"]["model"] == "base.en" and data["asr"]["beam_size"] == 5  # a default
    assert data["tts"]["backend"] == "espeak" and "rate_wpm" in data["tts"]
    assert data["lipsync"] == {"backend": "none"}
    again = PipelineConfig()
    again = with_settings(again, data)
    assert again.resolved_dict() == config.resolved_dict()
    result = _run(clip, tmp_path / "o.mp4", ["mt.prefix=NAMASTE"])
    written = tomllib.loads(result.outputs["config"].read_text(encoding="utf-8"))
    assert written["mt"] == {"backend": "test-mt", "prefix": "NAMASTE"}
    assert written["limits"]["cache_max_gb"] == 5.0


def test_a_face_missing_in_30_percent_of_frames_is_warned(clip: Path, tmp_path: Path) -> None:
    result = _run(clip, tmp_path / "o.mp4", ["lipsync=test-faces-70"])
    assert any("only 70%" in w for w in result.report.warnings), result.report.warnings


def test_variable_frame_rate_is_said_plainly(tmp_path: Path) -> None:
    result = _run(make_vfr_video(tmp_path / "vfr.mp4"), tmp_path / "o.mp4")
    notes = [w for w in result.report.warnings if "variable frame rate" in w]
    assert len(notes) == 1 and "30 fps" in notes[0]
    from f2f import media

    assert media.probe(result.outputs["video"]).frame_count == 60  # no source frame dropped


def test_dropped_subtitle_and_audio_streams_are_noted(clip: Path, tmp_path: Path) -> None:
    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n", encoding="utf-8")
    tone = make_audio(tmp_path / "t.wav", seconds=2.0)
    rich = tmp_path / "rich.mp4"
    run_ffmpeg(["-i", str(clip), "-i", str(tone), "-i", str(srt), "-map", "0:v", "-map", "0:a",
                "-map", "1:a", "-map", "2:s", "-c:v", "copy", "-c:a", "aac", "-c:s", "mov_text",
                str(rich)], "a file with two audio tracks and subtitles")
    result = _run(rich, tmp_path / "o.mp4")
    notes = [w for w in result.report.warnings if "not carried to the output" in w]
    assert len(notes) == 1 and "1 extra audio track" in notes[0] and "1 subtitle" in notes[0]


def test_the_fit_cache_key_follows_the_fitting_code(clip: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first = _run(clip, tmp_path / "a.mp4")
    monkeypatch.setattr(timing, "VERSION", timing.VERSION + 1)  # raises if there is none
    second = _run(clip, tmp_path / "b.mp4")
    assert first.report.step("fit").key != second.report.step("fit").key
    assert not second.report.step("fit").cached and second.report.step("tts").cached
