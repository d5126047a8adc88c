"""Lexicon MT (English -> Hindi): the offline default, and clearly low quality.

No English->Hindi neural model can be installed from a package registry, so this backend gives
the pipeline something Hindi to speak: a word/phrase table (`data/en_hi_lexicon.tsv`, built by
`build_lexicon.py`) plus a few Hindi word-order rules:
- prepositions become postpositions ("in the house" -> "घर में"), "X of Y" -> "Y का X";
- the verb group moves to the end of its clause (SVO -> SOV), negation just before it;
- words not in the table are transliterated to Devanagari, never dropped.
There is no agreement, tense or case morphology: expect word salad with the right words in it.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from f2f.artifacts import Transcript, Translation
from f2f.errors import WeightsNotFoundError
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import Availability, MTBackend
from f2f.weights import fingerprint
from stages.mt._common import aligned_translation, require_language
from stages.mt._transliterate import to_devanagari

log = logging.getLogger(__name__)

LEXICON_PATH = Path(__file__).parent / "data" / "en_hi_lexicon.tsv"
MAX_PHRASE_WORDS = 3
_NP_TAGS = {"DET", "ADJ", "NOUN", "NUM", "PRON", "X"}
_VERB_TAGS = {"VERB", "AUX"}
_CLAUSE_BREAK_TAGS = {"CONJ", "PUNCT"}
_CONTRACTIONS = [
    (r"\bcan't\b", "can not"), (r"\bwon't\b", "will not"), (r"n't\b", " not"),
    (r"\blet's\b", "let us"), (r"\b(it|that|what|he|she|there|here|who)'s\b", r"\1 is"),
    (r"'re\b", " are"), (r"'ll\b", " will"), (r"'ve\b", " have"), (r"'d\b", " would"),
    (r"\bi'm\b", "i am"),
]
_TOKEN = re.compile(r"[A-Za-z]+(?:'s)?|\d+(?:[.,]\d+)*%?|[^\w\s]")


@dataclass(frozen=True)
class Entry:
    hindi: str
    pos: str


@dataclass(frozen=True)
class Token:
    english: str
    hindi: str
    pos: str  # see build_lexicon.CORE; PUNCT for punctuation, X for transliterated words
    known: bool = True


@functools.lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH, min_score: float = 0.0) -> dict[str, Entry]:
    if not path.is_file():
        raise WeightsNotFoundError(f"lexicon table {path} is missing; rebuild it with "
                                   "`python -m stages.mt.build_lexicon` or reinstall f2f")
    table: dict[str, Entry] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith(("#", "en\t")):
            continue
        en, hi, pos, _source, score = line.split("\t")
        if float(score) >= min_score:
            table.setdefault(en, Entry(hi, pos))
    return table


def _expand(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    return re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", text)  # "F2" -> "F 2"


def _lemmas(word: str) -> list[str]:
    """Plausible dictionary forms of an inflected English word, most likely first."""
    out = []
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""),
                         ("ed", "e"), ("ing", ""), ("ing", "e"), ("ly", ""), ("er", ""),
                         ("est", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.append(word[: -len(suffix)] + repl)
    return out


class LexiconTranslator:
    """Pure text-to-text translation with the table; no model, no state between sentences."""

    def __init__(self, table: dict[str, Entry]) -> None:
        self.table = table

    def lookup(self, word: str, original: str) -> Token:
        # A single capital letter next to digits or alone is a spelled letter (GRID "F 2").
        if len(original) == 1 and original.isupper() and original != "I":
            entry = self.table.get(f"<letter:{word}>")
            if entry:
                return Token(original, entry.hindi, "NOUN")
        if word.endswith("'s"):
            base = self.lookup(word[:-2], original[:-2])
            return Token(original, f"{base.hindi} का", "NOUN", base.known)
        for candidate in [word, *_lemmas(word)]:
            entry = self.table.get(candidate)
            if entry:
                return Token(original, entry.hindi, entry.pos)
        return Token(original, to_devanagari(word), "X", known=False)

    def tokens(self, sentence: str) -> list[Token]:
        raw = _TOKEN.findall(_expand(sentence))
        lower = [t.lower() for t in raw]
        out: list[Token] = []
        i = 0
        while i < len(raw):
            if not (raw[i][0].isalnum()):
                out.append(Token(raw[i], raw[i], "PUNCT"))
                i += 1
                continue
            if raw[i][0].isdigit():
                out.append(Token(raw[i], raw[i], "NUM"))
                i += 1
                continue
            for size in range(MAX_PHRASE_WORDS, 1, -1):  # longest phrase first
                phrase = " ".join(lower[i:i + size])
                if i + size <= len(raw) and phrase in self.table:
                    entry = self.table[phrase]
                    out.append(Token(" ".join(raw[i:i + size]), entry.hindi, entry.pos))
                    i += size
                    break
            else:
                out.append(self.lookup(lower[i], raw[i]))
                i += 1
        return out

    def translate(self, sentence: str) -> str:
        tokens = self.tokens(sentence)
        ordered: list[Token] = []
        clause: list[Token] = []
        for token in tokens:
            if token.pos in _CLAUSE_BREAK_TAGS:
                ordered += reorder_clause(clause) + [token]
                clause = []
            else:
                clause.append(token)
        ordered += reorder_clause(clause)
        return render(ordered)


def _np_end(tokens: list[Token], start: int) -> int:
    """End of the noun phrase at `start`; an adverb inside it ("the only sense") is kept."""
    end = start
    while end < len(tokens) and (tokens[end].pos in _NP_TAGS or (
            tokens[end].pos == "ADV" and end + 1 < len(tokens)
            and tokens[end + 1].pos in _NP_TAGS)):
        end += 1
    return end


def _drop_infinitive_to(tokens: list[Token]) -> list[Token]:
    """'want to go': the infinitive 'to' has no Hindi word (the verb form carries it)."""
    return [t for i, t in enumerate(tokens)
            if not (t.english.lower() == "to" and i + 1 < len(tokens)
                    and tokens[i + 1].pos in _VERB_TAGS)]


def _postpositions(tokens: list[Token]) -> list[Token]:
    """ADP + noun phrase -> noun phrase + ADP; 'X of Y' -> 'Y का X'."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.pos == "ADP":
            end = _np_end(tokens, i + 1)
            if end == i + 1 and token.english.lower() == "about":
                out.append(Token(token.english, "लगभग", "ADV"))  # "about how long"
                i += 1
                continue
            if end > i + 1:
                phrase = _postpositions(tokens[i + 1:end])
                if token.english.lower() == "of":
                    left_start = len(out)
                    while left_start > 0 and out[left_start - 1].pos in _NP_TAGS:
                        left_start -= 1
                    left = out[left_start:]
                    out = out[:left_start] + phrase + [token] + left
                else:
                    out += phrase + [token]
                i = end
                continue
        out.append(token)
        i += 1
    return out


def reorder_clause(clause: list[Token]) -> list[Token]:
    """SVO -> SOV: the first verb group (with its negation) moves to the clause end."""
    clause = _postpositions(_drop_infinitive_to(clause))
    start = next((i for i, t in enumerate(clause) if t.pos in _VERB_TAGS), None)
    if start is None:
        return clause
    end = start
    negation: list[Token] = []
    group: list[Token] = []
    while end < len(clause) and (clause[end].pos in _VERB_TAGS or clause[end].pos == "NEG"
                                 or (clause[end].pos == "ADV" and end + 1 < len(clause)
                                     and clause[end + 1].pos in _VERB_TAGS)):
        (negation if clause[end].pos == "NEG" else group).append(clause[end])
        end += 1
    # Hindi puts the main verb before its auxiliaries ("is eating" -> "खा रहा है") and a
    # verb's complement before it ("want to go" -> "जाना चाहना").
    main = [t for t in group if t.pos != "AUX"][::-1]
    auxiliaries = [t for t in group if t.pos == "AUX"]
    if main and auxiliaries and auxiliaries[0].english.lower() in ("do", "does", "did"):
        auxiliaries = auxiliaries[1:]  # do-support has no Hindi counterpart
    return clause[:start] + clause[end:] + negation + main + list(reversed(auxiliaries))


def render(tokens: list[Token]) -> str:
    text = " ".join(t.hindi for t in tokens if t.hindi)
    text = re.sub(r"\s+([,;:!?%)])", r"\1", text)
    text = re.sub(r"\s*\.(?=\s|$)", " ।", text)  # Hindi full stop (danda)
    return " ".join(text.split())


@register
class LexiconMT(MTBackend):
    name = "lexicon"
    version = "1"
    languages = frozenset({"hi"})
    quality_note = ("low quality: word-for-word lexicon with simple Hindi word-order rules; "
                    "install Marian (opus-mt-en-hi) or NLLB weights for real translation")

    @dataclass(frozen=True)
    class Config:
        min_score: float = 0.1  # drop learned entries the aligner was less sure about
        lexicon: str = ""  # another table in the same TSV format; "" = the bundled one

    def _path(self) -> Path:
        return Path(self.config.lexicon).expanduser() if self.config.lexicon else LEXICON_PATH

    def availability(self) -> Availability:
        path = self._path()
        if not path.is_file():
            return Availability(False, f"lexicon table {path} is missing")
        return Availability(True, weights=str(path))

    def weights_fingerprint(self) -> str:
        return fingerprint(self._path())

    def weights_description(self) -> str:
        return f"lexicon table {self._path()}"

    def translator(self) -> LexiconTranslator:
        return LexiconTranslator(load_lexicon(self._path(), self.config.min_score))

    def translate(self, transcript: Transcript, target_language: str,
                  progress: StageProgress) -> Translation:
        require_language(self, target_language)
        translator = self.translator()
        texts, known, total = [], 0, 0
        for index, segment in enumerate(transcript.segments):
            tokens = [t for t in translator.tokens(segment.text) if t.pos != "PUNCT"]
            known += sum(t.known for t in tokens)
            total += len(tokens)
            texts.append(translator.translate(segment.text))
            progress((index + 1) / max(len(transcript.segments), 1), "translating")
        self.metrics = {"segments": len(texts), "words": total,
                        "lexicon_coverage": round(known / total, 4) if total else 1.0,
                        "quality_note": self.quality_note}
        log.info("mt lexicon: %d segments, %.0f%% of words in the lexicon", len(texts),
                 100 * self.metrics["lexicon_coverage"])
        return aligned_translation(transcript, texts, target_language, self.name)
