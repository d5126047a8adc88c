"""The English verb group (auxiliaries, modals, tense tags) -> a Hindi verb form and case frame.

Decides, per clause: the Hindi tense/aspect (habitual, progressive, perfective, future, modal,
passive, imperative), negation, the subject's case (ने in the transitive perfective, को with
"should/must/have to"), what the verb agrees with, and the objects' case.
"""

from __future__ import annotations

from dataclasses import dataclass

from stages.mt import _hindi as hi

_FUTURE = {"will", "shall", "'ll", "wo"}
_ABILITY = {"can", "could", "ca", "may", "might"}
_OBLIGATION = {"should": "चाहिए", "must": "होगा", "ought": "चाहिए"}
_NEGATIONS = {"not", "n't", "never", "no"}
_INTRANSITIVE = {"जाना", "आना", "होना", "रहना", "सोना", "बैठना", "चलना", "पहुँचना", "लौटना",
                 "गिरना", "मरना", "उठना", "बनना", "लगना", "दिखना", "बोलना", "लाना", "मिलना",
                 "बढ़ना", "उड़ना", "दौड़ना", "मुड़ना", "जुड़ना", "सकना", "डरना", "हँसना"}


_LIGHT_VERBS = {"करना", "देना", "लेना"}
# States a करना compound brings about, said as done with देना: रद्द कर दिया, बंद कर दिया.
_COMPLETED_STATES = {"रद्द", "बंद", "नष्ट", "खत्म", "समाप्त", "शुरू", "पूरा", "साफ़",
                     "तैयार", "मुक्त", "रिहा", "स्थगित", "निलंबित", "तय"}
_WEATHER = {"rain": "बारिश होना", "snow": "बर्फ़ गिरना"}
# Transitive Hindi verb -> its intransitive partner, for English verbs used both ways.
INTRANSITIVE_OF = {
    "बढ़ाना": "बढ़ना", "घटाना": "घटना", "फैलाना": "फैलना", "खोलना": "खुलना", "रोकना": "रुकना",
    "शुरू करना": "शुरू होना", "बंद करना": "बंद होना", "खत्म करना": "खत्म होना",
    "समाप्त करना": "समाप्त होना", "जारी रखना": "जारी रहना", "कम करना": "कम होना",
    "पूरा करना": "पूरा होना", "तोड़ना": "टूटना", "उठाना": "उठना", "गिराना": "गिरना",
    "बचाना": "बचना", "चलाना": "चलना", "जलाना": "जलना", "हटाना": "हटना", "धीमा करना": "धीमा होना",
    "छोड़ना": "रवाना होना",
}
_TRANSITIVE_OF = {intransitive: transitive for transitive, intransitive in INTRANSITIVE_OF.items()}
# Verbs whose English object is a postpositional phrase in Hindi.
_OBJECT_MARKERS = {"मिलना": "से", "पूछना": "से", "प्यार करना": "से", "शादी करना": "से",
                   "बात करना": "से", "डरना": "से", "नफ़रत करना": "से"}
# Verbs whose object is the person addressed when a that-clause follows (marked with को).
_TELLING = frozenset("tell inform remind warn assure convince notify teach show promise advise "
                     "persuade".split())
# Intransitive changes of state say a completed event with जाना: हो गया, बन गया, मर गई.
_CHANGE_OF_STATE = {"होना", "बनना", "मरना", "पहुँचना", "बढ़ना", "गिरना", "रुकना", "फैलना",
                    "टूटना", "खुलना", "बचना", "घटना", "बदलना", "भरना", "सूखना", "जलना"}
# Things one owns take "के पास"; anything else had (a cough, an idea, time) takes को.
_POSSESSIONS = frozenset("car house home money book phone computer dog cat pen ticket passport "
                         "bag shop land job friend brother sister son daughter child".split())

# States one "has" that Hindi says without एक: "I have a cough" -> मुझे खांसी है.
_CONDITIONS = frozenset("cough fever cold flu headache toothache stomachache backache pain ache "
                        "temperature rash sore infection allergy".split())

# People (and peoples) as direct objects take को: "helped the patients" -> रोगियों को.
PEOPLE = frozenset(
    "person people man woman men women child children boy girl baby patient doctor nurse student "
    "teacher worker employee official officer leader president minister king queen prince "
    "citizen resident voter customer passenger traveller traveler tourist visitor player "
    "soldier police victim friend family parent mother father son daughter brother sister "
    "husband wife colleague member fan audience public community crowd team athlete artist "
    "scientist researcher expert author writer journalist reporter farmer prisoner suspect "
    "candidate volunteer staff individual adult".split())
# Nouns that make a verb with करना/लगाना/देना and take the object as their possessor
# (X का उपयोग करना, X की मदद करना), with their gender (what का/की and the verb agree with).
NOMINAL_VERBS = {
    **dict.fromkeys("समर्थन उपयोग प्रयोग इस्तेमाल इलाज उपचार अध्ययन विरोध पालन सामना आकलन निर्माण "
                    "उत्पादन वर्णन प्रदर्शन उल्लेख भुगतान इंतज़ार पीछा अनुमान नेतृत्व आविष्कार दौरा "
                    "विश्लेषण मूल्यांकन प्रबंधन संचालन परीक्षण अनुभव प्रतिनिधित्व सम्मान स्वागत "
                    "समाधान चयन पता प्रसारण संरक्षण फ़ैसला निर्णय प्रयास वादा इनकार".split(), "m"),
    **dict.fromkeys("मदद सहायता पुष्टि घोषणा जाँच निगरानी रक्षा खोज यात्रा पहचान देखभाल सेवा "
                    "तुलना आलोचना प्रशंसा चर्चा मरम्मत सफ़ाई तैयारी कोशिश योजना अनुमति उम्मीद "
                    "ज़रूरत इच्छा बात".split(), "f"),
}


@dataclass(frozen=True)
class VerbGroup:
    subject_words: list[str]
    object_words: list[str]
    verb_words: list[str]


def _lemma(token) -> str:
    return token.lower_ if token.lower_ in ("'ll", "wo", "ca", "'d") else token.lemma_.lower()


def _object_phrase(tr, token, case: str = "direct"):
    if token.pos_ in ("ADJ",):
        return None
    return tr.noun_phrase(token, case)


def verb_group(tr, verb, subject, objects, future: bool = False,
               nominal: bool = False) -> VerbGroup:
    auxes = [c for c in verb.children if c.dep_ in ("aux", "auxpass") and c.lower_ != "to"]
    tr.used.update([verb.i] + [c.i for c in verb.children if c.dep_ in ("aux", "auxpass",
                                                                         "neg", "prt")])
    aux_lemmas = [_lemma(a) for a in auxes]
    negative = any(c.dep_ == "neg" or (c.dep_ == "advmod" and c.lower_ in _NEGATIONS)
                   for c in verb.children) or any(  # "there is no vaccine" -> कोई टीका नहीं है
        d.dep_ == "det" and d.lower_ == "no" for c in verb.children
        if c.dep_ in ("nsubj", "nsubjpass", "dobj", "attr") for d in c.children)
    to_infinitive = any(c.dep_ == "aux" and c.lower_ == "to" for c in verb.children)
    passive = any(c.dep_ == "auxpass" for c in verb.children)
    # The most compact variant says a passive with an agent in the active, which is shorter:
    # "the letter was written by my brother" -> "मेरे भाई ने पत्र लिखा".
    agent = next((c for c in verb.children if c.dep_ == "agent"), None)
    doer = next((c for c in agent.children if c.dep_ == "pobj"), None) if agent else None
    made_active = bool(tr.compact >= 2 and passive and doer is not None)
    if made_active and agent is not None:  # an agent is there when its object is
        objects = ([subject] if subject is not None else []) + list(objects)
        subject, passive = doer, False
        tr.used.add(agent.i)
    finite = auxes[0] if auxes else verb
    past = finite.tag_ in ("VBD",) or bool(auxes and aux_lemmas[0] in ("could", "might"))
    lemma = verb.lemma_.lower()
    copular = lemma == "be" and not passive and not made_active
    polite = any(c.lower_ == "please" for c in verb.children)
    prt = next((c for c in verb.children if c.dep_ == "prt"), None)

    # The Hindi verb lemma (phrasal verbs first: "give up").
    infinitive = "होना"
    if not copular:
        found = tr.dictionary.lookup(f"{lemma} {prt.lower_}", "VERB") if prt is not None else None
        if found is None and verb.tag_ == "VBN":  # a participle with its own entry: born
            found = tr.dictionary.lookup(verb.lower_, "VERB")
        if found is None:
            found = tr.dictionary.lookup(lemma, "VERB")
            tr.total_words += 1
            if found is None:
                from f2f.textnorm import transliterate_latin
                tr.unknown.append(verb.text)
                found = transliterate_latin(lemma) + " करना"
            else:
                tr.known_words += 1
        infinitive = found if found.endswith("ना") else found + " करना"
        # One English verb, two Hindi ones: "cases increased" बढ़े, "they increased taxes" बढ़ाए
        has_object = bool(objects) or passive or any(
            c.dep_ in ("ccomp", "xcomp", "dative") for c in verb.children)
        if not has_object and infinitive in INTRANSITIVE_OF:
            infinitive = INTRANSITIVE_OF[infinitive]
        elif has_object and infinitive in _TRANSITIVE_OF and not passive:
            infinitive = _TRANSITIVE_OF[infinitive]

    weather = lemma in _WEATHER and subject is not None and subject.lower_ == "it"
    if weather:  # "it rains" -> बारिश होती है: no यह, the verb agrees with the weather noun
        tr.used.add(subject.i)
        subject, infinitive = None, _WEATHER[lemma]
    # Possession: "I have a car" -> "मेरे पास एक कार है".
    possession = lemma == "have" and objects and not passive and verb.tag_ != "VBN"
    if possession:
        copular, infinitive = True, "होना"

    # Aspect and tense.
    if future and not nominal:
        tense = hi.Tense("future", negative=negative)
    elif nominal:
        tense = hi.Tense("oblique_infinitive" if verb.dep_ == "pcomp" else "infinitive")
    elif to_infinitive and verb.dep_ in ("xcomp", "advcl", "acl", "relcl", "ccomp"):
        tense = hi.Tense("oblique_infinitive" if verb.dep_ in ("advcl", "acl") else
                         "infinitive", negative=negative)
    elif future or any(a in _FUTURE for a in aux_lemmas) or "would" in aux_lemmas \
            or "'d" in aux_lemmas:
        tense = hi.Tense("future", negative=negative)
    elif "be" in aux_lemmas and verb.tag_ == "VBG":
        tense = hi.Tense("progressive", "past" if past else "present", negative)
    elif "have" in aux_lemmas and verb.tag_ == "VBN" and not passive:
        tense = hi.Tense("perfective", "past" if past else "present", negative)
    elif verb.tag_ == "VB" and not auxes and subject is None and verb.dep_ == "ROOT":
        tense = hi.Tense("imperative", negative=negative)
    elif verb.tag_ == "VBG" and not auxes:
        tense = hi.Tense("participle", negative=negative)
    elif made_active:
        tense = hi.Tense("perfective", "none", negative) if past else hi.Tense(
            "habitual", "present", negative)
    elif verb.tag_ == "VBN" and not auxes or past and not copular and not passive and not (
            auxes and aux_lemmas[0] in _ABILITY):
        tense = hi.Tense("perfective", "none", negative)
    else:
        tense = hi.Tense("habitual", "past" if past else "present", negative)

    modal = next((a for a in aux_lemmas if a in _ABILITY or a in _OBLIGATION), None)
    # A that-clause or quote is an object too: "he said (that) ..." -> उसने कहा
    said = any(c.dep_ in ("ccomp", "xcomp") for c in verb.children) or verb.dep_ == "parataxis"
    # करना/देना/लेना compounds take ने with or without an object: उसने बात की, उसने शुरू किया
    light = len(infinitive.split()) > 1 and infinitive.split()[-1] in _LIGHT_VERBS
    transitive = (bool(objects) or said or light) and not copular \
        and infinitive.split()[-1] not in _INTRANSITIVE
    ergative = tense.aspect == "perfective" and (tense.auxiliary != "none" or past)
    subject_case = "direct"
    if subject is not None and ergative and transitive and not passive and modal is None:
        subject_case = "ergative"
    if modal in _OBLIGATION:
        subject_case = "dative"
    if possession:
        subject_case = "possessor"

    # Subject ("who"/"which"/"that" of a relative clause is the जो the clause starts with).
    relative_head = None
    if subject is not None and subject.tag_ in ("WDT", "WP") and verb.dep_ == "relcl":
        subject, relative_head = None, verb.head  # the verb agrees with the noun जो stands for
    objects = [o for o in objects if not (o.tag_ in ("WDT", "WP") and verb.dep_ == "relcl")]
    subject_words: list[str] = []
    agreement = hi.NEUTRAL
    if subject is not None and subject.dep_ == "expl":
        tr.used.add(subject.i)  # "there is a problem" -> "एक समस्या है": no वहाँ
    if subject is not None and subject.dep_ != "expl":
        if subject.pos_ in ("VERB", "AUX"):
            subject_words = tr.clause(subject, nominal=True)
        elif subject_case == "possessor" and not any(o.lemma_.lower() in _POSSESSIONS
                                                     for o in objects):
            phrase = tr.noun_phrase(subject, "dative")  # "I have a cough" -> "मुझे खांसी है"
            tr.bare.update(o.i for o in objects  # a state one has (a cough) takes no एक;
                           if o.lemma_.lower() in _CONDITIONS)  # a question keeps it
            subject_words = ([phrase.pronoun.dative] + phrase.words[1:]
                             if phrase.pronoun is not None else phrase.words)
        elif subject_case == "possessor":
            phrase = tr.noun_phrase(subject, "oblique")
            if phrase.pronoun is not None:
                subject_words = [hi.adjective(phrase.pronoun.possessive, hi.NEUTRAL, True), "पास"]
            else:
                subject_words = phrase.words + ["के", "पास"]
        else:
            phrase = tr.noun_phrase(subject, subject_case)
            subject_words, agreement = phrase.words, phrase.agreement
    elif weather:
        agreement = hi.Agreement("f")
    elif tense.aspect == "imperative":
        agreement = hi.Agreement("m", True, 2, honorific=polite)
    elif relative_head is not None:
        if subject_case == "ergative":  # "the man who has eaten" -> जिसने
            plural = relative_head.tag_ in ("NNS", "NNPS")
            subject_words = [(hi.RELATIVE_PLURAL if plural else hi.RELATIVE).ergative]
        head_hindi = tr.dictionary.lookup(relative_head.lemma_, "NOUN") or ""
        agreement = hi.Agreement(tr.dictionary.gender(head_hindi) if head_hindi else "m",
                                 relative_head.tag_ in ("NNS", "NNPS"))

    # Objects.
    object_words: list[str] = []
    object_agreement = None
    for obj in objects:
        if obj.dep_ == "acomp" or obj.pos_ == "ADJ":
            adjective = tr._adjective_phrase(obj, agreement, False)
            object_words.extend(adjective)
            continue
        marker = _OBJECT_MARKERS.get(infinitive)
        if marker and obj.dep_ == "dobj" and obj.pos_ not in ("VERB", "AUX"):
            phrase = tr.noun_phrase(obj, "oblique")  # "met the leaders" -> नेताओं से मिला
            object_words.extend([hi.fused_postposition(phrase.pronoun, marker)]
                                if phrase.pronoun is not None and len(phrase.words) == 1
                                else phrase.words + [marker])
            continue
        if obj.pos_ == "ADP":  # "gave it to him": spaCy's dative "to" is a preposition
            object_words.extend(tr.prepositional(obj))
            continue
        nominal_head = infinitive.split()[0] if len(infinitive.split()) == 2 else ""
        if obj.dep_ == "dobj" and nominal_head in NOMINAL_VERBS and obj.pos_ != "VERB":
            # "support me" -> मेरा समर्थन करना, "use water" -> पानी का उपयोग करना: the object of
            # a noun + verb compound is that noun's possessor, and the verb agrees with the noun.
            owned = hi.Agreement(NOMINAL_VERBS[nominal_head])
            phrase = tr.noun_phrase(obj, "oblique")
            if phrase.pronoun is not None and len(phrase.words) == 1:
                object_words.append(hi.adjective(phrase.pronoun.possessive, owned))
            else:
                object_words.extend(phrase.words + [hi.possessive(owned)])
            object_agreement = object_agreement or owned
            continue
        case = "direct"
        # the person told: "told Blake (that) it was ..." -> ब्लेक को बताया कि
        addressee = obj.dep_ == "dobj" and obj.pos_ in ("NOUN", "PROPN") \
            and verb.lemma_.lower() in _TELLING and any(c.dep_ == "ccomp" for c in verb.children)
        if addressee or obj.dep_ == "dative" or (obj.dep_ == "dobj" and obj.pos_ == "PRON"
                                    and obj.lower_ not in ("it", "what", "this", "that",
                                                           "something", "anything",
                                                           "everything", "nothing")) \
                or obj.dep_ == "dobj" and (obj.ent_type_ in ("PERSON", "ORG", "NORP")
                                           or obj.lemma_.lower() in PEOPLE and not possession
                                           or any(c.lower_ in ("this", "that", "these", "those")
                                                  for c in obj.children)) \
                and not any(c.lower_ in ("a", "an") for c in obj.children):
            # people and pointed-at things are marked objects: लोगों को, इस किताब को
            case = "dative"
        phrase = tr.noun_phrase(obj, case) if obj.pos_ not in ("VERB", "AUX") else None
        words = phrase.words if phrase else tr.clause(obj, nominal=True)
        if phrase and case == "dative" and phrase.pronoun is not None:
            words = [phrase.pronoun.dative] + words[1:]
        object_words.extend(words)
        if phrase and case == "direct" and object_agreement is None:
            object_agreement = phrase.agreement
    if copular and (subject is None or subject.dep_ == "expl" or possession) and object_agreement:
        agreement = object_agreement  # "there are two cars" / "I have two cars"

    if light and object_agreement is None:  # no direct object: the verb agrees with its noun
        noun = infinitive.split()[-2]
        gender = NOMINAL_VERBS.get(noun) or tr.dictionary.genders.get(noun, "m")
        object_agreement = hi.Agreement(gender)

    # Verb words.
    verb_agreement = agreement
    if subject_case == "ergative" or passive and subject is None:
        verb_agreement = object_agreement or hi.NEUTRAL
    if subject_case == "dative":
        verb_agreement = hi.NEUTRAL
    stative = passive and agent is None and tense.aspect == "habitual" and len(
        infinitive.split()) == 2 and infinitive.split()[0].endswith(("ित", "स्थित"))
    if passive and tense.aspect == "habitual" and past:  # "was written" -> "लिखा गया"
        tense = hi.Tense("perfective", "none", negative)
    if stative:  # "is based on", "was located in": a state -> पर आधारित है, में स्थित था
        words = [infinitive.split()[0], ("नहीं " if negative else "") + hi.copula(
            verb_agreement, past)]
    elif passive and infinitive.endswith("होना"):  # "was born" -> पैदा हुआ: होना has no passive
        words = [hi.verb(infinitive, tense, verb_agreement)]
    elif passive:
        noun = infinitive.split()[0] if len(infinitive.split()) == 2 else ""
        if noun in NOMINAL_VERBS:  # "was announced" -> की घोषणा की गई: agrees with घोषणा
            verb_agreement = hi.Agreement(NOMINAL_VERBS[noun])
        participle = hi.verb(infinitive, hi.Tense("perfective", "none"), verb_agreement)
        if modal in _OBLIGATION:  # "should be treated" -> इलाज किया जाना चाहिए
            head, _, last = participle.rpartition(" ")  # नहीं before the verb, after its noun
            words = [head, ("नहीं " if negative else "") + last, "जाना", _OBLIGATION[modal]]
        elif modal in _ABILITY:  # "can be used" -> उपयोग किया जा सकता है
            able = hi.Tense("habitual", "past" if modal == "could" and past else "present",
                            negative)
            words = [participle, "जा", hi.verb("सकना", able, verb_agreement)]
        else:
            words = [participle, hi.verb("जाना", tense if tense.aspect != "perfective" else
                                         hi.Tense("perfective", tense.auxiliary, negative),
                                         verb_agreement)]
    elif modal in _ABILITY:
        stem = infinitive[:-2]
        able = hi.Tense("habitual", "past" if modal == "could" and past else "present",
                        negative)
        words = [stem, hi.verb("सकना", able, verb_agreement)]
    elif modal in _OBLIGATION:
        words = [hi.verb(infinitive, hi.Tense("infinitive", negative=negative)),
                 _OBLIGATION[modal]]
    elif copular:
        auxiliary = hi.Tense("future", negative=negative) if tense.aspect == "future" else None
        words = [("नहीं " if negative else "") + hi.copula(verb_agreement, past)] \
            if auxiliary is None else [hi.verb("होना", auxiliary, verb_agreement)]
    elif lemma == "bless" and subject is not None and subject.lemma_.lower() == "god":
        words = [hi.verb(infinitive, hi.Tense("subjunctive"), agreement)]  # a wish
    elif (tense.aspect == "perfective" and not negative and not objects
          and infinitive.split()[-1] in _CHANGE_OF_STATE):  # "he died" -> मर गया: completed
        stem = hi.verb(infinitive, hi.Tense("infinitive"))[:-2]
        words = [stem, hi.verb("जाना", tense, verb_agreement)]
    elif (tense.aspect == "perfective" and not negative and objects and len(
            infinitive.split()) == 2 and infinitive.endswith(" करना")
          and infinitive.split()[0] in _COMPLETED_STATES):  # "cancelled it" -> रद्द कर दिया
        words = [infinitive.split()[0], "कर", hi.verb("देना", tense, verb_agreement)]
    else:
        words = [hi.verb(infinitive, tense, verb_agreement)]
    return VerbGroup(subject_words, object_words, [w for w in words if w])
