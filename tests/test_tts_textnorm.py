"""Hindi text normalisation: numbers, dates, currency, abbreviations, Latin words."""

from __future__ import annotations

import pytest

from f2f.textnorm import (is_speakable, normalize_hindi, number_to_hindi, split_clauses,
                          transliterate_latin)


@pytest.mark.parametrize(("value", "words"), [
    (0, "शून्य"), (7, "सात"), (25, "पच्चीस"), (99, "निन्यानबे"), (100, "एक सौ"),
    (1947, "एक हज़ार नौ सौ सैंतालीस"), (123456, "एक लाख तेईस हज़ार चार सौ छप्पन"),
    (20_000_000, "दो करोड़"),
])
def test_numbers_use_indian_grouping(value: int, words: str) -> None:
    assert number_to_hindi(value) == words


def test_dates_times_percent_and_currency_become_words() -> None:
    text = normalize_hindi("15/08/1947 को 10:30 बजे 3.5% ब्याज और ₹1,500")
    assert text == ("पंद्रह अगस्त उन्नीस सौ सैंतालीस को दस बजकर तीस मिनट तीन दशमलव पाँच "
                    "प्रतिशत ब्याज और एक हज़ार पाँच सौ रुपये")


def test_no_digits_or_latin_letters_survive() -> None:
    text = normalize_hindi("Dr. Sharma ने WHO और Google के 2nd टीके पर ५ बातें कहीं")
    assert not any(c.isascii() and c.isalnum() for c in text), text
    assert "डॉक्टर" in text and "डब्ल्यू एच ओ" in text and "दूसरा" in text and "पाँच" in text


def test_latin_words_are_transliterated_not_dropped() -> None:
    assert transliterate_latin("Sharma") == "शर्मा"
    assert transliterate_latin("UN") == "यू एन"
    assert transliterate_latin("Google") and not transliterate_latin("Google").isascii()


def test_speakable_and_clause_split() -> None:
    assert not is_speakable("... !? —")
    assert is_speakable("क") and is_speakable("5")
    long = "पहला वाक्य यहाँ है, दूसरा भाग यहाँ। तीसरा वाक्य थोड़ा लंबा है और चलता रहता है"
    pieces = split_clauses(long, 30)
    assert len(pieces) >= 3 and all(len(p) <= 30 for p in pieces)
    assert " ".join(pieces).split() == long.split()
