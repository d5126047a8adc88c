"""Builds the data files of the transfer MT dictionary (`stages/mt/data/`), once, offline.

- `freedict_en_hi.tsv`: FreeDict eng-hin 1.6 (IIIT Hyderabad's English-Hindi dictionary, GPL-2+),
  converted from Debian's `dict-freedict-eng-hin` (`/usr/share/dictd/freedict-eng-hin.dict.dz`):
  the first Hindi rendering of each headword's first sense, per part of speech.
- `learned_en_hi.tsv`: word translations learned with IBM Model 1 in both directions from
  TICO-19 `en_hi_all.tsv` (CC0 1.0) minus its held-out `en_hi_40` test sentences, and the first
  `TUNE_SENTENCES` of FLORES-200 dev (CC BY-SA 4.0); the rest of dev is our own held-out test.
  English is lemmatised with spaCy, so entries are keyed like the transfer's look-ups.
- `hi_gender.tsv`: grammatical gender of Hindi nouns, counted from the Hindi side of the same
  text: a noun right after की is feminine, after का/के masculine.

    python -m stages.mt.build_lexicon --freedict /usr/share/dictd/freedict-eng-hin.dict.dz
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from stages.mt._dictionary import clean_freedict_hindi

log = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
TUNE_SENTENCES = 700  # FLORES dev ids below this are training/tuning data, the rest our test
_POS = {"N": "NOUN", "Adj": "ADJ", "V": "VERB", "VT": "VERB", "VI": "VERB", "VTI": "VERB",
        "Adv": "ADV", "PhrV": "VERB", "PhrVT": "VERB", "PhrVI": "VERB"}
_HEADWORD = re.compile(r"^(\S[^/<]*?)\s*(?:/[^/]*/)?\s*<([A-Za-z]+)>\s*$")
_SENSE = re.compile(r"^\d+\.\s*(.+)$")
_HI_STRIP = "।॥,.;:!?\"'()[]{}-–—“”‘’"
_CONTENT = {"NOUN", "PROPN", "ADJ", "ADV", "VERB", "NUM"}


def _clean_hindi(text: str) -> str:
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)", "", text).split(",")[0].split(";")[0]
    return clean_freedict_hindi(text.replace("~", " ")) or ""


def read_freedict(path: Path) -> list[tuple[str, str, str]]:
    """(english, pos, hindi) rows: the first Devanagari sense of each headword and POS."""
    rows, seen = [], set()
    headword = pos = ""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip()
            match = _HEADWORD.match(line)
            if match:
                headword, pos = match.group(1).strip().lower(), _POS.get(match.group(2), "")
                continue
            sense = _SENSE.match(line.strip())
            if not (sense and headword and pos) or (headword, pos) in seen:
                continue
            hindi = _clean_hindi(sense.group(1))
            if len(hindi.split()) > 3 or len(headword) == 1:
                continue  # a definition ("the twelfth letter ..."), not a translation
            if hindi and not any(c.isascii() and c.isalpha() for c in hindi):
                if pos == "VERB" and not hindi.endswith("ना"):
                    hindi += " करना"
                rows.append((headword, pos, hindi))
                seen.add((headword, pos))
    return rows


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def training_pairs(tico_dir: Path, flores_tsv: Path) -> list[tuple[str, str]]:
    """TICO-19 minus en_hi_40 (by tuid and text), plus FLORES dev ids < TUNE_SENTENCES."""
    test = _read_tsv(tico_dir / "en_hi_40.tsv")
    test_ids = {r["tuid"] for r in test}
    test_texts = {r["en"].strip().lower() for r in test}
    pairs = [(r["en"], r["hi"]) for r in _read_tsv(tico_dir / "en_hi_all.tsv")
             if r["tuid"] not in test_ids and r["en"].strip().lower() not in test_texts]
    pairs += [(r["en"], r["hi"]) for r in _read_tsv(flores_tsv) if int(r["id"]) < TUNE_SENTENCES]
    log.info("lexicon: %d training pairs (held-out test sentences excluded)", len(pairs))
    return pairs


def hindi_tokens(text: str) -> list[str]:
    words = (w.strip(_HI_STRIP) for w in text.split())
    return [w for w in words if w and not w.isascii()]


def ibm_model1(pairs: Iterable[tuple[list[str], list[str]]], iterations: int = 8
               ) -> dict[str, dict[str, float]]:
    """t(target | source) by EM; a NULL source word soaks up target function words."""
    pairs = [(["<null>"] + src, tgt) for src, tgt in pairs]
    uniform = 1.0 / max(len({w for _, tgt in pairs for w in tgt}), 1)
    table: dict[str, dict[str, float]] = defaultdict(dict)
    for _ in range(iterations):
        counts: dict[str, defaultdict[str, float]] = defaultdict(lambda: defaultdict(float))
        for src, tgt in pairs:
            for t in tgt:
                probs = [table[s].get(t, uniform) for s in src]
                norm = sum(probs)
                for s, p in zip(src, probs, strict=True):
                    counts[s][t] += p / norm
        table = defaultdict(dict)
        for s, row in counts.items():
            total = sum(row.values())
            table[s] = {t: c / total for t, c in row.items() if c / total > 1e-3}
    return table


def learn_words(pairs: list[tuple[list[str], list[str]]], min_count: int = 2,
                min_score: float = 0.05) -> dict[str, tuple[str, float, int]]:
    """English key -> (Hindi word, score, count) where both alignment directions agree."""
    forward = ibm_model1(pairs)
    backward = ibm_model1([(hi, en) for en, hi in pairs])
    counts = Counter(w for en, _ in pairs for w in en)
    learned = {}
    for word, count in counts.items():
        if count < min_count or word not in forward:
            continue
        best = max(((h, math.sqrt(p * backward.get(h, {}).get(word, 0.0)))
                    for h, p in forward[word].items()), key=lambda x: x[1], default=None)
        if best and best[1] >= min_score:
            learned[word] = (best[0], best[1], count)
    return learned


def direct_singular(inflected: str, counts: Counter[str]) -> str:
    """'नागरिकों' -> 'नागरिक', 'लड़कों' -> 'लड़का', 'व्यक्तियों' -> 'व्यक्ति', 'हमले' -> 'हमला':
    the form the Hindi text uses more."""
    if inflected.endswith("ने"):  # करने, बढ़ाने: a verb form, not a noun's
        return inflected
    if inflected.endswith("े"):  # masculine oblique / plural: मामले -> मामला
        singular = inflected[:-1] + "ा"
        return singular if counts[singular] >= max(1, counts[inflected] // 20) else inflected
    stem = inflected[:-2]
    if inflected.endswith("ओं"):  # आवश्यकताओं -> आवश्यकता
        return stem
    candidates = [stem, stem + "ा"]
    if inflected.endswith("ियों"):  # व्यक्तियों -> व्यक्ति, बीमारियों -> बीमारी
        candidates = [inflected[:-4] + "ी", inflected[:-4] + "ि", inflected[:-4] + "िया"]
    return max(candidates, key=lambda w: (counts[w], -len(w)))


# Hindi words an alignment may pin on a content word that are grammar, never its translation.
_FUNCTION_WORDS = frozenset("का के की को से में पर ने है हैं था थे थी और या कि भी तो ही एक यह वह "
                            "ये वे इस उस इन उन जो लिए साथ द्वारा नहीं हो हुआ हुए क्या "
                            # pronoun forms: "judge" -> उसे, "mean" -> इसका, "notify" -> आपको
                            "उसे उसको उन्हें उनको इसे इन्हें मुझे हमें तुम्हें आपको उसने उन्होंने "
                            "इसने मैंने हमने उसका उसके उसकी उनका उनके उनकी इसका इसके इसकी".split())


def learn_genders(hindi: Iterable[str]) -> dict[str, str]:
    """A noun after की is feminine, after का/के masculine; keep clear majorities only."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for sentence in hindi:
        words = hindi_tokens(sentence)
        for before, word in itertools.pairwise(words):
            if before in ("का", "के"):
                votes[word]["m"] += 1
            elif before == "की":
                votes[word]["f"] += 1
    genders = {}
    for word, vote in votes.items():
        (gender, top), total = vote.most_common(1)[0], sum(vote.values())
        if total >= 2 and top / total >= 0.75:
            genders[word] = gender
    return genders


_ASCII_RUN = re.compile(r"[A-Za-z0-9]+")


def foreign_ascii(english: str, hindi: str) -> bool:
    """Hindi with a Latin or digit run the English word lacks: 'cambodia' -> '18वीं', 'anti' ->
    'SARS-CoV-2-रोधी' are a neighbour's alignment, not a translation ('18th' -> '18वीं' is one)."""
    return any(run.lower() not in english.lower() for run in _ASCII_RUN.findall(hindi))


def build(tico_dir: Path, flores_tsv: Path, freedict: Path | None, out_dir: Path) -> None:
    import spacy  # heavy: only when building

    from stages.mt._dictionary import SPACY_MODEL
    nlp = spacy.load(SPACY_MODEL, disable=["parser", "ner"])
    pairs = training_pairs(tico_dir, flores_tsv)
    keyed: list[tuple[list[str], list[str]]] = []
    pos_votes: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for (_, hi), doc in zip(pairs, nlp.pipe(en for en, _ in pairs), strict=True):
        words = [t.lemma_.lower() for t in doc if t.pos_ in _CONTENT]
        for t in doc:
            if t.pos_ in _CONTENT:
                pos_votes[t.lemma_.lower()][t.pos_] += 1
        keyed.append((words, hindi_tokens(hi)))
    learned = learn_words([(en, hi) for en, hi in keyed if en and hi])
    hindi_counts = Counter(w for _, hi in keyed for w in hi)
    for en, (hi, score, count) in list(learned.items()):
        if hi in _FUNCTION_WORDS or not any(c.isalpha() for c in en) or foreign_ascii(en, hi):
            del learned[en]  # "covid-19" -> के, "%" -> से, "like" -> SARS-जैसे: alignment noise
        elif pos_votes[en].most_common(1)[0][0] == "NOUN" and hi.endswith(("ों", "ओं", "े")):
            learned[en] = (direct_singular(hi, hindi_counts), score, count)
    with (out_dir / "learned_en_hi.tsv").open("w", encoding="utf-8") as handle:
        handle.write("# Learned by stages/mt/build_lexicon.py from TICO-19 en_hi_all (CC0 1.0, "
                     "en_hi_40 excluded) and FLORES-200 dev ids < 700 (CC BY-SA 4.0).\n"
                     "en\tpos\thi\tscore\tcount\n")
        for en, (hi, score, count) in sorted(learned.items()):
            pos = pos_votes[en].most_common(1)[0][0]
            handle.write(f"{en}\t{pos}\t{hi}\t{score:.3f}\t{count}\n")
    genders = learn_genders(hi for _, hi in pairs)
    with (out_dir / "hi_gender.tsv").open("w", encoding="utf-8") as handle:
        handle.write("# Gender of Hindi nouns counted from the same Hindi text (का/के vs की).\n"
                     "hi\tgender\n")
        handle.writelines(f"{w}\t{g}\n" for w, g in sorted(genders.items()))
    if freedict:
        rows = read_freedict(freedict)
        with (out_dir / "freedict_en_hi.tsv").open("w", encoding="utf-8") as handle:
            handle.write("# FreeDict eng-hin 1.6 (IIIT Hyderabad English-Hindi dictionary), GNU "
                         "GPL 2.0 or later; first sense per headword, converted by "
                         "stages/mt/build_lexicon.py.\nen\tpos\thi\n")
            handle.writelines(f"{en}\t{pos}\t{hi}\n" for en, pos, hi in rows)
    log.info("lexicon: %d learned words, %d genders -> %s", len(learned), len(genders), out_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tico", type=Path, default=Path("../shared/data/tico19"))
    parser.add_argument("--flores", type=Path,
                        default=Path("../shared/data/flores200/flores_dev_en_hi.tsv"))
    parser.add_argument("--freedict", type=Path, help="freedict-eng-hin.dict.dz (optional)")
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build(args.tico, args.flores, args.freedict, args.out)


if __name__ == "__main__":
    main()
