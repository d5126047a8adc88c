"""eSpeak NG through the bundled library: Hindi speech with phoneme events, edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from f2f.artifacts import TranslatedSegment, Translation
from f2f.errors import UnsupportedLanguageError
from f2f.registry import get_backend_class

import espeakng_loader  # noqa: E402,F401  (a hard dependency: its absence must fail)


def _translation(*texts: str, language: str = "hi", slot_s: float = 2.0) -> Translation:
    segments = tuple(TranslatedSegment(i, "", t, i * slot_s, (i + 1) * slot_s)
                     for i, t in enumerate(texts))
    return Translation("en", language, segments)


def _tts():
    return get_backend_class("tts", "espeak")()


def test_hindi_speech_is_audible_with_phoneme_events() -> None:
    out = _tts().synthesize(_translation("नमस्ते, आप कैसे हैं?"), lambda f, m: None)
    (segment,) = out.segments
    assert segment.id == 0 and segment.speech.sample_rate == 22_050
    assert 0.5 < segment.speech.duration_s < 4.0
    assert np.sqrt(np.mean(segment.speech.samples ** 2)) > 0.01
    symbols = [p.phoneme for p in segment.phonemes]
    assert len(symbols) > 8 and "n" in symbols and "m" in symbols
    starts = [p.start_s for p in segment.phonemes]
    assert starts == sorted(starts)
    assert all(0 <= p.start_s < p.end_s <= segment.speech.duration_s + 1e-6
               for p in segment.phonemes)


def test_empty_and_punctuation_only_give_silence_of_the_slot() -> None:
    out = _tts().synthesize(_translation("", "...!", slot_s=1.5), lambda f, m: None)
    for segment in out.segments:
        assert segment.speech.duration_s == pytest.approx(1.5, abs=1e-3)
        assert not segment.speech.samples.any() and segment.phonemes == ()


def test_one_character_numbers_and_latin_words_are_spoken() -> None:
    out = _tts().synthesize(_translation("क", "2024 में WHO"), lambda f, m: None)
    assert all(s.speech.samples.any() and s.phonemes for s in out.segments)


def test_long_segment_is_split_at_clauses_and_stays_in_order() -> None:
    clause = "यह एक लंबा वाक्य है जो कई बार दोहराया जाता है"
    tts = get_backend_class("tts", "espeak")(
        get_backend_class("tts", "espeak").Config(max_clause_chars=60))
    out = tts.synthesize(_translation(", ".join([clause] * 6)), lambda f, m: None)
    short = tts.synthesize(_translation(clause), lambda f, m: None)
    (segment,) = out.segments
    assert segment.speech.duration_s > 5 * short.segments[0].speech.duration_s
    assert segment.phonemes[-1].end_s <= segment.speech.duration_s + 1e-6


def test_other_languages_work_and_unknown_ones_fail_clearly() -> None:
    cls = get_backend_class("tts", "espeak")
    assert {"hi", "en", "fr", "ta", "bn"} <= cls.languages
    out = cls().synthesize(_translation("Bonjour tout le monde", language="fr"),
                           lambda f, m: None)
    assert out.segments[0].speech.samples.any()
    with pytest.raises(UnsupportedLanguageError, match="no voice"):
        cls().synthesize(_translation("x", language="xx"), lambda f, m: None)


def test_every_listed_language_has_espeak_data() -> None:
    from f2f.weights import package_dir

    lang_dir = package_dir("espeakng_loader") / "espeak-ng-data" / "lang"
    names = {p.name for p in lang_dir.rglob("*") if p.is_file()}
    from stages.tts.espeak import ESPEAK_LANGUAGES

    assert ESPEAK_LANGUAGES <= names


def test_one_sentence_has_the_same_length_whatever_was_said_before() -> None:
    """Same text in, same timing out: eSpeak's pitch flutter (a C static never reset) used to
    make a sentence a few samples longer or shorter after other speech in the same process.
    (The waveform itself still takes one of two forms: some other state of the C library.)"""
    tts = _tts()
    sentence, other = _translation("नीला रंग अभी दो पर रखो"), _translation("लाल रंग", language="en")
    runs = []
    for _ in range(3):
        runs.append(tts.synthesize(sentence, lambda f, m: None).segments[0])
        tts.synthesize(other, lambda f, m: None)
    for run in runs[1:]:
        assert run.speech.samples.size == runs[0].speech.samples.size
        assert run.phonemes == runs[0].phonemes
