"""Grammar rules of the transfer MT (`lexicon`): one sentence per rule, with its Hindi.

Each case names the rule it guards; the sentences were written for this test, not taken from
a test set. The morphology cases check `_hindi` directly.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import pytest

from f2f.textnorm import transliterate_latin
from stages.mt import _hindi as hi
from stages.mt import build_lexicon
from stages.mt._dictionary import load_dictionary
from stages.mt._function_words import render
from stages.mt.lexicon import TransferTranslator


@pytest.fixture(scope="module")
def translator() -> TransferTranslator:
    return TransferTranslator(load_dictionary())


@pytest.mark.parametrize(("english", "hindi"), [
    # relative clauses: the relative word opens the clause, fused with its postposition
    ("The city in which he lives is big.", "शहर, जिसमें वह रहता है, बड़ा है ।"),
    ("The city where he lives is big.", "शहर, जहाँ वह रहता है, बड़ा है ।"),
    ("The boy who has eaten the apples is happy.", "लड़का, जिसने सेब खाए हैं, खुश है ।"),
    ("The woman whose son is a doctor lives here.",
     "महिला, जिसका बेटा एक डॉक्टर है, यहाँ रहती है ।"),
    ("The man who came yesterday is my friend.", "आदमी, जो कल आया, मेरा दोस्त है ।"),
    # existential "there": no वहाँ
    ("There is a problem in the house.", "घर में एक समस्या है ।"),
    # an adjective's that-clause (कि, never transliterated) and its to-infinitive (-ने के लिए)
    ("I am happy that there are people willing to help me.",
     "मैं खुश हूँ कि मेरी मदद करने के लिए तैयार लोग हैं ।"),
    # two-word prepositions are one postposition
    ("Due to the rain, the match was cancelled.", "मैच बारिश के कारण रद्द किया गया ।"),
    ("According to the police, he was arrested.", "वह पुलिस के अनुसार गिरफ्तार किया गया ।"),
    # predeterminers and preconjunctions
    ("All the people are here.", "सभी लोग यहाँ हैं ।"),
    ("Both the students and the teachers came.", "छात्र और शिक्षक आए ।"),
    ("The boy and the girl came.", "लड़का और लड़की आए ।"),  # conjoined subjects are plural
    ("I bought apples, bananas and mangoes.", "मैंने सेब, केले और आम खरीदे ।"),
    # possessive pronoun of the clause's own subject: अपना
    ("She helped her brother.", "उसने अपने भाई की मदद की ।"),
    # the person told before a that-clause takes को; other verbs' objects do not
    ("The judge told Blake it was almost inevitable.",
     "न्यायाधीश ने ब्लेक को बताया कि यह लगभग अपरिहार्य था ।"),
    ("She told her mother that she was tired.", "उसने अपनी माँ को बताया कि वह थकी थी ।"),
    ("His brother came.", "उसका भाई आया ।"),
    ("The company changed its name.", "कंपनी ने अपना नाम बदला ।"),
    ("He saw her house.", "उसने उसका घर देखा ।"),
    # noun + करना compounds: the object is the noun's possessor, the verb agrees with the noun
    ("We use water.", "हम पानी का उपयोग करते हैं ।"),
    ("They confirmed the news.", "उन्होंने ख़बर की पुष्टि की ।"),
    ("Cars which use petrol are expensive.", "पेट्रोल का उपयोग करने वाली कारें महंगी हैं ।"),
    # numbers with hedges; a होना compound has no passive
    ("At least 20 people died.", "कम से कम 20 लोग मर गए ।"),
    ("He was born in London.", "वह लंदन में पैदा हुआ ।"),
    # जब opens its clause
    ("When the test is ordered by a doctor, the cost is paid by the insurance.",
     "जब जाँच एक डॉक्टर द्वारा आज्ञा दी जाती है, लागत बीमे द्वारा भुगतान किया जाता है ।"),
    ("The glass is full of water.", "काँच पानी से भरा है ।"),
    # ordinals agree; a that-clause makes "say" transitive (ने); प्रति precedes its noun
    ("During the 18th century, the city grew.", "शहर 18वीं शताब्दी के दौरान बढ़ गया ।"),
    ("He said that he was tired.", "उसने कहा कि वह थका था ।"),
    ('He said, "We will win."', 'उसने कहा, "हम जीतेंगे" ।'),  # direct speech: quotes, no कि
    ('"We will win," he said.', '"हम जीतेंगे", उसने कहा ।'),
    ("It costs 5 dollars per person.", "यह प्रति व्यक्ति 5 डॉलर दाम पड़ता है ।"),
    # names keep their digits; superlatives; British spelling; fixed prepositional phrases
    ("COVID-19 is a disease.", "COVID-19 एक बीमारी है ।"),  # acronyms stay in Latin
    ("It is the largest city.", "यह सबसे बड़ा शहर है ।"),
    ("The bank was nationalised.", "बैंक राष्ट्रीयकरण किया गया ।"),
    ("In addition, the city grew.", "शहर इसके अलावा बढ़ गया ।"),
    # people as objects take को; -ing and subject relative clauses as -ने वाला participles
    ("We saw the children.", "हमने बच्चों को देखा ।"),
    ("People who live here are happy.", "यहाँ रहने वाले लोग खुश हैं ।"),
    ("People living in the city are happy.", "शहर में रहने वाले लोग खुश हैं ।"),
    # करना compounds take ने; their to-infinitive with की; completed changes of state: जाना
    ("She worked.", "उसने काम किया ।"),
    ("He talked.", "उसने बात की ।"),
    ("He tried to open the door.", "उसने दरवाज़ा खोलने की कोशिश की ।"),
    ("The man died.", "आदमी मर गया ।"),
    ("They cancelled the match.", "उन्होंने मैच रद्द कर दिया ।"),
    # "no" negates the verb; WHO is an acronym, not कौन; honorifics; से-objects; किसी
    ("There is no vaccine.", "कोई टीका नहीं है ।"),
    ("WHO said that the virus spreads.", "WHO ने कहा कि वायरस फैलता है ।"),
    ("My father works in a big office.", "मेरे पिता एक बड़े दफ़्तर में काम करते हैं ।"),
    ("The president met the leaders of India and China.",
     "राष्ट्रपति भारत और चीन के नेताओं से मिले ।"),
    ("He talked to some man.", "उसने किसी आदमी से बात की ।"),
    # stative passives; one English verb, a transitive or intransitive Hindi one
    ("The city is located in India.", "शहर भारत में स्थित है ।"),
    ("The number of cases has increased.", "मामलों की संख्या बढ़ गई है ।"),
    ("They increased the taxes.", "उन्होंने कर बढ़ाए ।"),
    ("The door opened.", "दरवाज़ा खुल गया ।"),
    # a fronted if-clause: अगर ..., तो; weather "it" is no यह
    ("If it rains tomorrow, we will stay at home.", "अगर कल बारिश होती है, तो हम घर पर रहेंगे ।"),
    ("They talk to each other.", "वे एक-दूसरे से बात करते हैं ।"),
    # partitives and amounts
    ("One of the students came.", "छात्रों में से एक आया ।"),
    ("Some of them are sick.", "उनमें से कुछ बीमार हैं ।"),
    ("A lot of people came.", "बहुत लोग आए ।"),
    # modal passives; a noun compound's passive agrees with the noun
    ("Products can be purchased online.", "उत्पाद ऑनलाइन खरीदे जा सकते हैं ।"),
    ("It should not be used.", "इसे उपयोग नहीं किया जाना चाहिए ।"),
    ("The cause was announced.", "कारण घोषणा की गई ।"),
    # a noun's to-infinitive with का/की before it; an extraposed infinitive is the subject
    ("He has the right to vote.", "उसे मत देने का अधिकार है ।"),
    ("It is easy to learn Hindi.", "हिंदी सीखना आसान है ।"),
])
def test_clause_and_phrase_rules(translator: TransferTranslator, english: str,
                                 hindi: str) -> None:
    assert translator.translate(english) == hindi


@pytest.mark.parametrize("english", [
    "I know that he is here.", "Both of them came.", "Which of these is yours?",
    "Those who work hard succeed.", "Either you go or I go.", "It is about their house.",
])
def test_closed_class_words_are_never_transliterated(translator: TransferTranslator,
                                                     english: str) -> None:
    hindi = translator.translate(english)
    for latin in ("that", "both", "which", "those", "either", "their"):
        transliterated = transliterate_latin(latin)  # what an unknown word would become
        assert transliterated not in re.findall(r"[\u0900-\u097f]+", hindi), (latin, hindi)


def test_verb_stems_ending_in_a_vowel_letter() -> None:
    plural = hi.Agreement("m", True)
    assert hi.verb("आना", hi.Tense("perfective", "none")) == "आया"
    assert hi.verb("आना", hi.Tense("perfective", "none"), plural) == "आए"
    assert hi.verb("आना", hi.Tense("future")) == "आएगा"
    assert hi.verb("आना", hi.Tense("imperative"), plural) == "आओ"
    assert hi.verb("आना", hi.Tense("subjunctive")) == "आए"


def test_feminine_plural_is_nasalised_once() -> None:
    women = hi.Agreement("f", True)
    assert hi.verb("करना", hi.Tense("habitual"), women) == "करती हैं"
    assert hi.verb("जाना", hi.Tense("perfective", "past"), women) == "गई थीं"
    assert hi.verb("करना", hi.Tense("habitual", negative=True), women) == "नहीं करतीं"
    assert hi.verb("जाना", hi.Tense("perfective", "none"), women) == "गईं"


def test_masculine_nouns_in_i_and_anusvara_spelling() -> None:
    dictionary = load_dictionary()
    for agent in ("खिलाड़ी", "अधिकारी", "यात्री", "व्यक्ति"):
        assert dictionary.gender(agent) == "m", agent
    assert dictionary.gender("लड़की") == "f"
    assert hi.noun("खिलाड़ी", "m", plural=True, oblique=True) == "खिलाड़ियों"
    assert hi.noun("व्यक्ति", "m", plural=True, oblique=True) == "व्यक्तियों"
    assert render(["वह", "पसन्द", "करता", "है", "सम्बन्ध", "इन्टरनेट"]) == \
        "वह पसंद करता है संबंध इंटरनेट"
    assert render(["अन्य", "उन्हें", "सम्मान"]) == "अन्य उन्हें सम्मान"  # not before a stop


def test_learned_nouns_are_stored_in_the_direct_singular() -> None:
    counts = Counter({"व्यक्ति": 30, "व्यक्तियों": 9, "हमला": 4, "हमले": 12, "लोगों": 50})
    assert build_lexicon.direct_singular("व्यक्तियों", counts) == "व्यक्ति"
    assert build_lexicon.direct_singular("हमले", counts) == "हमला"
    assert build_lexicon.direct_singular("करने", counts) == "करने"  # a verb form, left alone
    assert build_lexicon.direct_singular("लोगों", counts) == "लोग"  # no singular seen: the stem


def test_alignment_noise_is_not_learned(tmp_path: Path) -> None:
    learned = (Path(build_lexicon.DATA) / "learned_en_hi.tsv").read_text(encoding="utf-8")
    keys = [line.split("\t") for line in learned.splitlines() if not line.startswith("#")][1:]
    assert keys and not any(hindi in ("के", "से", "में", "का", "की") for _, _, hindi, *_ in keys)
    assert not any(not any(c.isalpha() for c in en) for en, *_ in keys)
    # Latin or digits the English word lacks: a neighbour's alignment (cambodia -> 18वीं)
    assert not [(en, hindi) for en, _, hindi, *_ in keys if build_lexicon.foreign_ascii(en, hindi)]
    assert build_lexicon.foreign_ascii("anti", "SARS-CoV-2-रोधी")
    assert not build_lexicon.foreign_ascii("18th", "18वीं")


def test_freedict_reader_keeps_the_first_sense(tmp_path: Path) -> None:
    dict_file = tmp_path / "tiny.dict.dz"
    with gzip.open(dict_file, "wt", encoding="utf-8") as handle:
        handle.write("stage /steɪdʒ/ <N>\n1. रंगमंच\n      \"example\"\n2. मंच\n"
                     "ensure /ɪnˈʃʊə/ <V>\n1. सुनिश्चित\n")
    rows = build_lexicon.read_freedict(dict_file)
    assert ("stage", "NOUN", "रंगमंच") in rows and ("ensure", "VERB", "सुनिश्चित करना") in rows


_INDEPENDENT_VOWEL = "[\u0904-\u0914\u0960\u0961\u0972-\u0977]"
_VOWEL_SIGN = "[\u093e-\u094c\u0962\u0963]"
# a vowel sign after an independent vowel, another vowel sign, anusvara/chandrabindu or a virama
_MALFORMED = re.compile(f"(?:{_INDEPENDENT_VOWEL}|{_VOWEL_SIGN}|[\u0901\u0902\u094d]){_VOWEL_SIGN}")


def test_plurals_and_obliques_of_known_stems() -> None:
    assert hi.noun("भाई", "m", plural=True, oblique=True) == "भाइयों"
    assert hi.noun("भाई", "m", plural=True) == "भाई"
    assert hi.noun("कार्रवाई", "f", plural=True) == "कार्रवाइयाँ"
    assert hi.noun("कार्रवाई", "f", plural=True, oblique=True) == "कार्रवाइयों"
    assert hi.noun("बिंदु", "m", plural=True, oblique=True) == "बिंदुओं"
    assert hi.noun("वस्तु", "f", plural=True) == "वस्तुएँ"
    assert hi.noun("गुड़िया", "f", plural=True) == "गुड़ियाँ"
    assert hi.noun("गुड़िया", "f", plural=True, oblique=True) == "गुड़ियों"
    assert hi.noun("घंटे", "m", plural=True, oblique=True) == "घंटों"  # a stored -े form
    assert hi.noun("कोशिकाएं", "f", plural=True) == "कोशिकाएं"  # already plural
    assert hi.noun("कोशिकाएं", "f", plural=True, oblique=True) == "कोशिकाओं"
    assert hi.noun("प्रशासन्", "m", plural=True, oblique=True) == "प्रशासनों"


def test_every_dictionary_noun_inflects_to_well_formed_devanagari() -> None:
    dictionary = load_dictionary()
    nouns = {hindi for (_, pos), hindi in dictionary.entries.items() if pos == "NOUN"}
    nouns |= set(dictionary.genders)
    assert len(nouns) > 5000
    bad = []
    for base in sorted(nouns):
        for gender in ("m", "f"):
            for plural, oblique in ((False, True), (True, False), (True, True)):
                form = hi.noun(base, gender, plural, oblique)
                if _MALFORMED.search(form):
                    bad.append((base, gender, plural, oblique, form))
    assert not bad, f"{len(bad)} malformed, e.g. {bad[:5]}"


@pytest.mark.parametrize(("first", "second"), [
    ("John came.", "I went to New York."),
    ("Mary is here.", "The United States of America is big."),
])
def test_a_name_in_a_later_sentence_reads_as_on_its_own(translator: TransferTranslator,
                                                        first: str, second: str) -> None:
    alone = translator.translate(second)
    assert translator.translate(f"{first} {second}") == f"{translator.translate(first)} {alone}"
    assert "न्यूयॉर्क" in alone or "संयुक्त राज्य अमेरिका बड़ा" in alone


def test_freedict_markup_never_reaches_the_dictionary() -> None:
    dictionary = load_dictionary()
    assert dictionary.lookup("hundred weight", "NOUN") == "पौंड"  # not 0पौंड
    assert dictionary.lookup("half-dollar", "NOUN") == "अमेरिकी मुद्रा"  # not मुद्रा{50सेन्ट]
    markup = re.compile(r"[{}\[\]()?_^]|(?:^| )[0-9०-९]+[\u0900-\u097f]")
    bad = [(key, hindi) for key, hindi in dictionary.entries.items()
           if markup.search(hindi) and not any(c.isdigit() for c in key[0])]
    assert not bad, bad[:5]


@pytest.mark.parametrize(("english", "hindi"), [
    ("Thank you.", "धन्यवाद ।"), ("Thanks.", "धन्यवाद ।"),
    ("Thank you very much.", "बहुत बहुत धन्यवाद ।"),
    ("No, thanks.", "नहीं, धन्यवाद ।"), ("Thank you for coming.", "आने के लिए धन्यवाद ।"),
    ("Yes.", "हाँ ।"), ("No.", "नहीं ।"), ("Okay.", "ठीक है ।"), ("Sorry.", "माफ़ कीजिए ।"),
])
def test_greetings_and_short_replies(translator: TransferTranslator, english: str,
                                     hindi: str) -> None:
    assert translator.translate(english) == hindi


@pytest.mark.parametrize(("english", "hindi"), [
    ("I like tea.", "मैं चाय पसंद करता हूँ ।"),  # "like" the verb is a word, not a filler
    ("So, like, I went home.", "मैं इसलिए घर गया ।"),  # "like" the interjection is one
    ("Ah, okay, erm, we like it.", "ठीक है, हम यह पसंद करते हैं ।"),
    ("Mm, I see.", "मैं देखता हूँ ।"),
])
def test_fillers_are_dropped_only_as_interjections(translator: TransferTranslator,
                                                   english: str, hindi: str) -> None:
    assert translator.translate(english) == hindi


def test_a_unit_that_spells_like_a_filler_is_kept(translator: TransferTranslator) -> None:
    assert "मिमी" in translator.translate("It is 5 mm long.")


@pytest.mark.parametrize("segment", ["?", ".", "...", "!?", "Um."])
def test_a_segment_with_nothing_to_say_is_empty(translator: TransferTranslator,
                                                segment: str) -> None:
    assert translator.translate(segment) == ""


def test_mixed_letter_digit_words_are_kept(translator: TransferTranslator) -> None:
    hindi = translator.translate("H1N1 and COVID19 spread.")
    assert "H1N1" in hindi and hindi.count("COVID19") == 1, hindi  # whole, said once


def test_a_sentence_nested_too_deeply_is_translated_word_by_word(
        translator: TransferTranslator) -> None:
    nested = "I saw " + "the man who saw " * 200 + "me. I am here."
    hindi = translator.translate(nested)
    assert hindi.endswith("मैं यहाँ हूँ ।") and hindi.count("आदमी") == 200, hindi[-80:]
