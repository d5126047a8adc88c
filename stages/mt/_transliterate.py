"""A small rule-based English-spelling -> Devanagari transliterator for words the lexicon lacks.

Names and technical words are usually kept as loanwords in Hindi, so writing them in Devanagari
is better than dropping them. English spelling is irregular, so this is approximate
("covid" -> "कोविड", "london" -> "लोनडोन"); it exists so no word is ever lost.
"""

from __future__ import annotations

HALANT = "्"

# Longest match first. Each vowel: (independent form, sign after a consonant).
_VOWELS = {
    "aa": ("आ", "ा"), "ai": ("ऐ", "ै"), "ay": ("ए", "े"), "au": ("औ", "ौ"), "aw": ("ऑ", "ॉ"),
    "ee": ("ई", "ी"), "ea": ("ई", "ी"), "ie": ("ई", "ी"), "ei": ("ई", "ी"), "oo": ("ऊ", "ू"),
    "ou": ("औ", "ौ"), "oa": ("ओ", "ो"), "ow": ("ओ", "ो"), "oi": ("ऑय", "ॉय"), "oy": ("ऑय", "ॉय"),
    "a": ("अ", ""), "e": ("ए", "े"), "i": ("इ", "ि"), "o": ("ओ", "ो"), "u": ("उ", "ु"),
}
_CONSONANTS = {
    "sch": "स्क", "tch": "च", "ch": "च", "sh": "श", "th": "थ", "ph": "फ", "kh": "ख", "gh": "ग",
    "bh": "भ", "dh": "ध", "ck": "क", "qu": "क्व", "x": "क्स", "b": "ब", "c": "क", "d": "ड",
    "f": "फ", "g": "ग", "h": "ह", "j": "ज", "k": "क", "l": "ल", "m": "म", "n": "न", "p": "प",
    "q": "क", "r": "र", "s": "स", "t": "ट", "v": "व", "w": "व", "z": "ज़", "y": "य",
}
_DIGITS = str.maketrans("0123456789", "०१२३४५६७८९")


def _match(word: str, i: int, table: dict[str, object]) -> str | None:
    for size in (3, 2, 1):
        piece = word[i:i + size]
        if len(piece) == size and piece in table:
            return piece
    return None


def to_devanagari(word: str) -> str:
    """Transliterates one word; characters that are not ASCII letters pass through."""
    word = word.lower()
    if word.endswith("e") and len(word) > 3 and word[-2] not in "aeiouy":
        word = word[:-1]  # silent final e: "vaccine" -> "vaccin"
    out: list[str] = []
    after_consonant = False
    i = 0
    while i < len(word):
        char = word[i]
        if char == "y" and after_consonant:  # "y" after a consonant is a vowel
            out.append("ी" if i == len(word) - 1 else "ि")
            after_consonant = False
            i += 1
            continue
        vowel = _match(word, i, _VOWELS)
        if vowel:
            independent, sign = _VOWELS[vowel]
            if after_consonant:
                out.append("ा" if vowel == "a" and i + 1 == len(word) else sign)
            else:
                out.append("आ" if vowel == "a" and i + 1 == len(word) else independent)
            after_consonant = False
            i += len(vowel)
            continue
        consonant = _match(word, i, _CONSONANTS)
        if consonant:
            sound = _CONSONANTS[consonant]
            if consonant == "c" and word[i + 1:i + 2] in ("e", "i", "y"):
                sound = "स"
            if out and after_consonant:
                if out[-1] == sound:  # doubled letters are one sound: "ll", "ss"
                    i += len(consonant)
                    continue
                out.append(HALANT)
            out.append(sound)
            after_consonant = True
            i += len(consonant)
            continue
        out.append(char.translate(_DIGITS) if char.isdigit() else char)
        after_consonant = False
        i += 1
    return "".join(out)
