"""Closed-class English words and their Hindi counterparts: grammar, not dictionary data."""

from __future__ import annotations

import re

# English preposition -> Hindi postposition (after an oblique noun phrase). "of" is का/के/की,
# chosen by agreement in the transfer.
PREPOSITIONS = {
    "in": "में", "into": "में", "inside": "के अंदर", "on": "पर", "onto": "पर", "upon": "पर",
    "at": "पर", "to": "को", "for": "के लिए", "from": "से", "with": "के साथ", "without": "के बिना",
    "by": "से", "of": "का", "about": "के बारे में", "after": "के बाद", "before": "से पहले",
    "during": "के दौरान", "since": "से", "until": "तक", "till": "तक", "between": "के बीच",
    "under": "के नीचे", "below": "के नीचे", "over": "के ऊपर", "above": "के ऊपर",
    "near": "के पास", "against": "के खिलाफ", "through": "के माध्यम से", "like": "की तरह",
    "than": "से", "across": "के पार", "around": "के आसपास", "behind": "के पीछे",
    "among": "के बीच", "within": "के भीतर", "outside": "के बाहर", "toward": "की ओर",
    "towards": "की ओर", "per": "प्रति", "including": "सहित", "as": "के रूप में",
    "along": "के साथ", "beside": "के बगल में", "except": "के अलावा", "despite": "के बावजूद",
    "via": "के रास्ते", "because": "के कारण", "due": "के कारण", "up": "तक", "off": "से",
    "out": "से", "down": "से", "beyond": "के पार", "throughout": "भर में", "unlike": "के विपरीत",
    "besides": "के अलावा", "according": "के अनुसार", "instead": "के बजाय",
    "following": "के बाद", "regarding": "के बारे में", "concerning": "के बारे में",
    "amid": "के बीच", "amongst": "के बीच", "alongside": "के साथ", "excluding": "को छोड़कर",
    "considering": "को देखते हुए",
}
# Fixed prepositional phrases (the noun with no modifiers of its own): one Hindi adverbial.
PREPOSITIONAL_IDIOMS = {
    "in addition": "इसके अलावा", "for example": "उदाहरण के लिए", "for instance": "उदाहरण के लिए",
    "in fact": "वास्तव में", "of course": "बेशक", "in general": "आम तौर पर",
    "in particular": "विशेष रूप से", "at first": "पहले", "at last": "आखिरकार",
    "in total": "कुल मिलाकर", "on average": "औसतन", "at present": "इस समय", "in time": "समय पर",
    "at once": "तुरंत", "in turn": "बदले में", "by far": "अब तक", "at all": "बिल्कुल",
    "in practice": "व्यवहार में", "in short": "संक्षेप में", "at night": "रात को",
    "to right": "दाईं ओर", "to left": "बाईं ओर", "on right": "दाईं ओर", "on left": "बाईं ओर",
    "in way": "इस तरह",
}
# Two-word prepositions (spaCy: the second word is the first's pcomp): one postposition.
COMPOUND_PREPOSITIONS = {
    "due to": "के कारण", "according to": "के अनुसार", "prior to": "से पहले", "next to": "के बगल में",
    "close to": "के पास", "thanks to": "की वजह से", "because of": "के कारण", "instead of": "के बजाय",
    "out of": "में से", "ahead of": "से आगे", "compared to": "की तुलना में", "up to": "तक",
    "compared with": "की तुलना में", "along with": "के साथ", "apart from": "के अलावा",
    "away from": "से दूर", "as of": "तक", "such as": "जैसे", "rather than": "के बजाय",
    "in front": "के सामने", "as for": "के बारे में", "together with": "के साथ",
}
# "X of the Ys": a part (छात्रों में से एक) or an amount said as a determiner (बहुत लोग).
PARTITIVES = {"one": "एक", "two": "दो", "three": "तीन", "some": "कुछ", "many": "कई",
              "most": "ज़्यादातर", "all": "सभी", "each": "हर एक", "both": "दोनों",
              "none": "कोई नहीं", "several": "कई", "few": "कुछ", "any": "कोई"}
QUANTITIES = {"lot": "बहुत", "lots": "बहुत", "number": "कई", "couple": "कुछ", "variety": "विभिन्न",
              "series": "कई", "majority": "अधिकांश", "handful": "कुछ", "range": "विभिन्न"}
# Verbs of motion take their goal without को: "go to the market" -> "बाज़ार जाना".
MOTION_VERBS = frozenset("go come travel return move run walk fly drive reach".split())

# Determiners: "" = no Hindi word; a pronoun key means the demonstrative (यह/इस, वह/उस).
DETERMINERS = {
    "the": "", "a": "एक", "an": "एक", "this": "this", "that": "that", "these": "these",
    "those": "those", "some": "कुछ", "any": "कोई", "all": "सभी", "every": "हर", "each": "हर",
    "no": "कोई", "another": "एक और", "both": "दोनों", "either": "कोई भी", "neither": "कोई नहीं",
    "what": "क्या", "which": "कौन सा", "whatever": "जो भी", "such": "ऐसा", "many": "कई",
    "much": "बहुत", "few": "कुछ", "several": "कई", "half": "आधा",
}

# Subordinating conjunctions opening an adverbial clause ("that" introduces कि, added by rule).
ADVERB_CLAUSE_MARKS = {
    "if": "अगर", "because": "क्योंकि", "when": "जब", "while": "जबकि", "although": "हालाँकि",
    "though": "हालाँकि", "since": "चूँकि", "until": "जब तक", "before": "इससे पहले कि",
    "after": "जब", "unless": "जब तक", "whether": "क्या", "so": "ताकि", "as": "जैसे",
    "once": "एक बार", "whereas": "जबकि", "than": "से", "like": "जैसे",
}

WH_ADVERBS = {
    "where": "कहाँ", "when": "कब", "why": "क्यों", "how": "कैसे", "there": "वहाँ", "here": "यहाँ",
    "then": "फिर", "so": "इसलिए", "also": "भी", "only": "केवल", "very": "बहुत", "more": "अधिक",
    "most": "सबसे", "too": "भी", "now": "अभी", "again": "फिर से", "just": "बस", "not": "नहीं",
    "yes": "हाँ", "no": "नहीं", "please": "कृपया", "as": "उतना", "even": "भी", "so-called": "तथाकथित",
    "rather": "बल्कि", "thus": "इस प्रकार", "therefore": "इसलिए", "however": "हालांकि",
    "together": "एक साथ", "soon": "जल्द ही", "once": "एक बार", "twice": "दो बार",
}

# Spelled-out numbers; digits pass through (Hindi writing uses them too).
NUMBERS = {
    "zero": "शून्य", "one": "एक", "two": "दो", "three": "तीन", "four": "चार", "five": "पाँच",
    "six": "छह", "seven": "सात", "eight": "आठ", "nine": "नौ", "ten": "दस", "eleven": "ग्यारह",
    "twelve": "बारह", "fifteen": "पंद्रह", "twenty": "बीस", "thirty": "तीस", "forty": "चालीस",
    "fifty": "पचास", "hundred": "सौ", "thousand": "हज़ार", "dozen": "दर्जन",
    "hundreds": "सैकड़ों", "thousands": "हज़ारों", "millions": "लाखों",
    "first": "पहला", "second": "दूसरा", "third": "तीसरा", "fourth": "चौथा",
    "thirteen": "तेरह", "fourteen": "चौदह", "sixteen": "सोलह", "seventeen": "सत्रह",
    "eighteen": "अठारह", "nineteen": "उन्नीस", "sixty": "साठ", "seventy": "सत्तर", "eighty": "अस्सी",
    "ninety": "नब्बे", "fifth": "पाँचवाँ", "sixth": "छठा", "seventh": "सातवाँ", "eighth": "आठवाँ",
    "ninth": "नौवाँ", "tenth": "दसवाँ",
}
# English scales in Indian grouping: "one million" = दस लाख, "two billion" = दो सौ करोड़.
SCALES = {"million": (10, "लाख"), "billion": (100, "करोड़"), "trillion": (100000, "करोड़")}

INTERJECTIONS = {"thank": "धन्यवाद", "thanks": "धन्यवाद", "hello": "नमस्ते", "hi": "नमस्ते",
                 "yes": "हाँ", "no": "नहीं", "okay": "ठीक है", "ok": "ठीक है", "well": "खैर",
                 "oh": "अरे", "please": "कृपया", "sorry": "माफ़ कीजिए", "goodbye": "अलविदा",
                 "bye": "अलविदा", "wow": "वाह"}
# Spoken fillers with no meaning: dropped, and first to go when a line must be shorter.
FILLERS = frozenset(["um", "uh", "uhm", "er", "erm", "hmm", "mm", "ah", "like"])

# Words around a number: "more than 5" -> "5 से अधिक", "about 5" -> "लगभग 5".
HEDGES = {"more": "से अधिक", "over": "से अधिक", "less": "से कम", "fewer": "से कम",
           "under": "से कम", "about": "लगभग", "around": "लगभग", "nearly": "लगभग",
           "almost": "लगभग", "approximately": "लगभग", "only": "केवल", "just": "केवल",
           "least": "कम से कम"}
SMALL_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten".split())}
# No Hindi word of their own:
SILENT = frozenset("the a an to do does did 's be been being is am are was were".split())
NAME_ENTITIES = {"PERSON", "GPE", "LOC"}  # names proper: transliterated unless listed
MONTHS = frozenset(["january", "february", "march", "april", "may", "june", "july", "august",
                    "september", "october", "november", "december"])
DAYS = frozenset(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])
# Words a compact variant may drop without changing what is said.
INTENSIFIERS = frozenset("just really actually very so basically literally quite pretty simply "
                         "indeed totally certainly definitely please".split())


# Shorter ways to say the same thing, used by the most compact variant.
SHORTER = {"फिर से": "फिर", "जल्द ही": "जल्द", "कृपया": "", "के बारे में": "पर",
           "के माध्यम से": "से", "इसलिए": "तो", "लेकिन": "पर", "अभी भी": "अब भी",
           "अभी": "अब"}  # "now": अभी is "right now", अब plain "now"
# Under negation अब means "any more" (अब काम नहीं करती: "no longer works"), so अभी stays.
_NEGATIONS = frozenset(["नहीं", "न", "मत"])
# Pairs that say one thing twice ("then ... again": फिर फिर); other doubled words are Hindi's
# own (एक एक "one by one", नहीं नहीं) and stay.
_REDUNDANT_PAIRS = frozenset(["फिर"])


def shorten(words: list[str]) -> list[str]:
    """SHORTER's forms (अभी only outside negation), and फिर फिर said once."""
    negated = any(part in _NEGATIONS for w in words for part in w.split())
    out: list[str] = []
    for word in words:
        if not (negated and word == "अभी"):
            word = SHORTER.get(word, word)
        if word in _REDUNDANT_PAIRS and out and word == out[-1]:
            continue
        out.append(word)
    return out


# A nasal consonant + virama before a stop of its class is written as anusvara in standard
# modern Hindi (पसंद, संबंध, ठंडा, इंटरनेट), as the references do; the dictionaries vary.
_NASAL_CLUSTERS = re.compile("न्(?=[कखगघचछजझटठडढतथदध])|म्(?=[पफबभ])|ण्(?=[टठडढ])"
                             "|ङ्(?=[कखगघ])|ञ्(?=[चछजझ])")


def render(words: list[str]) -> str:
    text = _NASAL_CLUSTERS.sub("ं", " ".join(w for w in words if w))
    for mark in (",", "?", "!", ":", ";"):
        text = text.replace(f" {mark}", mark)
    text = re.sub(r'(^|\s)(["“‘]) ', r"\1\2", text)  # quotes hug what they quote
    text = re.sub(r' (["”’])(?=[\s,।?!]|$)', r"\1", text)
    text = text.replace("( ", "(").replace(" )", ")")
    text = text.replace(",,", ",").strip(" ,")
    return " ".join(text.split())
