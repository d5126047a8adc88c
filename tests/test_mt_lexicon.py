"""Lexicon MT: the bundled table, Hindi word order, transliteration, chrF on TICO-19 en_hi_40."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from eval.text import bleu, chrf
from f2f.artifacts import Segment, Transcript
from f2f.errors import UnsupportedLanguageError
from f2f.registry import get_backend_class
from stages.mt import build_lexicon
from stages.mt._transliterate import to_devanagari
from stages.mt.lexicon import LEXICON_PATH, LexiconTranslator, load_lexicon


def _no_progress(fraction: float, message: str = "") -> None:
    pass


@pytest.fixture(scope="module")
def translator() -> LexiconTranslator:
    return LexiconTranslator(load_lexicon(LEXICON_PATH, 0.1))


def _is_devanagari(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all("\u0900" <= c <= "\u097f" for c in letters)


def test_bundled_table_is_small_and_licensed() -> None:
    assert LEXICON_PATH.stat().st_size < 400_000
    header = LEXICON_PATH.read_text(encoding="utf-8").splitlines()[:2]
    assert "CC0" in " ".join(header)


def test_grid_sentence_is_hindi_with_verb_last(translator: LexiconTranslator) -> None:
    hindi = translator.translate("Bin blue at F2 now.")
    assert _is_devanagari(hindi)
    words = hindi.rstrip(" ।").split()
    assert words[-1] == "डालो"  # the command verb moves to the end (SOV)
    assert "नीला" in words and "अभी" in words and "एफ" in words
    assert words.index("एफ") < words.index("पर")  # "at F" -> "एफ पर": a postposition


def test_word_order_rules(translator: LexiconTranslator) -> None:
    assert translator.translate("I am in the house") == "मैं घर में हूँ"
    assert translator.translate("the name of the city") == "शहर का नाम"
    assert translator.translate("he does not want to go").split()[-3:] == ["नहीं", "जाना",
                                                                           "चाहना"]
    assert translator.translate("thank you, my friend.") == "धन्यवाद, मेरा दोस्त ।"


def test_unknown_words_are_transliterated_not_dropped(translator: LexiconTranslator) -> None:
    hindi = translator.translate("Zorblax visited Quimby")
    assert len(hindi.split()) == 3 and _is_devanagari(hindi)
    assert to_devanagari("covid") == "कोविड"
    assert to_devanagari("michigan") == "मिचिगन"


def test_backend_keeps_ids_and_slots_and_reports_low_quality() -> None:
    cls = get_backend_class("mt", "lexicon")
    backend = cls()
    assert backend.availability().ok and "low quality" in cls.quality_note
    transcript = Transcript("en", (Segment(0, "Set white with P two soon.", 0.5, 2.5),
                                   Segment(1, "", 3.0, 3.2),
                                   Segment(2, "Lay blue by C two again.", 4.0, 6.0)), "test")
    translation = backend.translate(transcript, "hi", _no_progress)
    assert [(s.id, s.start_s, s.end_s) for s in translation.segments] == [
        (0, 0.5, 2.5), (1, 3.0, 3.2), (2, 4.0, 6.0)]
    assert translation.segments[1].text == ""
    assert _is_devanagari(translation.segments[2].text)
    assert backend.metrics["lexicon_coverage"] == 1.0
    with pytest.raises(UnsupportedLanguageError, match="hi"):
        backend.translate(transcript, "fr", _no_progress)


def test_chrf_on_tico19_test_set(data_file) -> None:
    with data_file("tico19/en_hi_40.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    cls = get_backend_class("mt", "lexicon")
    transcript = Transcript("en", tuple(Segment(i, r["en"], i, i + 1.0)
                                        for i, r in enumerate(rows)), "test")
    hyps = [s.text for s in cls().translate(transcript, "hi", _no_progress).segments]
    refs = [r["hi"] for r in rows]
    score = chrf(refs, hyps)
    print(f"lexicon chrF {score:.1f} BLEU {bleu(refs, hyps):.1f} on en_hi_40")
    assert score > 25.0  # measured 36.5; an empty or English output scores under 10
    assert chrf(refs, [r["en"] for r in rows]) < 10.0


def test_builder_excludes_the_test_sentences(tmp_path: Path) -> None:
    tico = tmp_path / "tico"
    tico.mkdir()
    header = "tuid\ten\thi\n"
    (tico / "en_hi_40.tsv").write_text("tuid\tsource_note\ten\thi\nT:1\tx\tred water\tलाल पानी\n",
                                       encoding="utf-8")
    train = ["A:1\tcold water\tठंडा पानी", "A:2\tcold day\tठंडा दिन", "A:3\twater day\tपानी दिन",
             "T:1\tred water\tलाल पानी", "B:9\tRed water!\tलाल पानी", "A:4\tcold water\tठंडा पानी"]
    (tico / "en_hi_all.tsv").write_text(header + "\n".join(train) + "\n", encoding="utf-8")
    pairs = build_lexicon.read_pairs(tico)
    assert len(pairs) == 4  # the test sentence is gone by tuid and by text
    learned = build_lexicon.learn_words(pairs, min_count=2, min_score=0.0)
    assert learned["cold"][0] == "ठंडा"
    assert "red" not in learned
