"""Word-level helpers of the transfer MT: relative and closed-class words, names, degrees."""

from __future__ import annotations

import re

from f2f.textnorm import transliterate_latin
from stages.mt import _hindi as hi
from stages.mt._function_words import ADVERB_CLAUSE_MARKS, DETERMINERS, MONTHS

ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
DEGREE_WORDS = frozenset(["more", "most", "less", "least", "fewer", "fewest", "better", "best",
                           "worse", "worst", "further", "farther", "later", "earlier"])


def relative_pronoun(token) -> hi.Pronoun | None:
    """जो/जिस for "who/which/that/whose/whom" inside a relative clause, plural if its noun is."""
    if token.tag_ not in ("WDT", "WP", "WP$"):
        return None
    head = token.head
    for _ in range(3):
        if head.dep_ == "relcl":
            plural = head.head.tag_ in ("NNS", "NNPS")
            return hi.RELATIVE_PLURAL if plural else hi.RELATIVE
        if head.head is head:
            return None
        head = head.head
    return None


def closed_class(token) -> str | None:
    """A pronoun, determiner or conjunction met outside its usual rule (an odd parse)."""
    lower = token.lower_
    if token.tag_ == "PRP$" and lower in _POSSESSIVES:
        return hi.PRONOUNS[_POSSESSIVES[lower]].possessive
    if token.pos_ == "PRON" and lower in hi.PRONOUNS:
        return hi.PRONOUNS[lower].direct
    if token.pos_ in ("DET", "PRON", "CCONJ") and lower in DETERMINERS:
        det = DETERMINERS[lower]
        return hi.PRONOUNS[det].direct if det in hi.PRONOUNS else det
    if token.pos_ == "SCONJ" or lower in ("that", "to"):
        return "कि" if lower == "that" else ADVERB_CLAUSE_MARKS.get(lower, "")
    return None


_POSSESSIVES = {"my": "i", "our": "we", "your": "you", "his": "he", "her": "she", "its": "it",
                "their": "they"}


def clause_subject(token) -> str | None:
    """The pronoun subject of the clause a word sits in, unless the word is in that subject."""
    path = [token]
    head = token.head
    while head.pos_ not in ("VERB", "AUX") and head.head is not head and head.head.i != head.i:
        path.append(head)
        head = head.head
    if any(t.dep_ in ("nsubj", "nsubjpass") for t in path):
        return None
    subject = next((c for c in head.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if subject is not None and subject.pos_ in ("NOUN", "PROPN"):  # "the company ... its"
        plural = subject.tag_ in ("NNS", "NNPS")
        return "noun-plural" if plural else "noun"
    return subject.lower_ if subject is not None and subject.pos_ == "PRON" else None


def transliterate_name(text: str) -> str:
    """Latin name or word -> Devanagari, keeping its digits: COVID-19 -> कोविड-19."""
    parts = re.findall(r"[^\W\d_]+|\d+", text)
    if len(parts) <= 1 or not any(p.isdigit() for p in parts):
        return transliterate_latin(text)
    return "-".join(p if p.isdigit() else transliterate_latin(p) for p in parts)


_ACRONYM = re.compile(r"[A-Z][A-Za-z0-9]*(?:[-/][A-Za-z0-9]+)*")
_ROMAN = re.compile(r"[IVXLC]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _code_part(part: str) -> bool:
    """One piece of a code: digits or capitals (SARS, 2, N1), or a short capitalised piece
    with a capital inside (the CoV of SARS-CoV-2); never a plain word (China, Friday, Cola)."""
    letters = [c for c in part if c.isalpha()]
    return any(c.isdigit() for c in part) or len(letters) >= 2 and all(
        c.isupper() for c in letters) or len(part) <= 4 and any(c.isupper() for c in part[1:])


def is_code(text: str) -> bool:
    """SARS-CoV-2, EU/EEA, COVID-19: a code when every piece between its hyphens or slashes is a
    code piece. India-Pakistan, Monday-Friday, Coca-Cola, US-China are words joined by a hyphen."""
    parts = re.split(r"[-/]", text)
    return len(parts) > 1 and all(parts) and all(_code_part(p) for p in parts) and any(
        c.isupper() for c in text)


def is_acronym(token) -> bool:
    """An acronym or code (WHO, EU/EEA, SARS-CoV-2, KV62): Hindi writing keeps these in Latin
    letters (95% of them in the TICO-19 references the rules were tuned on, 30% in FLORES
    news), and the TTS says them letter by letter either way (f2f.textnorm). Only capitals
    (and digits) make one: names with a capital inside (McDonald, YouTube, DeSantis) are names,
    transliterated. Not a roman numeral (World War II), nor a word in a sentence written in
    capitals (WHEREAS, ORDER)."""
    text = token.text
    if not _ACRONYM.fullmatch(text) or _ROMAN.fullmatch(text):
        return False
    if any(c in text for c in "-/"):
        if not is_code(text):
            return False
    elif not all(c.isupper() or c.isdigit() for c in text):
        return False
    capitals = sum(c.isupper() for c in text)
    if capitals < 2 or len(text) > 5 and capitals == len(text) and not any(
            c.isdigit() for c in text):
        return False
    words = [t for t in token.doc if t.is_alpha and len(t.text) > 1]
    shouting = sum(t.text.isupper() for t in words) > len(words) / 2
    return not shouting


TENS = {w: 10 * i for i, w in enumerate(
    ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]) if w}
UNITS = {w: i for i, w in enumerate(
    ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]) if w}


def spelled_compound_number(text: str) -> int | None:
    """"twenty-five" -> 25 (Hindi has one word for each number below 100)."""
    tens, _, units = text.lower().partition("-")
    return TENS[tens] + UNITS[units] if tens in TENS and units in UNITS else None


def merge_codes(doc) -> None:
    """Rejoins a code spaCy split at its hyphens or slashes (SARS-CoV-2, EU/EEA, MERS-CoV) into
    one name token (only a real code: India-Pakistan stays two words, each translated), and a
    range of numbers ("3-4") into one number, so each is written as one, the way it was typed."""
    spans, start = [], None
    for token in doc:
        joined = start is not None and doc[token.i - 1].whitespace_ == ""
        if token.text in ("-", "/") and joined:
            continue
        if _ACRONYM.fullmatch(token.text) and joined and doc[token.i - 1].text in ("-", "/"):
            continue
        if start is not None and token.i - start > 1:
            spans.append(doc[start:token.i])
        start = token.i if _ACRONYM.fullmatch(token.text) else None
    if start is not None and len(doc) - start > 1:
        spans.append(doc[start:])
    spans = [s for s in spans if s[-1].text not in ("-", "/") and is_code(s.text)]
    ranges = [doc[t.i - 1:t.i + 2] for t in doc if 0 < t.i < len(doc) - 1 and t.text in (
        "-", "–") and not doc[t.i - 1].whitespace_ and not t.whitespace_ and (
        _NUMBER.fullmatch(doc[t.i - 1].text) and _NUMBER.fullmatch(doc[t.i + 1].text)
        or doc[t.i - 1].lower_ in TENS and doc[t.i + 1].lower_ in UNITS)]
    for token in doc:  # H1N1, KV62: a name, whatever the tagger guessed (it calls H1N1 a verb)
        if token.text.isalnum() and token.text.upper() == token.text and any(
                c.isdigit() for c in token.text) and any(c.isalpha() for c in token.text):
            token.tag_, token.pos_ = "NNP", "PROPN"
    taken: set[int] = set()
    with doc.retokenize() as retokenizer:
        for span in spans:
            retokenizer.merge(span, attrs={"TAG": "NNP", "POS": "PROPN"})
            taken.update(range(span.start, span.end))
        for span in ranges:  # "3-4 days", "(3.0-7.2)", "twenty-five": one number
            if not taken.intersection(range(span.start, span.end)):
                retokenizer.merge(span, attrs={"TAG": "CD", "POS": "NUM"})
                taken.update(range(span.start, span.end))


def day_of_month(noun, number) -> bool:
    """"January 30": Hindi says the day first (30 जनवरी); a year stays after (मई 2019)."""
    return noun.lower_ in MONTHS and number.text.isdigit() and int(number.text) <= 31


def comparative_bases(word: str) -> list[str]:
    """colder -> cold, larger -> large, bigger -> big, easier -> easy (and -est alike)."""
    stem = word[:-3] if word.endswith("est") else word[:-2] if word.endswith("er") else word
    bases = [stem, stem + "e"]
    if len(stem) > 2 and stem[-1] == stem[-2]:
        bases.append(stem[:-1])
    if stem.endswith("i"):
        bases.append(stem[:-1] + "y")
    return bases


def participial_relative(verb) -> bool:
    """A present-tense relative clause on its subject ("people who live here") that Hindi says
    as a -ने वाला participle before the noun (यहाँ रहने वाले लोग)."""
    if verb.dep_ != "relcl" or verb.tag_ not in ("VBZ", "VBP") or verb.lemma_ == "be":
        return False
    children = list(verb.children)
    return any(c.dep_ == "nsubj" and c.tag_ in ("WDT", "WP") for c in children) and not any(
        c.dep_ in ("aux", "auxpass", "neg", "ccomp", "advcl") for c in children)
