"""The stage graph: caching, ablations, manual inputs, outputs and the report.

Small in-test backends keep these tests about the graph itself; the real backends have their own
tests, and tests/test_end_to_end.py runs the real defaults.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from f2f import media
from f2f.artifacts import (
    PhonemeEvent,
    Segment,
    SegmentSpeech,
    Speech,
    SpeechSegments,
    Transcript,
    Word,
)
from f2f.config import load_config
from f2f.errors import MediaError, UnsupportedLanguageError
from f2f.pipeline import BackendPool, translate_video
from f2f.registry import register
from f2f.stage import ASRBackend, LipSyncBackend, MTBackend, TTSBackend, VCBackend
from stages.mt._fit import SlotAware
from fakes import rewrite_frames, scaled, translated
from mediafactory import make_video

CALLS: Counter[str] = Counter()


@register
class CountingASR(ASRBackend):
    name = "test-asr"

    def transcribe(self, audio, language, progress):
        CALLS["asr"] += 1
        half = audio.duration_s / 2
        return Transcript(language, (
            Segment(0, "hello there.", 0.0, half, (Word("hello", 0.0, half / 2),)),
            Segment(1, "good bye.", half, audio.duration_s)), backend=self.name)


@dataclass(frozen=True)
class PrefixConfig:
    prefix: str = "HI"


@register
class CountingMT(MTBackend):
    name = "test-mt"
    Config = PrefixConfig
    languages = frozenset({"hi"})

    def warm_up(self):
        CALLS["mt_warm_up"] += 1

    def translate(self, transcript, target_language, progress):
        CALLS["mt"] += 1
        return translated(transcript, target_language,
                          lambda s: f"{self.config.prefix} {s.text}", self.name)


@register
class SlotMT(SlotAware, CountingMT):
    """A slot-aware MT that records what the pipeline told it."""

    name = "test-slot-mt"

    def translate(self, transcript, target_language, progress):
        SEEN.append((self.speaking_rate, self.media_duration_s))
        return super().translate(transcript, target_language, progress)


SEEN: list[tuple[float, float]] = []


@register
class BeepTTS(TTSBackend):
    name = "test-tts"

    def synthesize(self, translation, progress):
        CALLS["tts"] += 1
        out = []
        for seg in translation.segments:
            n = int(16000 * 0.4)
            tone = 0.3 * np.sin(np.arange(n) * 2 * np.pi * 220 / 16000)
            out.append(SegmentSpeech(seg.id, seg.text, Speech(tone, 16000),
                                     (PhonemeEvent("a", 0.0, 0.4),)))
        return SpeechSegments(tuple(out), backend=self.name)


@register
class LongBeepTTS(BeepTTS):
    """1.6 s of speech per segment: more than a 1 s slot holds, even at 1.25x."""

    name = "test-long-tts"
    seconds = 1.6

    def synthesize(self, translation, progress):
        n = int(16000 * self.seconds)
        tone = 0.3 * np.sin(np.arange(n) * 2 * np.pi * 220 / 16000)
        return SpeechSegments(tuple(SegmentSpeech(seg.id, seg.text, Speech(tone, 16000), ())
                                    for seg in translation.segments), backend=self.name)


@register
class HalfVC(VCBackend):
    name = "test-vc"

    def convert(self, speech, reference, cache_dir, progress):
        CALLS["vc"] += 1
        self.metrics = {"speaker_similarity": 0.5}
        return scaled(speech, 0.5, self.name)


@register
class InvertLipSync(LipSyncBackend):
    name = "test-lipsync"

    def sync(self, video, track, out_path, progress):
        CALLS["lipsync"] += 1
        return rewrite_frames(video, track, out_path, lambda frame: 255 - frame)


TEST_STAGES = ["asr=test-asr", "mt=test-mt", "tts=test-tts", "vc=test-vc",
               "lipsync=test-lipsync"]


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return make_video(tmp_path / "talk.mp4", seconds=2.0, audio="noise")


def run(clip: Path, out: Path, workdir: Path, sets: list[str] = (), **kwargs):
    config = load_config(sets=[*TEST_STAGES, *sets])
    return translate_video(clip, out, config, workdir=workdir, pool=BackendPool(), **kwargs)


def test_full_graph_writes_every_output(clip: Path, tmp_path: Path) -> None:
    CALLS.clear()
    result = run(clip, tmp_path / "out.mp4", tmp_path / "work")
    out = media.probe(tmp_path / "out.mp4")
    assert out.video_codec == "h264" and out.has_audio and out.frame_count == 50
    assert abs(media.read_audio(tmp_path / "out.mp4").duration_s - 2.0) < 0.04
    assert "HI hello there." in (tmp_path / "out.hi.srt").read_text()
    assert "hello there." in (tmp_path / "out.en.srt").read_text()
    assert (tmp_path / "out.hi.vtt").read_text().startswith("WEBVTT")
    report = json.loads((tmp_path / "out.report.json").read_text())
    stages = {s["stage"]: s for s in report["steps"]}
    assert stages["vc"]["metrics"] == {"speaker_similarity": 0.5}
    assert not any(s["cached"] for s in report["steps"])
    assert report["segments"] and "slot_start_s" in report["segments"][0]
    fit = stages["fit"]["metrics"]  # how hurried the dub is, per run: 0.4 s beeps in 1 s
    assert fit["spoken_segments"] == 2 and fit["within_comfortable"] == 1.0
    assert fit["max_speedup"] == 0.8 and fit["over_comfortable"] == []  # slowed 1.25x
    assert 'backend = "test-mt"' in (tmp_path / "out.config.toml").read_text()
    # MT warmed up once, while ASR computed
    assert CALLS == Counter(asr=1, mt=1, tts=1, vc=1, lipsync=1, mt_warm_up=1)
    assert result.translation is not None and len(result.translation.segments) == 2


def test_the_media_length_and_voice_reach_a_slot_aware_mt(clip: Path, tmp_path: Path) -> None:
    """Set on every run: a pooled backend must not keep an earlier run's timeline."""
    SEEN.clear()
    pool = BackendPool()
    stages = [s for s in TEST_STAGES if not s.startswith("mt=")]

    def go(name: str, *sets: str) -> None:
        config = load_config(sets=[*stages, "mt=test-slot-mt", *sets])
        translate_video(clip, tmp_path / name, config, workdir=tmp_path / "work", pool=pool)

    go("a.mp4")
    go("b.mp4", "timing.use_following_silence=false")  # another MT cache key: it runs again
    go("c.mp4", "tts=none", "vc=none")
    assert SEEN[0][0] > 0 and SEEN[0][1] == pytest.approx(2.0, abs=0.05)
    assert len(SEEN) == 3 and SEEN[2] == (0.0, 0.0)


def test_subtitles_follow_the_output_video_past_a_freeze(clip: Path, tmp_path: Path) -> None:
    """Segment 0's speech overflows into a freeze: both languages' later cues move with it."""
    from f2f.subtitles import read_subtitles

    stages = [s.replace("test-tts", "test-long-tts") for s in TEST_STAGES]
    config = load_config(sets=stages)
    result = translate_video(clip, tmp_path / "out.mp4", config, workdir=tmp_path / "work",
                             pool=BackendPool())
    assert result.track is not None
    freeze = result.track.extensions[0]  # (segment 1 overflows the end too)
    assert freeze.at_s == pytest.approx(1.0) and freeze.duration_s > 0.2
    for language in ("en", "hi"):
        second = read_subtitles(tmp_path / f"out.{language}.srt")[1]
        assert second.start_s == pytest.approx(1.0 + freeze.duration_s, abs=0.002)


def test_second_run_is_all_cached(clip: Path, tmp_path: Path) -> None:
    run(clip, tmp_path / "a.mp4", tmp_path / "work")
    CALLS.clear()
    result = run(clip, tmp_path / "b.mp4", tmp_path / "work")
    assert sum(CALLS.values()) == 0
    assert all(s.cached for s in result.report.steps if s.backend != "none")
    assert media.probe(tmp_path / "b.mp4").frame_count == 50


def test_changing_mt_reruns_mt_and_later_never_asr(clip: Path, tmp_path: Path) -> None:
    run(clip, tmp_path / "a.mp4", tmp_path / "work")
    CALLS.clear()
    run(clip, tmp_path / "b.mp4", tmp_path / "work", ["mt.prefix=NAMASTE"])
    assert CALLS == Counter(mt=1, tts=1, vc=1, lipsync=1)  # ASR cached: no MT warm-up
    assert "NAMASTE" in (tmp_path / "b.hi.srt").read_text()


def test_refresh_reruns_that_stage_and_after(clip: Path, tmp_path: Path) -> None:
    run(clip, tmp_path / "a.mp4", tmp_path / "work")
    CALLS.clear()
    run(clip, tmp_path / "b.mp4", tmp_path / "work", refresh=("vc",))
    assert CALLS == Counter(vc=1, lipsync=1)


def test_ablations_still_make_valid_videos(clip: Path, tmp_path: Path) -> None:
    CALLS.clear()
    run(clip, tmp_path / "subs.mp4", tmp_path / "work", ["tts=none", "lipsync=none"])
    assert CALLS == Counter(asr=1, mt=1, mt_warm_up=1)
    info = media.probe(tmp_path / "subs.mp4")
    assert info.video_codec == "h264" and info.has_audio and info.frame_count == 50
    run(clip, tmp_path / "novc.mp4", tmp_path / "work", ["vc=none", "lipsync=none"])
    assert media.probe(tmp_path / "novc.mp4").has_audio


def test_manual_translation_and_dub_audio(clip: Path, tmp_path: Path) -> None:
    srt = tmp_path / "hi.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nनमस्ते\n\n"
                   "2\n00:00:01,000 --> 00:00:02,000\nअलविदा\n", encoding="utf-8")
    dub = make_video(tmp_path / "dub.mp4", seconds=1.5, audio="sine")
    CALLS.clear()
    config = load_config(sets=[*TEST_STAGES, "asr=none"], manual_translation=str(srt),
                         manual_dub_audio=str(dub))
    result = translate_video(clip, tmp_path / "m.mp4", config, workdir=tmp_path / "w",
                             pool=BackendPool())  # the manual MT backend ships with f2f
    assert CALLS["tts"] == 0 and CALLS["asr"] == 0 and CALLS["lipsync"] == 1
    assert result.track is not None and abs(result.track.speech.duration_s - 2.0) < 0.04
    assert "अलविदा" in (tmp_path / "m.hi.srt").read_text(encoding="utf-8")


def test_bad_inputs_get_clear_errors(clip: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="not found"):
        run(tmp_path / "nope.mp4", tmp_path / "o.mp4", tmp_path / "w")
    with pytest.raises(MediaError, match="output folder does not exist"):
        run(clip, tmp_path / "missing" / "o.mp4", tmp_path / "w")
    with pytest.raises(UnsupportedLanguageError, match="'xx'"):
        run(clip, tmp_path / "o.mp4", tmp_path / "w", ['target_language="xx"'])
    silent_video = make_video(tmp_path / "novoice.mp4", seconds=1.0, audio=None)
    with pytest.raises(MediaError, match="no audio track"):
        run(silent_video, tmp_path / "o.mp4", tmp_path / "w")
    with pytest.raises(MediaError, match="limit"):
        run(clip, tmp_path / "o.mp4", tmp_path / "w", ["limits.max_duration_s=1"])
    assert not (tmp_path / "o.mp4").exists()


def test_a_crash_keeps_earlier_stages(clip: Path, tmp_path: Path, monkeypatch) -> None:
    def boom(self, *args, **kwargs):
        raise RuntimeError("lip sync exploded")

    monkeypatch.setattr(InvertLipSync, "sync", boom)
    CALLS.clear()
    with pytest.raises(Exception, match="lip sync exploded"):
        run(clip, tmp_path / "c.mp4", tmp_path / "work")
    assert not (tmp_path / "c.mp4").exists()
    monkeypatch.undo()
    CALLS.clear()
    run(clip, tmp_path / "c.mp4", tmp_path / "work")
    assert CALLS == Counter(lipsync=1)


def test_output_named_for_the_language_gets_plain_subtitle_names() -> None:
    from f2f.config import PipelineConfig
    from f2f.pipeline import output_paths

    paths = output_paths(Path("talk.hi.mp4"), PipelineConfig())
    assert paths["hi.srt"] == Path("talk.hi.srt") and paths["en.vtt"] == Path("talk.en.vtt")
    assert paths["report"] == Path("talk.hi.report.json")
