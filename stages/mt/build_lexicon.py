"""Builds `stages/mt/data/en_hi_lexicon.tsv`, the word/phrase table of the `lexicon` MT backend.

Two sources:
- a hand-written core vocabulary (below): pronouns, function words, common verbs with their
  forms, numbers, and the GRID corpus words, each with a part of speech for the reordering rules;
- word translations learned from TICO-19 `en_hi_all.tsv` (CC0 1.0) with IBM Model 1 run in both
  directions, keeping pairs both directions agree on. The 40 sentences of `en_hi_40.tsv` (the test
  set) are left out, matched by tuid and by text, so chrF measured on them stays honest.

    python -m stages.mt.build_lexicon --tico ../shared/data/tico19 \
        --out stages/mt/data/en_hi_lexicon.tsv
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

# en | hi | pos. POS tags drive the word-order rules in lexicon.py: PRON, NOUN, VERB, AUX, ADJ,
# ADV, ADP (English preposition -> Hindi postposition), DET, NUM, CONJ, NEG, WH, PP (a pronoun
# already joined with its postposition), X (unknown). An empty hi means "drop the word".
CORE = """
i|मैं|PRON
me|मुझे|PRON
my|मेरा|PRON
mine|मेरा|PRON
we|हम|PRON
us|हमें|PRON
our|हमारा|PRON
you|आप|PRON
your|आपका|PRON
yours|आपका|PRON
he|वह|PRON
him|उसे|PRON
his|उसका|PRON
she|वह|PRON
her|उसकी|PRON
it|यह|PRON
its|इसका|PRON
they|वे|PRON
them|उन्हें|PRON
their|उनका|PRON
this|यह|DET
that|वह|DET
these|ये|DET
those|वे|DET
there|वहाँ|ADV
here|यहाँ|ADV
the||DET
a||DET
an||DET
some|कुछ|DET
any|कोई|DET
all|सभी|DET
every|हर|DET
each|प्रत्येक|DET
many|कई|DET
more|अधिक|ADV
most|सबसे|ADV
no|कोई नहीं|DET
other|अन्य|ADJ
such|ऐसा|ADJ
what|क्या|WH
who|कौन|WH
whom|किसे|WH
which|कौन सा|WH
where|कहाँ|WH
when|कब|WH
why|क्यों|WH
how|कैसे|WH
how long|कितने समय से|WH
how much|कितना|WH
how many|कितने|WH
and|और|CONJ
or|या|CONJ
but|लेकिन|CONJ
because|क्योंकि|CONJ
if|अगर|CONJ
so|इसलिए|CONJ
than|से|ADP
then|फिर|ADV
also|भी|ADV
only|केवल|ADV
very|बहुत|ADV
not|नहीं|NEG
never|कभी नहीं|NEG
yes|हाँ|ADV
in|में|ADP
into|में|ADP
inside|के अंदर|ADP
on|पर|ADP
at|पर|ADP
to|को|ADP
for|के लिए|ADP
from|से|ADP
with|के साथ|ADP
without|के बिना|ADP
by|के पास|ADP
of|का|ADP
about|के बारे में|ADP
after|के बाद|ADP
before|से पहले|ADP
during|के दौरान|ADP
since|से|ADP
until|तक|ADP
between|के बीच|ADP
under|के नीचे|ADP
over|के ऊपर|ADP
near|के पास|ADP
against|के खिलाफ|ADP
through|के माध्यम से|ADP
like|की तरह|ADP
to me|मुझे|PP
for me|मेरे लिए|PP
with me|मेरे साथ|PP
from me|मुझसे|PP
to you|आपको|PP
for you|आपके लिए|PP
with you|आपके साथ|PP
from you|आपसे|PP
to us|हमें|PP
for us|हमारे लिए|PP
with us|हमारे साथ|PP
to them|उन्हें|PP
for them|उनके लिए|PP
with them|उनके साथ|PP
to him|उसे|PP
to her|उसे|PP
is|है|AUX
are|हैं|AUX
am|हूँ|AUX
was|था|AUX
were|थे|AUX
be|होना|AUX
been|रहा|AUX
being|होते हुए|AUX
will|गा|AUX
would|होगा|AUX
shall|गा|AUX
can|सकते हैं|AUX
could|सकते थे|AUX
should|चाहिए|AUX
must|चाहिए|AUX
may|सकता है|AUX
might|सकता है|AUX
do|करते हैं|AUX
does|करता है|AUX
did|किया|AUX
has|है|AUX
have|है|AUX
had|था|AUX
there is|है|AUX
there are|हैं|AUX
have to|होगा|AUX
has to|होगा|AUX
go|जाना|VERB
goes|जाता है|VERB
went|गया|VERB
going|जा रहा|VERB
gone|गया|VERB
come|आना|VERB
comes|आता है|VERB
came|आया|VERB
coming|आ रहा|VERB
eat|खाना|VERB
eats|खाता है|VERB
ate|खाया|VERB
eating|खा रहा|VERB
drink|पीना|VERB
see|देखना|VERB
saw|देखा|VERB
seen|देखा|VERB
look|देखो|VERB
say|कहना|VERB
said|कहा|VERB
says|कहता है|VERB
tell|बताना|VERB
told|बताया|VERB
speak|बोलना|VERB
talk|बात करना|VERB
make|बनाना|VERB
made|बनाया|VERB
take|लेना|VERB
took|लिया|VERB
taken|लिया|VERB
give|देना|VERB
gave|दिया|VERB
given|दिया|VERB
get|पाना|VERB
got|मिला|VERB
know|जानना|VERB
knew|जानता था|VERB
known|ज्ञात|VERB
think|सोचना|VERB
thought|सोचा|VERB
want|चाहना|VERB
wants|चाहता है|VERB
use|उपयोग करना|VERB
used|उपयोग किया|VERB
using|उपयोग करके|VERB
help|मदद करना|VERB
need|ज़रूरत है|VERB
needs|ज़रूरत है|VERB
feel|महसूस करना|VERB
feeling|महसूस कर रहा|VERB
live|रहना|VERB
work|काम करना|VERB
start|शुरू करना|VERB
started|शुरू किया|VERB
stop|रोकना|VERB
call|बुलाना|VERB
called|कहा जाता है|VERB
find|खोजना|VERB
found|पाया|VERB
show|दिखाना|VERB
write|लिखना|VERB
read|पढ़ना|VERB
play|खेलना|VERB
run|दौड़ना|VERB
walk|चलना|VERB
sit|बैठना|VERB
stand|खड़ा होना|VERB
open|खोलना|VERB
close|बंद करना|VERB
bring|लाना|VERB
put|रखना|VERB
keep|रखना|VERB
leave|छोड़ना|VERB
become|बनना|VERB
became|बन गया|VERB
have been|रहा है|AUX
has been|रहा है|AUX
bin|डालो|VERB
lay|रखो|VERB
place|रखो|VERB
set|लगाओ|VERB
please|कृपया|ADV
again|फिर से|ADV
now|अभी|ADV
soon|जल्द ही|ADV
today|आज|ADV
tomorrow|कल|ADV
yesterday|कल|ADV
always|हमेशा|ADV
often|अक्सर|ADV
already|पहले से|ADV
still|अभी भी|ADV
blue|नीला|ADJ
green|हरा|ADJ
red|लाल|ADJ
white|सफ़ेद|ADJ
black|काला|ADJ
yellow|पीला|ADJ
good|अच्छा|ADJ
bad|बुरा|ADJ
big|बड़ा|ADJ
small|छोटा|ADJ
new|नया|ADJ
old|पुराना|ADJ
high|उच्च|ADJ
low|कम|ADJ
long|लंबा|ADJ
important|महत्वपूर्ण|ADJ
same|वही|ADJ
different|अलग|ADJ
first|पहला|ADJ
last|पिछला|ADJ
next|अगला|ADJ
zero|शून्य|NUM
one|एक|NUM
two|दो|NUM
three|तीन|NUM
four|चार|NUM
five|पाँच|NUM
six|छह|NUM
seven|सात|NUM
eight|आठ|NUM
nine|नौ|NUM
ten|दस|NUM
hundred|सौ|NUM
thousand|हज़ार|NUM
million|दस लाख|NUM
person|व्यक्ति|NOUN
people|लोग|NOUN
man|आदमी|NOUN
woman|महिला|NOUN
child|बच्चा|NOUN
children|बच्चे|NOUN
friend|दोस्त|NOUN
family|परिवार|NOUN
house|घर|NOUN
home|घर|NOUN
water|पानी|NOUN
food|भोजन|NOUN
day|दिन|NOUN
days|दिन|NOUN
week|सप्ताह|NOUN
year|वर्ष|NOUN
years|वर्ष|NOUN
time|समय|NOUN
world|दुनिया|NOUN
country|देश|NOUN
city|शहर|NOUN
name|नाम|NOUN
thing|चीज़|NOUN
things|चीज़ें|NOUN
way|तरीका|NOUN
hand|हाथ|NOUN
head|सिर|NOUN
eye|आँख|NOUN
heart|दिल|NOUN
doctor|डॉक्टर|NOUN
hospital|अस्पताल|NOUN
pain|दर्द|NOUN
fever|बुखार|NOUN
chest|छाती|NOUN
symptoms|लक्षण|NOUN
symptom|लक्षण|NOUN
disease|रोग|NOUN
virus|वायरस|NOUN
health|स्वास्थ्य|NOUN
government|सरकार|NOUN
president|राष्ट्रपति|NOUN
school|स्कूल|NOUN
book|किताब|NOUN
letter|अक्षर|NOUN
word|शब्द|NOUN
question|प्रश्न|NOUN
answer|उत्तर|NOUN
thank you|धन्यवाद|ADV
thanks|धन्यवाद|ADV
hello|नमस्ते|ADV
good morning|सुप्रभात|ADV
ask|पूछना|VERB
watch|देखना|VERB
learn|सीखना|VERB
understand|समझना|VERB
lead|नेतृत्व करना|VERB
spend|खर्च करना|VERB
win|जीतना|VERB
love|प्यार करना|VERB
wait|इंतज़ार करना|VERB
serve|सेवा करना|VERB
sell|बेचना|VERB
pull|खींचना|VERB
buy|खरीदना|VERB
pay|भुगतान करना|VERB
build|बनाना|VERB
grow|बढ़ना|VERB
begin|शुरू करना|VERB
finish|खत्म करना|VERB
listen|सुनना|VERB
hear|सुनना|VERB
sleep|सोना|VERB
meet|मिलना|VERB
believe|विश्वास करना|VERB
remember|याद करना|VERB
forget|भूलना|VERB
choose|चुनना|VERB
fight|लड़ना|VERB
protect|रक्षा करना|VERB
save|बचाना|VERB
teach|पढ़ाना|VERB
travel|यात्रा करना|VERB
garden|बगीचा|NOUN
money|पैसा|NOUN
story|कहानी|NOUN
issue|मुद्दा|NOUN
job|नौकरी|NOUN
jobs|नौकरियाँ|NOUN
climate|जलवायु|NOUN
car|कार|NOUN
idea|विचार|NOUN
ideas|विचार|NOUN
parent|माता-पिता|NOUN
parents|माता-पिता|NOUN
nation|राष्ट्र|NOUN
freedom|आज़ादी|NOUN
tax|कर|NOUN
taxes|कर|NOUN
river|नदी|NOUN
tree|पेड़|NOUN
trees|पेड़|NOUN
sky|आसमान|NOUN
sun|सूरज|NOUN
moon|चाँद|NOUN
road|सड़क|NOUN
village|गाँव|NOUN
market|बाज़ार|NOUN
price|कीमत|NOUN
war|युद्ध|NOUN
peace|शांति|NOUN
army|सेना|NOUN
law|कानून|NOUN
court|अदालत|NOUN
police|पुलिस|NOUN
friends|दोस्त|NOUN
boy|लड़का|NOUN
girl|लड़की|NOUN
men|आदमी|NOUN
women|औरतें|NOUN
student|छात्र|NOUN
students|छात्र|NOUN
teacher|शिक्षक|NOUN
teachers|शिक्षक|NOUN
worker|कर्मचारी|NOUN
workers|कर्मचारी|NOUN
farmer|किसान|NOUN
farmers|किसान|NOUN
business|व्यापार|NOUN
office|कार्यालय|NOUN
room|कमरा|NOUN
door|दरवाज़ा|NOUN
window|खिड़की|NOUN
night|रात|NOUN
morning|सुबह|NOUN
evening|शाम|NOUN
month|महीना|NOUN
months|महीने|NOUN
hour|घंटा|NOUN
hours|घंटे|NOUN
future|भविष्य|NOUN
history|इतिहास|NOUN
energy|ऊर्जा|NOUN
power|शक्ति|NOUN
game|खेल|NOUN
music|संगीत|NOUN
language|भाषा|NOUN
problem|समस्या|NOUN
problems|समस्याएँ|NOUN
reason|कारण|NOUN
truth|सच|NOUN
life|जीवन|NOUN
body|शरीर|NOUN
mind|मन|NOUN
voice|आवाज़|NOUN
face|चेहरा|NOUN
great|महान|ADJ
little|छोटा|ADJ
beautiful|सुंदर|ADJ
happy|खुश|ADJ
sad|दुखी|ADJ
strong|मज़बूत|ADJ
weak|कमज़ोर|ADJ
easy|आसान|ADJ
difficult|कठिन|ADJ
safe|सुरक्षित|ADJ
clean|साफ़|ADJ
rich|अमीर|ADJ
poor|गरीब|ADJ
hot|गर्म|ADJ
cold|ठंडा|ADJ
simple|सरल|ADJ
possible|संभव|ADJ
together|एक साथ|ADV
"""

# GRID letters are read by their English names.
LETTER_NAMES = {
    "a": "ए", "b": "बी", "c": "सी", "d": "डी", "e": "ई", "f": "एफ", "g": "जी", "h": "एच",
    "i": "आई", "j": "जे", "k": "के", "l": "एल", "m": "एम", "n": "एन", "o": "ओ", "p": "पी",
    "q": "क्यू", "r": "आर", "s": "एस", "t": "टी", "u": "यू", "v": "वी", "w": "डब्ल्यू",
    "x": "एक्स", "y": "वाई", "z": "ज़ेड",
}

_EN_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+")
_HI_STRIP = "।॥,.;:!?\"'()[]{}-–—“”‘’"


def core_entries() -> list[tuple[str, str, str]]:
    rows = []
    for line in CORE.strip().splitlines():
        en, hi, pos = line.split("|")
        rows.append((en.strip(), hi.strip(), pos.strip()))
    return rows


def english_tokens(text: str) -> list[str]:
    return _EN_TOKEN.findall(text.lower())


def hindi_tokens(text: str) -> list[str]:
    words = (w.strip(_HI_STRIP) for w in text.split())
    return [w for w in words if w and not w.isascii()]


def read_pairs(tico_dir: Path) -> list[tuple[list[str], list[str]]]:
    """Training pairs from en_hi_all.tsv minus every sentence of the en_hi_40 test set."""
    def rows(name: str) -> list[dict[str, str]]:
        with (tico_dir / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))

    test = rows("en_hi_40.tsv")
    test_ids = {r["tuid"] for r in test}
    test_texts = {" ".join(english_tokens(r["en"])) for r in test}
    pairs, skipped = [], 0
    for row in rows("en_hi_all.tsv"):
        en = english_tokens(row["en"])
        if row["tuid"] in test_ids or " ".join(en) in test_texts:
            skipped += 1
            continue
        hi = hindi_tokens(row["hi"])
        if en and hi:
            pairs.append((en, hi))
    log.info("lexicon: %d training pairs, %d test sentences excluded", len(pairs), skipped)
    return pairs


def ibm_model1(pairs: Iterable[tuple[list[str], list[str]]], iterations: int = 8
               ) -> dict[str, dict[str, float]]:
    """t(target | source) by EM; a NULL source word soaks up target function words."""
    pairs = [(["<null>"] + src, tgt) for src, tgt in pairs]
    target_vocab = {w for _, tgt in pairs for w in tgt}
    uniform = 1.0 / len(target_vocab)
    table: dict[str, dict[str, float]] = defaultdict(dict)
    for _ in range(iterations):
        counts: dict[str, Counter[str]] = defaultdict(Counter)
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
                min_score: float = 0.05) -> dict[str, tuple[str, float]]:
    """English word -> (Hindi word, score) where both alignment directions agree."""
    forward = ibm_model1(pairs)
    backward = ibm_model1([(hi, en) for en, hi in pairs])
    en_counts = Counter(w for en, _ in pairs for w in en)
    learned = {}
    for word, count in en_counts.items():
        if count < min_count or word not in forward:
            continue
        best = None
        for hindi, p_forward in forward[word].items():
            score = math.sqrt(p_forward * backward.get(hindi, {}).get(word, 0.0))
            if best is None or score > best[1]:
                best = (hindi, score)
        if best and best[1] >= min_score:
            learned[word] = best
    return learned


def guess_pos(word: str) -> str:
    if word.endswith("ly"):
        return "ADV"
    if word.endswith(("ed", "ing")):
        return "VERB"
    return "NOUN"


def build(tico_dir: Path, out: Path) -> int:
    core = core_entries()
    known = {en for en, _, _ in core}
    learned = learn_words(read_pairs(tico_dir))
    with out.open("w", encoding="utf-8", newline="") as handle:
        handle.write("# English -> Hindi lexicon for f2f's `lexicon` MT backend "
                     "(built by stages/mt/build_lexicon.py).\n"
                     "# source=core: hand-written for f2f (project licence). source=tico19: "
                     "learned from TICO-19 en_hi_all.tsv (CC0 1.0), the en_hi_40 test set "
                     "excluded.\n")
        handle.write("en\thi\tpos\tsource\tscore\n")
        for en, hi, pos in core:
            handle.write(f"{en}\t{hi}\t{pos}\tcore\t1.0\n")
        for letter, name in LETTER_NAMES.items():
            handle.write(f"<letter:{letter}>\t{name}\tX\tcore\t1.0\n")
        rows = 0
        for en, (hi, score) in sorted(learned.items()):
            if en in known or en.isdigit():
                continue
            handle.write(f"{en}\t{hi}\t{guess_pos(en)}\ttico19\t{score:.3f}\n")
            rows += 1
    log.info("lexicon: %d core + %d learned entries -> %s", len(core), rows, out)
    return len(core) + rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tico", type=Path, default=Path("../shared/data/tico19"))
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "data" / "en_hi_lexicon.tsv")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build(args.tico, args.out)


if __name__ == "__main__":
    main()
