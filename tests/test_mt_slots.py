"""Translations that fit the slot: the spoken-duration model and the compact variants."""

from __future__ import annotations

import pytest

from f2f.artifacts import TranslatedSegment, Translation
from f2f.registry import get_backend_class
from stages.mt._dictionary import load_dictionary
from stages.mt._fit import MODEL_RATE_SYL_S, estimate_seconds
from stages.mt.lexicon import TransferTranslator


def _no_progress(fraction: float, message: str = "") -> None:
    pass


@pytest.fixture(scope="module")
def translator() -> TransferTranslator:
    return TransferTranslator(load_dictionary())


def test_the_estimate_counts_what_the_voice_says() -> None:
    # digits and Latin letters are said as Hindi words, so they take as long as those words
    assert estimate_seconds("25 किताबें", 5.26) == estimate_seconds("पच्चीस किताबें", 5.26)
    assert estimate_seconds("BBC पर", 5.26) == estimate_seconds("बी बी सी पर", 5.26)
    assert estimate_seconds("घर चलो", 2 * 5.26) == pytest.approx(
        estimate_seconds("घर चलो", 5.26) / 2)
    assert estimate_seconds("", 5.26) == 0.0


def test_the_estimate_is_close_to_real_espeak_speech() -> None:
    """Short dub lines (not from the calibration text, with numbers and letters): never more
    than 10% under what eSpeak NG takes (that would overrun the slot), at most 20% over."""
    tts = get_backend_class("tts", "espeak")()
    if not tts.availability().ok:
        pytest.fail(f"eSpeak NG is part of the default install: {tts.availability().reason}")
    lines = ["मैं कल 5 बजे आऊँगा ।", "कमरा बी 12 में चलो ।", "क्या आपने खाना खा लिया?",
             "हम अभी घर जा रहे हैं ।", "धन्यवाद, फिर मिलेंगे ।", "एस 3 पर लाल रखो ।",
             "2020 में 45 लोग आए ।", "टीवी पर बीबीसी देखो ।"]
    segments = tuple(TranslatedSegment(i, "", t, float(i), i + 1.0) for i, t in enumerate(lines))
    speech = tts.synthesize(Translation("en", "hi", segments, "test"), _no_progress)
    for line, said in zip(lines, speech.segments, strict=True):
        real = said.speech.samples.shape[0] / said.speech.sample_rate
        assert 0.9 <= estimate_seconds(line, MODEL_RATE_SYL_S) / real <= 1.2, line


def test_a_word_with_no_verb_in_it_is_not_said_as_a_verb(translator: TransferTranslator) -> None:
    # spaCy tags "Bing" VBG; it has no base verb, so it is a name, not बिंग करते हुए
    assert translator.translate("Bing green and zero now.") == "बिंग हरा और शून्य अभी ।"
    assert "दौड़" in translator.translate("Running now.")  # a real -ing form stays a verb


def test_a_number_after_its_noun_names_it(translator: TransferTranslator) -> None:
    assert translator.translate("Room 5 again.").startswith("कमरा 5")
    assert translator.translate("Then blue S3 again.").startswith("नीला एस 3")
    assert translator.translate("I have 5 books.") == "मेरे पास 5 किताबें हैं ।"


def test_a_clause_under_a_noun_fragment_is_a_clause(translator: TransferTranslator) -> None:
    assert translator.translate("Some tea if you want.") == "कुछ चाय अगर आप चाहते हैं ।"


def test_the_most_compact_variant_drops_what_hindi_need_not_say(
        translator: TransferTranslator) -> None:
    assert translator.candidates("Then blue S3 again.")[-1] == "नीला एस 3 फिर ।"  # फिर फिर
    assert translator.candidates("Been red F9 soon.")[-1] == "जल्द लाल एफ़ 9 ।"  # no copula
    assert translator.candidates("It has been great.")[-1] == "यह महान है ।"  # has a subject
    assert translator.candidates("Blue at Z4 now.")[-1].endswith("अब ।")  # अभी -> अब


def test_the_duration_bench_never_reads_held_out_flores_rows(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FLORES dev rows >= 700 score the MT as held out: the duration fit must never see them."""
    from bench import bench_mt_duration as bench
    flores = tmp_path / "data/flores200"
    flores.mkdir(parents=True)
    rows = [f"{i}\tx\t{'गुप्त' if i >= 700 else 'घर'} चलो आज फिर से यहाँ बैठो और सुनो {i}"
            for i in range(997)]
    (flores / "flores_dev_en_hi.tsv").write_text("id\ten\thi\n" + "\n".join(rows) + "\n",
                                                 encoding="utf-8")
    said: list[str] = []

    def fake_seconds(tts, texts: list[str]) -> list[float]:
        said.extend(texts)
        return [0.1 * len(t) for t in texts]

    monkeypatch.setattr(bench, "SHARED", tmp_path)
    monkeypatch.setattr(bench, "spoken_seconds", fake_seconds)
    monkeypatch.setattr(bench, "get_backend_class", lambda stage, name: lambda: None)
    assert bench.main([]) == 0
    assert said and not any("गुप्त" in t for t in said)
    assert not any(int(t.split()[-1]) >= 700 for t in said if t.split()[-1].isdigit())
