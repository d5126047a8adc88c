"""Hindi morphology for the transfer MT: nouns, adjectives, pronouns, postpositions, verbs.

Hindi inflects for gender (m/f), number (sg/pl) and case: a noun phrase before a postposition
(में, को, ने, का ...) is oblique ("लड़का" -> "लड़के में"). Adjectives ending in -ा and the
possessive का agree with the noun they describe; verbs agree with the subject, or with the object
in the perfective of a transitive verb, whose subject takes ने.

    >>> noun("लड़का", "m", plural=True, oblique=True)
    'लड़कों'
    >>> verb("खाना", Tense("perfective"), Agreement("f", False, 3))
    'खाई'
"""

from __future__ import annotations

from dataclasses import dataclass

# Adjectives that end in -ा but never change (loans, mostly).
_INVARIANT_ADJECTIVES = frozenset(
    ["ज़्यादा", "ज्यादा", "ताज़ा", "बढ़िया", "घटिया", "ज़िंदा", "जिंदा", "सादा", "आधा"]) - {"आधा"}


# Masculine nouns in -ा that keep it (kinship, agents, loans): no -े forms.
UNMARKED = "कर्ता नेता पिता दाता राजा देवता योद्धा चाचा मामा दादा नाना".split()
UNMARKED_MASCULINE = tuple(UNMARKED)  # masculine although they end in -ा
HONORIFIC = frozenset(["पिता", "पिताजी", "माता", "माताजी", "दादा", "दादी", "नाना", "नानी", "चाचा",
                       "मामा", "गुरु", "राष्ट्रपति", "प्रधानमंत्री", "राज्यपाल", "मुख्यमंत्री"])


@dataclass(frozen=True)
class Agreement:
    """What a verb or adjective agrees with: gender 'm'/'f', plural, person 1/2/3."""

    gender: str = "m"
    plural: bool = False
    person: int = 3
    honorific: bool = False  # आप: plural agreement, polite imperative

    @property
    def as_plural(self) -> bool:
        return self.plural or self.honorific


NEUTRAL = Agreement()


def _last(phrase: str) -> tuple[str, str]:
    head, _, last = phrase.rpartition(" ")
    return (head + " " if head else ""), last


# Spellings that are already plural or oblique (stored inflected forms, anusvara for
# chandrabindu): लोगों, बातें, कहानियाँ, कोशिकाएं, कहानियां, घटनाएँ.
_ALREADY_INFLECTED = ("ों", "ओं", "ें", "ियाँ", "ाएँ", "ुएँ", "एँ", "एं", "ां", "यां", "याँ")
_INDEPENDENT_VOWELS = "अआइईउऊऋएऐओऔ"
_NASAL = ("ं", "ँ")


def _masculine(word: str, plural: bool, oblique: bool) -> str:
    """लड़का लड़के लड़कों; भाई भाइयों; गुरु गुरुओं; घर घरों; stored घंटे -> घंटों."""
    both = plural and oblique
    if word.endswith(UNMARKED_MASCULINE):  # पिता, नेता, शोधकर्ता
        return word + "ओं" if both else word
    if word.endswith("ा") and len(word) > 2:
        return word[:-1] + ("ों" if both else "े")
    if word.endswith("आँ") or word.endswith("आं"):  # कुआँ कुएँ कुओं
        return word[:-2] + ("ओं" if both else "एँ")
    if word.endswith("े"):  # a stored oblique / plural form
        return word[:-1] + "ों" if both else word
    if not both or word.endswith(_NASAL) or word.endswith("ः"):
        return word
    return _oblique_plural(word)


def _feminine(word: str, plural: bool, oblique: bool) -> str:
    """लड़कियाँ लड़कियों; कार्रवाइयाँ; गुड़ियाँ; कोशिकाएँ; वस्तुएँ वस्तुओं; बातें बातों."""
    if not plural or word.endswith(_NASAL) or word.endswith(("ः", "े")):
        return word
    if not oblique:
        if word.endswith(("ी", "ि")):
            return word[:-1] + "ियाँ"
        if word.endswith("ई"):
            return word[:-1] + "इयाँ"
        if word.endswith("िया"):
            return word + "ँ"
        if word.endswith(("ू", "ु")):
            return word[:-1] + "ुएँ"
        if word.endswith("ऊ"):
            return word[:-1] + "उएँ"
        if word.endswith(("ा", "ो", "ौ", "ै", "ृ")) or word.endswith(tuple(_INDEPENDENT_VOWELS)):
            return word + "एँ"
        return word + "ें"
    if word.endswith("िया"):
        return word[:-1] + "ों"
    if word.endswith("ा"):
        return word + "ओं"
    return _oblique_plural(word)


def _oblique_plural(word: str) -> str:
    """The -ों form both genders share after -ी/-ई/-ु/-ू, a vowel or a consonant."""
    if word.endswith(("ी", "ि")):
        return word[:-1] + "ियों"
    if word.endswith("ई"):
        return word[:-1] + "इयों"
    if word.endswith(("ू", "ु")):
        return word[:-1] + "ुओं"
    if word.endswith("ऊ"):
        return word[:-1] + "उओं"
    if word.endswith("ो"):  # रेडियो -> रेडियों
        return word[:-1] + "ों"
    if word.endswith(("ा", "ौ", "ै", "ृ")) or word.endswith(tuple(_INDEPENDENT_VOWELS)):
        return word + "ओं"
    return word + "ों"


def _oblique_of_plural(word: str) -> str:
    """A stored direct plural before a postposition: बातें -> बातों, कोशिकाएं -> कोशिकाओं."""
    for direct, oblique in (("ाएँ", "ाओं"), ("ाएं", "ाओं"), ("ुएँ", "ुओं"), ("ुएं", "ुओं"),
                            ("याँ", "यों"), ("यां", "यों"), ("ें", "ों")):
        if word.endswith(direct) and len(word) > len(direct):
            return word[:-len(direct)] + oblique
    return word


def noun(hindi: str, gender: str, plural: bool = False, oblique: bool = False) -> str:
    """Inflects the last word of a noun phrase for number and case."""
    head, word = _last(hindi)
    word = word[:-1] if word.endswith("्") and len(word) > 1 else word  # प्रशासन् -> प्रशासन
    if not word or not plural and not oblique:
        return hindi
    if word.endswith(_ALREADY_INFLECTED):
        return head + (_oblique_of_plural(word) if plural and oblique else word)
    inflect = _masculine if gender == "m" else _feminine
    return head + inflect(word, plural, oblique)


_PERFECTIVE_PARTICIPLES = {"किया": ("की", "किए"), "गया": ("गई", "गए"), "दिया": ("दी", "दिए"),
                           "लिया": ("ली", "लिए"), "हुआ": ("हुई", "हुए")}


def adjective(hindi: str, agreement: Agreement, oblique: bool = False) -> str:
    """Variable adjectives (-ा) agree: बड़ा लड़का, बड़े लड़के, बड़ी लड़की."""
    head, word = _last(hindi)
    if word.endswith("वाँ"):  # ordinals: पाँचवाँ दिन, 18वीं शताब्दी, 18वें दिन
        stem = word[:-2]
        if agreement.gender == "f":
            return head + stem + "ीं"
        return head + stem + ("ें" if agreement.plural or oblique else "ाँ")
    if not word.endswith("ा") or word in _INVARIANT_ADJECTIVES or len(word) < 2:
        return hindi
    if word in _PERFECTIVE_PARTICIPLES:  # किया गया मामला, की गई जाँच, किए गए काम
        form = 0 if agreement.gender == "f" else 1 if agreement.plural or oblique else None
        return " ".join(w if form is None or w not in _PERFECTIVE_PARTICIPLES
                        else _PERFECTIVE_PARTICIPLES[w][form] for w in hindi.split())
    if agreement.gender == "f":
        return head + word[:-1] + "ी"
    if agreement.plural or oblique:
        return head + word[:-1] + "े"
    return hindi


def possessive(agreement: Agreement, oblique: bool = False) -> str:
    """का / के / की agreeing with the possessed noun."""
    return adjective("का", agreement, oblique)


# Personal pronouns: direct, oblique (before a postposition), with ने, with को, possessive stem.
@dataclass(frozen=True)
class Pronoun:
    direct: str
    oblique: str
    ergative: str
    dative: str
    possessive: str  # masculine singular form, inflects like an -ा adjective
    agreement: Agreement


PRONOUNS = {
    "i": Pronoun("मैं", "मुझ", "मैंने", "मुझे", "मेरा", Agreement("m", False, 1)),
    "we": Pronoun("हम", "हम", "हमने", "हमें", "हमारा", Agreement("m", True, 1)),
    "you": Pronoun("आप", "आप", "आपने", "आपको", "आपका", Agreement("m", True, 2, True)),
    "he": Pronoun("वह", "उस", "उसने", "उसे", "उसका", Agreement("m", False, 3)),
    "she": Pronoun("वह", "उस", "उसने", "उसे", "उसका", Agreement("f", False, 3)),
    "it": Pronoun("यह", "इस", "इसने", "इसे", "इसका", Agreement("m", False, 3)),
    "they": Pronoun("वे", "उन", "उन्होंने", "उन्हें", "उनका", Agreement("m", True, 3)),
    "this": Pronoun("यह", "इस", "इसने", "इसे", "इसका", Agreement("m", False, 3)),
    "that": Pronoun("वह", "उस", "उसने", "उसे", "उसका", Agreement("m", False, 3)),
    "these": Pronoun("ये", "इन", "इन्होंने", "इन्हें", "इनका", Agreement("m", True, 3)),
    "those": Pronoun("वे", "उन", "उन्होंने", "उन्हें", "उनका", Agreement("m", True, 3)),
    "who": Pronoun("कौन", "किस", "किसने", "किसे", "किसका", Agreement("m", False, 3)),
    "what": Pronoun("क्या", "किस", "किसने", "किसे", "किसका", Agreement("m", False, 3)),
    "everyone": Pronoun("सब", "सब", "सबने", "सबको", "सबका", Agreement("m", True, 3)),
    "everybody": Pronoun("सब", "सब", "सबने", "सबको", "सबका", Agreement("m", True, 3)),
    "someone": Pronoun("कोई", "किसी", "किसी ने", "किसी को", "किसी का", Agreement()),
    "somebody": Pronoun("कोई", "किसी", "किसी ने", "किसी को", "किसी का", Agreement()),
    "anyone": Pronoun("कोई", "किसी", "किसी ने", "किसी को", "किसी का", Agreement()),
    "nobody": Pronoun("कोई नहीं", "किसी", "किसी ने", "किसी को", "किसी का", Agreement()),
    "something": Pronoun("कुछ", "किसी चीज़", "किसी ने", "किसी चीज़ को", "किसी का", Agreement()),
    "anything": Pronoun("कुछ", "किसी चीज़", "किसी ने", "किसी चीज़ को", "किसी का", Agreement()),
    "nothing": Pronoun("कुछ नहीं", "किसी चीज़", "किसी ने", "किसी चीज़ को", "किसी का",
                       Agreement()),
    "everything": Pronoun("सब कुछ", "सब", "सबने", "सबको", "सबका", Agreement()),
    "itself": Pronoun("खुद", "खुद", "खुद", "खुद को", "अपना", Agreement()),
    "themselves": Pronoun("खुद", "खुद", "खुद", "खुद को", "अपना", Agreement("m", True)),
    "himself": Pronoun("खुद", "खुद", "खुद", "खुद को", "अपना", Agreement()),
    "herself": Pronoun("खुद", "खुद", "खुद", "खुद को", "अपना", Agreement("f")),
    "myself": Pronoun("खुद", "खुद", "खुद", "खुद को", "अपना", Agreement("m", False, 1)),
    "ourselves": Pronoun("खुद", "खुद", "खुद", "खुद को", "अपना", Agreement("m", True, 1)),
    "yourself": Pronoun("खुद", "खुद", "खुद", "खुद को", "अपना", Agreement("m", True, 2, True)),
}
# "who/which/that" opening a relative clause: जो, जिसमें, जिसने, जिनका (plural antecedent).
RELATIVE = Pronoun("जो", "जिस", "जिसने", "जिसे", "जिसका", Agreement())
RELATIVE_PLURAL = Pronoun("जो", "जिन", "जिन्होंने", "जिन्हें", "जिनका", Agreement("m", True))
RELATIVE_STARTS = ("जिस", "जिन", "जहाँ")  # a clause that has one needs no जो in front
# Pronoun + postposition are written together in these forms.
FUSED_DATIVE = {p.oblique: p.dative for p in (*PRONOUNS.values(), RELATIVE, RELATIVE_PLURAL)
                if " " not in p.oblique}


def fused_postposition(pronoun: Pronoun, marker: str) -> str:
    """Pronoun + postposition as written: मेरे लिए, उनकी तरह, आपसे, मुझमें."""
    first, _, rest = marker.partition(" ")
    if first in ("के", "की") and rest:
        feminine = Agreement("f") if first == "की" else Agreement("m", True)
        return f"{adjective(pronoun.possessive, feminine)} {rest}"
    if marker in ("से", "में"):
        return pronoun.oblique + marker
    return f"{pronoun.oblique} {marker}"


def oblique_infinitive(words: list[str]) -> list[str]:
    """करना -> करने before a postposition ("to help" -> मदद करने के लिए)."""
    if words and words[-1].endswith("ना"):
        return words[:-1] + [words[-1][:-1] + "े"]
    return words


# ---- verbs
@dataclass(frozen=True)
class Tense:
    """A Hindi verb form: aspect plus the tense of the auxiliary."""

    aspect: str  # habitual | progressive | perfective | future | imperative | infinitive
    #              | subjunctive | bare
    auxiliary: str = "present"  # present | past | none
    negative: bool = False


_PERFECTIVE = {"जा": "गया", "कर": "किया", "दे": "दिया", "ले": "लिया", "हो": "हुआ", "पी": "पिया",
               "मर": "मरा"}
_PERFECTIVE_FEMININE = {"कर": "की", "दे": "दी", "ले": "ली", "पी": "पी", "हो": "हुई", "जा": "गई"}


# A stem ending in a vowel sign or an independent vowel (आ-ना, खा-ना, सो-ना) takes -या, -ए, -ओ.
_VOWEL_END = "ाोूैीिेआईऊएऐओऔ"


def _stem(infinitive: str) -> tuple[str, str]:
    head, word = _last(infinitive)
    return head, word[:-2] if word.endswith("ना") and len(word) > 2 else word


def _gendered(form: str, agreement: Agreement) -> str:
    """An -ा form (जाता, रहा, गया) for the agreement: जाते, जाती, गए, गई, गईं."""
    if agreement.gender == "f":
        if form.endswith("या"):
            form = form[:-2] + "ई"
        elif form.endswith("ा"):
            form = form[:-1] + "ी"
        return form + "ं" if agreement.as_plural and form.endswith(("ई", "ी")) else form
    if agreement.as_plural:
        if form.endswith("या"):
            return form[:-2] + "ए"
        if form.endswith("ा"):
            return form[:-1] + "े"
    return form


def perfective(stem: str, agreement: Agreement) -> str:
    if agreement.gender == "f" and stem in _PERFECTIVE_FEMININE:
        base = _PERFECTIVE_FEMININE[stem]
        return base + "ं" if agreement.as_plural else base
    if stem == "हो":
        return "हुए" if agreement.as_plural else "हुआ"
    base = _PERFECTIVE.get(stem) or (stem + ("या" if stem[-1:] in _VOWEL_END else "ा"))
    return _gendered(base, agreement)


def copula(agreement: Agreement, past: bool = False) -> str:
    """होना in the present (हूँ/है/हैं/हो) or past (था/थे/थी/थीं)."""
    if past:
        return _gendered("था", agreement)
    if agreement.person == 1 and not agreement.plural:
        return "हूँ"
    if agreement.as_plural:
        return "हैं"
    return "हो" if agreement.person == 2 else "है"


def _future(stem: str, agreement: Agreement) -> str:
    if agreement.person == 1 and not agreement.plural:
        key = 0
    elif agreement.as_plural:
        key = 3 if agreement.person == 2 and not agreement.honorific else 2
    else:
        key = 1
    if stem == "हो":
        form = stem + ("ऊँगा", "गा", "ंगे", "गे")[key]
    elif stem.endswith("े"):  # दे, ले: दूँगा, देगा, देंगे, दोगे
        form = (stem[:-1] + "ूँगा", stem + "गा", stem + "ंगे", stem[:-1] + "ोगे")[key]
    elif stem[-1:] in _VOWEL_END:
        form = stem + ("ऊँगा", "एगा", "एँगे", "ओगे")[key]
    else:
        form = stem + ("ूँगा", "ेगा", "ेंगे", "ोगे")[key]
    return form[:-1] + "ी" if agreement.gender == "f" else form


_IMPERATIVE = {"कर": ("करो", "कीजिए"), "दे": ("दो", "दीजिए"), "ले": ("लो", "लीजिए"),
               "हो": ("हो", "होइए"), "पी": ("पियो", "पीजिए")}


def _imperative(stem: str, polite: bool) -> str:
    if stem in _IMPERATIVE:
        return _IMPERATIVE[stem][polite]
    if stem[-1:] in _VOWEL_END:
        return stem + ("इए" if polite else "ओ")
    return stem + ("िए" if polite else "ो")


def verb(infinitive: str, tense: Tense, agreement: Agreement = NEUTRAL) -> str:
    """Conjugates the last word of a (possibly compound) infinitive: "बात करना" -> "बात करता है"."""
    head, stem = _stem(infinitive)
    negation = "नहीं " if tense.negative else ""
    aspect = tense.aspect
    if aspect == "infinitive":
        return f"{head}{negation}{stem}ना"
    if aspect == "oblique_infinitive":
        return f"{head}{negation}{stem}ने"
    if aspect == "imperative":
        if tense.negative:
            negation = "मत "
        return f"{head}{negation}{_imperative(stem, agreement.honorific)}"
    if aspect == "future":
        return f"{head}{negation}{_future(stem, agreement)}"
    if aspect == "subjunctive":
        vowel = stem[-1:] in _VOWEL_END
        ending = ("एँ" if vowel else "ें") if agreement.as_plural else ("ए" if vowel else "े")
        if stem.endswith("े"):  # दे, ले: दे / दें
            stem, ending = stem[:-1], "ें" if agreement.as_plural else "े"
        if agreement.person == 1 and not agreement.plural:
            ending = "ऊँ" if vowel else "ूँ"
        return f"{head}{negation}{stem}{ending}"
    if aspect == "participle":
        return f"{head}{negation}{stem}ते हुए"
    bare = tense.auxiliary == "none" or (tense.negative and aspect == "habitual"
                                         and tense.auxiliary == "present")
    # Feminine plural is nasalised once, on the last word: करती हैं, गई थीं, but नहीं करतीं.
    form_agreement = agreement if bare or agreement.gender != "f" else Agreement("f")
    if aspect == "perfective":
        main = perfective(stem, form_agreement)
    elif aspect == "progressive":
        main = f"{stem} {_gendered('रहा', form_agreement)}"
    else:  # habitual
        main = _gendered(stem + "ता", form_agreement)
    if bare:
        return f"{head}{negation}{main}"
    return f"{head}{negation}{main} {copula(agreement, tense.auxiliary == 'past')}"
