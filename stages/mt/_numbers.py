"""Numbers and terse commands for the transfer MT: "one million" -> दस लाख, "more than 5" ->
5 से अधिक, and GRID's verbless "bin blue at F2 now" said linearly, verb last."""

from __future__ import annotations

from f2f.textnorm import LETTER_NAMES, number_to_hindi
from stages.mt import _hindi as hi
from stages.mt._function_words import HEDGES, PREPOSITIONS, SCALES, SMALL_NUMBERS, WH_ADVERBS


def command(tr, tokens: list) -> list[str]:
    """A verbless parse of a terse command ("Bin blue at F2 now"): linear, verb last."""
    first, rest = tokens[0], tokens[1:]
    tr.used.update(t.i for t in tokens)
    words: list[str] = []
    pending: str | None = None
    for token in rest:
        if token.is_punct:
            continue
        if token.pos_ == "ADP" or token.lower_ in PREPOSITIONS and token.pos_ != "ADV":
            if pending:
                words.append(pending)
            pending = "के पास" if token.lower_ == "by" else PREPOSITIONS.get(token.lower_, "")
            continue
        if pending is not None and token.pos_ in ("ADV", "INTJ") or token.lower_ in (
                "now", "soon", "again", "please"):
            if pending:
                words.append(pending)
            pending = None
        text = tr.word(token) if token.like_num else WH_ADVERBS.get(token.lower_) or (
            LETTER_NAMES[token.lower_] if len(token.text) == 1 and token.text.isalpha()
            else tr.dictionary.lookup(token.lower_, "ADJ") or tr.word(token))
        words.append(text)
    if pending:
        words.append(pending)
    infinitive = tr.dictionary.lookup(first.lower_, "VERB") or "करना"
    return words + [hi.verb(infinitive, hi.Tense("imperative"), hi.Agreement("m", True, 2))]


def number(tr, token) -> str:
    """'one million' -> 'दस लाख', 'more than 5' -> '5 से अधिक', 'three' -> 'तीन'."""
    hedges = [c for c in token.children if c.lower_ in HEDGES or c.lower_ == "than"]
    tr.used.update(t.i for c in hedges for t in c.subtree)  # "at" of "at least"
    before = " ".join(HEDGES[c.lower_] for c in hedges
                      if c.lower_ in HEDGES and not HEDGES[c.lower_].startswith("से"))
    after = " ".join(HEDGES[c.lower_] for c in hedges
                     if c.lower_ in HEDGES and HEDGES[c.lower_].startswith("से"))
    return " ".join(w for w in (before, _number(tr, token), after) if w)


def _number(tr, token) -> str:
    scale = SCALES.get(token.lower_)
    parts = [c for c in token.children if c.dep_ in ("compound", "nummod", "quantmod")
             and (c.like_num or c.lower_ in SMALL_NUMBERS)]
    tr.used.update([token.i] + [p.i for p in parts])
    if scale and parts:
        count = parts[0].lower_.replace(",", "")
        value = SMALL_NUMBERS.get(count)
        try:
            number = float(count) if value is None else float(value)
        except ValueError:
            return f"{tr.word(parts[0], 'NUM')} {scale[1]}"
        total = number * scale[0]
        if value is not None:  # spelled out in English: spelled out in Hindi
            return f"{number_to_hindi(int(total))} {scale[1]}"
        return f"{int(total) if total == int(total) else total} {scale[1]}"
    if scale:
        return f"{scale[0]} {scale[1]}"
    return tr.word(token, "NUM")
