"""Guards for rules that once overreached (review of the third round of the `lexicon` MT).

Each sentence was written for this test: a code must really be a code, a name with a capital
inside is a name, the compact variant keeps meaning under negation and Hindi's own doubled
words, "I have a/an X" keeps एक for things, and "and" is said once.
"""

from __future__ import annotations

import pytest

from stages.mt._dictionary import load_dictionary
from stages.mt._function_words import shorten
from stages.mt._lexical import is_code
from stages.mt.lexicon import TransferTranslator


@pytest.fixture(scope="module")
def translator() -> TransferTranslator:
    return TransferTranslator(load_dictionary())


def _latin(text: str) -> bool:
    return any(c.isascii() and c.isalpha() for c in text)


def test_only_codes_are_codes() -> None:
    for code in ("SARS-CoV-2", "EU/EEA", "COVID-19", "MERS-CoV", "H1N1-2009"):
        assert is_code(code), code
    for words in ("India-Pakistan", "Monday-Friday", "May-June", "US-China", "Nov-Feb",
                  "Coca-Cola", "Rolls-Royce", "Jean-Paul", "Hewlett-Packard"):
        assert not is_code(words), words


def test_hyphenated_words_are_translated_each(translator: TransferTranslator) -> None:
    assert translator.translate("The India-Pakistan match starts on Monday.") == (
        "भारत पाकिस्तान मैच सोमवार को शुरू होता है ।")
    assert "सोमवार शुक्रवार" in translator.translate("The shop is open Monday-Friday.")
    assert "मई जून" in translator.translate("The festival is in May-June.")
    assert "चीन" in translator.translate("The US-China talks ended.")
    for sentence in ("He drinks Coca-Cola.", "She bought a Rolls-Royce.",
                     "Jean-Paul works at Hewlett-Packard."):
        assert not _latin(translator.translate(sentence)), sentence


def test_names_with_a_capital_inside_are_names(translator: TransferTranslator) -> None:
    for sentence in ("He ate at McDonald's.", "She watches YouTube every day.",
                     "He bought a MacBook.", "I learn JavaScript.", "DeSantis spoke today.",
                     "WestJet flies to MetroPlus."):
        assert not _latin(translator.translate(sentence)), sentence
    out = translator.translate("The WHO and NASA met today.")
    assert "WHO" in out and "NASA" in out  # capitals only: acronyms, kept in Latin


def test_a_letter_digit_code_is_written_as_typed(translator: TransferTranslator) -> None:
    # not split into एच 1N1, nor looked up (the learned table holds noise for it)
    assert "H1N1" in translator.translate("H1N1 spread fast.")
    assert "एफ़ 2" in translator.translate("Place blue at F2 now.")  # a letter and a number


def test_compact_keeps_now_under_negation(translator: TransferTranslator) -> None:
    assert "अभी" in translator.candidates("She doesn't work now.")[-1]  # अब: "no longer"
    assert "अब" in translator.candidates("She works now.")[-1].split()  # the swap stays


def test_compact_keeps_hindi_doubled_words(translator: TransferTranslator) -> None:
    assert "एक एक" in translator.candidates("They came one by one.")[-1]
    assert "नहीं नहीं" in translator.candidates("He said no no no.")[-1]
    assert shorten(["वह", "फिर", "फिर", "आया"]) == ["वह", "फिर", "आया"]


def test_a_thing_one_has_keeps_its_article(translator: TransferTranslator) -> None:
    assert translator.translate("I have a question.") == "मुझे एक सवाल है ।"
    for sentence in ("I have an idea.", "I have a plan.", "I have a bicycle."):
        assert "एक" in translator.translate(sentence).split(), sentence
    for sentence in ("I have a fever.", "He has a headache."):  # a state: no एक
        assert "एक" not in translator.translate(sentence).split(), sentence


@pytest.mark.parametrize("sentence", [
    "Plants can be damaged by eating insects blown into the field by wind and storms.",
    ("The school will be the first in the city to open the library between March and June "
     "this year."),
])
def test_and_rendered_with_its_phrase_is_said_once(translator: TransferTranslator,
                                                    sentence: str) -> None:
    assert translator.translate(sentence).split().count("और") == 1
