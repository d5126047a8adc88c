"""A TTS voice per speaker (`speakers = true`): each diarized speaker's eSpeak variant chosen
from their median F0, on a generated two-speaker GRID video (s1 male left, s4 female right)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _two_speakers import TwoSpeakers, make_two_speakers

pytest.importorskip("resemblyzer", reason="resemblyzer not installed")
pytest.importorskip("pyworld", reason="pyworld not installed")
pytest.importorskip("espeakng_loader", reason="espeakng-loader not installed")

LINE = "नमस्ते, आज हम आपको एक नई कहानी सुनाएंगे।"


def test_each_variant_speaks_at_its_listed_pitch_and_range() -> None:
    """The F0 table the choice relies on is what the steady variants really produce."""
    from f2f.artifacts import TranslatedSegment, Translation
    from f2f.speaker_voices import is_female_range, median_f0_hz
    from stages.tts.espeak import SPEAKER_VARIANT_F0_HZ, EspeakTTS

    names = sorted(SPEAKER_VARIANT_F0_HZ)
    translation = Translation("en", "hi", tuple(
        TranslatedSegment(i, "x", LINE, 4.0 * i, 4.0 * i + 3.5) for i in range(len(names))))
    speech = EspeakTTS(language="hi").synthesize(
        translation, lambda f, m="": None, {i: f"hi+{v}" for i, v in enumerate(names)})
    for name, segment in zip(names, speech.segments, strict=True):
        f0 = median_f0_hz(segment.speech)
        assert f0 == pytest.approx(SPEAKER_VARIANT_F0_HZ[name], rel=0.08), name
        assert is_female_range(f0) == name.startswith("f"), (name, f0)


def test_speakers_get_the_nearest_free_voice_of_their_range() -> None:
    from f2f.speaker_voices import assign_voices

    voices = {"low": 90.0, "mid": 100.0, "hi": 200.0, "hi2": 180.0}
    chosen = assign_voices({"A": 95.0, "B": 97.0, "C": 230.0, "D": float("nan")}, voices)
    assert chosen["A"].voice == "low" or chosen["A"].voice == "mid"
    assert {chosen["A"].voice, chosen["B"].voice} == {"low", "mid"}  # same range, distinct
    assert chosen["C"].voice == "hi"  # nearest of the female range
    assert "D" not in chosen  # no pitch measured: the default voice
    # more speakers than voices in a range: the nearest is reused rather than a wrong range
    assert assign_voices({"E": 120.0, "F": 121.0}, {"m": 100.0, "f": 200.0})["F"].voice == "m"


@pytest.fixture(scope="module")
def two(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TwoSpeakers:
    return make_two_speakers(shared_dir, tmp_path_factory.mktemp("two"))


@pytest.fixture(scope="module")
def fakes(two: TwoSpeakers) -> None:
    """ASR that gives the video's turns as segments, MT that gives one Hindi line each."""
    from f2f.registry import register
    from f2f.stage import ASRBackend, MTBackend
    from fakes import transcript_of_turns, translated

    @register
    class VoiceTurnsASR(ASRBackend):
        name = "voices-asr"

        def transcribe(self, audio, language, progress):
            return transcript_of_turns(two.turns, language, self.name)

    @register
    class HindiLineMT(MTBackend):
        name = "voices-mt"
        languages = frozenset({"hi"})

        def translate(self, transcript, target_language, progress):
            return translated(transcript, target_language, lambda s: LINE, self.name)


def _run(two: TwoSpeakers, folder: Path, *sets: str) -> tuple[dict[str, Any], Any]:
    from f2f.config import load_config
    from f2f.pipeline import BackendPool, translate_video

    config = load_config(sets=["asr=voices-asr", "mt=voices-mt", "tts=espeak", "vc=none",
                               "lipsync=none", *sets])
    folder.mkdir()
    result = translate_video(two.video, folder / "out.mp4", config,
                             workdir=folder.parent / "work", pool=BackendPool())
    return json.loads((folder / "out.report.json").read_text()), result


def _tts_key(report: dict[str, Any]) -> str:
    return next(s["key"] for s in report["steps"] if s["stage"] == "tts")


def test_two_speakers_are_spoken_in_voices_of_their_own_range(two: TwoSpeakers, fakes: None,
                                                              tmp_path: Path) -> None:
    from f2f.speaker_voices import FEMALE_FROM_HZ, median_f0_hz

    report, result = _run(two, tmp_path / "each", "speakers=true")
    voices = report["speakers"]["voices"]
    assert set(voices) == {"S1", "S2"}
    male, female = voices["S1"], voices["S2"]  # s1 (male) speaks first
    assert male["median_f0_hz"] < FEMALE_FROM_HZ <= female["median_f0_hz"], voices
    assert male["voice"].startswith("hi+m") and female["voice"].startswith("hi+f"), voices
    owner = {i: "S1" if s == "A" else "S2" for i, (s, _, _) in enumerate(two.turns)}
    for segment in result.tts.segments:  # what was spoken is in its speaker's range
        f0 = median_f0_hz(segment.speech)
        assert (f0 >= FEMALE_FROM_HZ) == (owner[segment.id] == "S2"), (segment.id, f0)

    forced, forced_result = _run(two, tmp_path / "forced", "speakers=true", "tts.voice=hi+f2")
    assert {v["voice"] for v in forced["speakers"]["voices"].values()} == {""}  # the configured
    pitches = [median_f0_hz(s.speech) for s in forced_result.tts.segments]
    assert all(f0 >= FEMALE_FROM_HZ for f0 in pitches), pitches  # f2 for the male speaker too

    off, _ = _run(two, tmp_path / "off", "speakers=true", "tts.voice_per_speaker=false")
    alone, _ = _run(two, tmp_path / "alone")
    keys = {_tts_key(r) for r in (report, forced, off)}
    assert len(keys) == 3  # each voice choice is its own cache entry
    assert _tts_key(off) == _tts_key(alone)  # one voice for all: the same entry as without
    again, _ = _run(two, tmp_path / "again", "speakers=true")
    tts_step = next(s for s in again["steps"] if s["stage"] == "tts")
    assert tts_step["cached"] and tts_step["key"] == _tts_key(report)
    assert np.isfinite(male["median_f0_hz"])


def test_a_backend_with_one_voice_says_so_once_and_speaks_it(caplog: pytest.LogCaptureFixture
                                                             ) -> None:
    import logging

    from f2f.artifacts import Speech, TranslatedSegment, Translation
    from f2f.diarize import Diarization, Turn
    from f2f.speakers import segment_voices
    from stages.tts.mms import MmsTTS

    diarization = Diarization((Turn("S1", 0.0, 1.0), Turn("S2", 1.0, 2.0)))
    translation = Translation("en", "hi", (TranslatedSegment(0, "a", "b", 0.0, 1.0),
                                           TranslatedSegment(1, "a", "b", 1.0, 2.0)))
    report: dict[str, Any] = {}
    with caplog.at_level(logging.INFO, logger="f2f.speakers"):
        voices = segment_voices(MmsTTS(language="hi"), Speech(np.zeros(32000, np.float32),
                                16000), diarization, translation, report)
    assert voices == {} and "voices" not in report
    said = [r.message for r in caplog.records if "one voice for every speaker" in r.message]
    assert len(said) == 1 and "mms" in said[0]
