"""English dependency tree -> Hindi sentence: the transfer step of the `lexicon` MT.

Each clause is rebuilt in Hindi order (subject, adverbials, postpositional phrases, object,
verb group last); noun phrases are head-final (determiner, possessor + का, numeral, adjectives,
noun); prepositions become postpositions after an oblique noun phrase. Agreement flows from
the noun's gender/number (dictionary) and from spaCy's tags (tense, number, person).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from f2f.textnorm import LETTER_NAMES, number_to_hindi
from stages.mt import _hindi as hi
from stages.mt import _numbers
from stages.mt._dictionary import Dictionary
from stages.mt._function_words import (COMPOUND_PREPOSITIONS, DAYS, DETERMINERS, INTERJECTIONS,
                                       MONTHS, MOTION_VERBS, NAME_ENTITIES, NUMBERS,
                                       PREPOSITIONAL_IDIOMS, PREPOSITIONS, PARTITIVES,
                                       QUANTITIES, WH_ADVERBS)
from stages.mt._lexical import (DEGREE_WORDS, ORDINAL, clause_subject, closed_class, day_of_month,
                                comparative_bases, is_acronym, participial_relative,
                                relative_pronoun, spelled_compound_number, transliterate_name)
from stages.mt._verbs import PEOPLE


@dataclass
class Phrase:
    """Hindi words of a noun phrase plus what a verb or का agrees with."""

    words: list[str]
    agreement: hi.Agreement = hi.NEUTRAL
    pronoun: hi.Pronoun | None = None
    animate: bool = False


@dataclass
class Transfer:
    dictionary: Dictionary
    compact: int = 0  # 1: no articles or intensifiers; 2: also no interjections or appositions
    unknown: list[str] = field(default_factory=list)
    used: set[int] = field(default_factory=set)  # token indices already rendered
    bare: set[int] = field(default_factory=set)  # nouns said without "एक" for their a/an
    known_words: int = 0
    total_words: int = 0

    # ---- words
    def word(self, token, pos: str | None = None) -> str:
        pos = pos or token.pos_
        text = token.text
        self.total_words += 1
        self.used.add(token.i)
        if len(text) == 1 and text.isascii() and text.isupper() and text != "I" or (
                len(text) == 1 and text.isascii() and text.isalpha() and token.nbor(1).like_num
                if token.i + 1 < len(token.doc) else False):
            self.known_words += 1  # a spelled letter ("F 2", "the letter A"): its English name
            return LETTER_NAMES[text.lower()]
        ordinal = ORDINAL.match(text)
        if ordinal:  # "18th" -> 18वाँ (agrees like an adjective: 18वीं शताब्दी)
            self.known_words += 1
            return ordinal.group(1) + "वाँ"
        spelled = spelled_compound_number(text)
        if spelled is not None:
            self.known_words += 1
            return number_to_hindi(spelled)
        if (pos == "NUM" or token.like_num) and (token.lower_ in NUMBERS or not text.isalpha()):
            self.known_words += 1
            return NUMBERS.get(token.lower_, text)
        if pos == "PROPN" or (text.isupper() and len(text) > 1):
            code = text.isalnum() and any(c.isdigit() for c in text)  # H1N1, KV62: as typed
            found = None if code else self.dictionary.lookup(text.lower(), "PROPN")
            if not found and token.ent_type_ not in NAME_ENTITIES and not text.isupper():
                found = self.dictionary.lookup(token.lower_, "NOUN")  # "National ... Act"
            self.known_words += 1
            if found:
                return found
            if len(text) == 1 and text.lower() in LETTER_NAMES:
                return LETTER_NAMES[text.lower()]
            return text if is_acronym(token) else transliterate_name(text)
        found = self.dictionary.lookup(token.lemma_, pos) or self.dictionary.lookup(
            token.lower_, pos)
        if found is None:
            found = WH_ADVERBS.get(token.lower_) or INTERJECTIONS.get(token.lower_)
        if found is None and pos == "ADP":
            found = PREPOSITIONS.get(token.lower_)
        if found is None:
            found = closed_class(token)
        degree = token.tag_ in ("JJR", "RBR", "JJS", "RBS") and token.lower_ not in DEGREE_WORDS
        if degree and found is not None and token.lower_ != token.lemma_.lower():
            found = ("सबसे " if token.tag_ in ("JJS", "RBS") else "अधिक ") + found  # largest
        elif degree and found is None:  # an unlemmatised comparative: colder -> अधिक ठंडा
            base = next((v for v in (self.dictionary.lookup(b, "ADJ") for b in comparative_bases(
                token.lower_)) if v), None)
            if base:
                found = ("सबसे " if token.lower_.endswith("st") else "अधिक ") + base
        if found is None and token.lower_.endswith("ed"):  # "planned", "proposed": participles
            found = next((hi.verb(v, hi.Tense("perfective", "none")) for v in (
                self.dictionary.lookup(stem, "VERB") for stem in (
                    token.lower_[:-1], token.lower_[:-2], token.lower_[:-3])) if v), None)
        if found is not None:
            self.known_words += 1
            return found
        self.unknown.append(text)
        return transliterate_name(text)

    def entity(self, token) -> str | None:
        """A multi-word name the dictionary knows ("United States of America"), at its root;
        its words are used up (the entity's own span, in whichever sentence it is)."""
        if not token.ent_type_:
            return None
        for ent in token.doc.ents:
            if ent.root.i == token.i and len(ent) > 1:
                text = " ".join(t.lower_ for t in ent if t.dep_ != "det")
                found = self.dictionary.lookup(text, "PROPN")
                if found:
                    self.used.update(range(ent.start, ent.end))
                return found
        return None

    def command(self, tokens: list) -> list[str]:
        return _numbers.command(self, tokens)

    def number(self, token) -> str:
        return _numbers.number(self, token)

    def leftovers(self, tokens: list) -> list[str]:
        """Words no rule placed (an odd parse): translated anyway (rules in _clauses.py)."""
        from stages.mt._clauses import leftovers

        return leftovers(self, tokens)

    # ---- noun phrases
    def noun_phrase(self, token, case: str = "direct") -> Phrase:
        """`case`: direct | oblique (a postposition follows) | ergative (ने) | dative (को)."""
        lower = token.lower_
        self.used.add(token.i)
        name = self.entity(token)
        if name:
            self.total_words += 1
            self.known_words += 1
            marker = {"ergative": ["ने"], "dative": ["को"]}.get(case, [])
            return Phrase([name] + marker, hi.NEUTRAL, None, True)
        relative = relative_pronoun(token)
        if relative is not None:  # "the city in which he lives" -> जिसमें
            self.total_words += 1
            self.known_words += 1
            form = {"direct": relative.direct, "oblique": relative.oblique,
                    "ergative": relative.ergative, "dative": relative.dative}[case]
            return Phrase([form], relative.agreement, relative, True)
        acronym = len(token.text) > 1 and token.text.isupper()  # WHO is a name, not कौन
        if token.pos_ == "PRON" and not acronym and (lower in hi.PRONOUNS
                                                     or token.lemma_.lower() in hi.PRONOUNS):
            pron = hi.PRONOUNS.get(lower) or hi.PRONOUNS[token.lemma_.lower()]
            form = {"direct": pron.direct, "oblique": pron.oblique, "ergative": pron.ergative,
                    "dative": pron.dative}[case]
            self.total_words += 1
            self.known_words += 1
            return Phrase(self.modifiers_after(token, [form]), pron.agreement, pron, True)
        if token.tag_ in ("PRP$", "WP$") or lower in ("my", "our", "your", "his", "her", "its",
                                                      "their"):
            return Phrase([self._possessive_pronoun(token, hi.NEUTRAL, False)])
        of = next((c for c in token.children if c.dep_ == "prep" and c.lower_ == "of"
                   and any(o.dep_ == "pobj" for o in c.children)), None)
        if of is not None and (lower in PARTITIVES or lower in QUANTITIES and any(
                c.lower_ in ("a", "an") for c in token.children)):
            return self._partitive(token, of, case)
        if lower == "other" and any(c.lower_ == "each" for c in token.children):
            self.used.update(c.i for c in token.children)  # "each other" -> एक-दूसरे
            return Phrase(["एक-दूसरे"] + ({"dative": ["को"], "ergative": ["ने"]}.get(case, [])))
        plural = token.tag_ in ("NNS", "NNPS") or "Plur" in token.morph.get("Number")
        head = self.word(token, "NOUN" if token.pos_ not in ("PROPN", "NUM") else None)
        gender = self.dictionary.gender(head)
        # Elders and office-holders take honorific plural agreement: मेरे पिता काम करते हैं
        agreement = hi.Agreement(gender, plural or head in hi.HONORIFIC)
        oblique = case != "direct"
        inflected = hi.noun(head, gender, plural, oblique) if token.pos_ == "NOUN" else head
        before: list[str] = []
        postpositional: list[str] = []
        compounds: list[str] = []
        labels: list[str] = []  # "room 5", "gate B 4": a number after its noun names it
        for child in token.children:
            dep = child.dep_
            if dep == "det":
                self.used.add(child.i)
                if child.text == "A" and child.i + 1 < len(child.doc) and child.nbor(1).like_num:
                    before.append(LETTER_NAMES["a"])  # GRID "A 1": the letter, not "a"
                    continue
                det = DETERMINERS.get(child.lower_)
                if det is None or (self.compact or token.i in self.bare) and child.lower_ in (
                        "a", "an"):
                    continue
                if child.lower_ == "some" and token.lemma_.lower() in PEOPLE and not plural:
                    det = "कोई"  # "some man" -> कोई आदमी, किसी आदमी से (but कुछ पानी)
                if det == "कोई" and oblique:
                    before.append("किसी")
                elif det in hi.PRONOUNS:
                    pron = hi.PRONOUNS[det]
                    before.append(pron.oblique if oblique else pron.direct)
                elif det:
                    before.append(hi.adjective(det, agreement, oblique))
            elif dep == "preconj":  # "both A and B": the और says it
                self.used.add(child.i)
            elif dep == "predet" and DETERMINERS.get(child.lower_) not in (None, ""):
                self.used.add(child.i)  # "all the people" -> सभी लोग
                before.append(hi.adjective(DETERMINERS[child.lower_], agreement, oblique))
            elif dep in ("poss",):
                before.append(self._possessor(child, agreement, oblique))
            elif dep == "nummod" and child.i > token.i and not day_of_month(token, child):
                labels.append(self.number(child))
            elif dep in ("nummod", "quantmod"):
                before.append(self.number(child))
            elif dep in ("amod", "nmod"):
                before.append(" ".join(self._adjective_phrase(child, agreement, oblique)))
            elif dep == "acl" and child.tag_ == "VB" and any(
                    c.dep_ == "aux" and c.lower_ == "to" for c in child.children):
                # "a plan to build roads" -> सड़कें बनाने की योजना
                doing = hi.oblique_infinitive(self.clause(child, nominal=True))
                before.append(" ".join(doing + [hi.possessive(agreement, oblique)]))
            elif dep == "acl" and child.tag_ == "VBG" or participial_relative(child):
                # "people living here", "people who live here" -> यहाँ रहने वाले लोग
                doing = hi.oblique_infinitive(self.clause(child, nominal=True))
                before.append(" ".join(doing + [hi.adjective("वाला", agreement, oblique)]))
            elif dep == "compound":
                compounds.append(" ".join(self.noun_phrase(child).words))
            elif dep == "prep" and child.i < token.i + 6:
                pp = self.prepositional(child, possessed=agreement, possessed_oblique=oblique)
                if pp:
                    postpositional.extend(pp)
        # Postpositional modifiers come first: "हमारे देश के लिए एक महत्वपूर्ण क्षण".
        words = postpositional + before + compounds + [inflected] + labels
        if case == "ergative":
            words.append("ने")
        elif case == "dative":
            words.append("को")
        words = self.modifiers_after(token, words)
        animate = token.ent_type_ in ("PERSON", "NORP", "ORG") or token.pos_ == "PROPN"
        if any(c.dep_ == "conj" for c in token.children):  # "A and B" are plural
            agreement = hi.Agreement(agreement.gender, True, agreement.person)
        return Phrase(words, agreement, None, animate)

    def _partitive(self, token, of, case: str) -> Phrase:
        """"one of the students" -> छात्रों में से एक; "a lot of people" -> बहुत लोग."""
        self.used.update([token.i, of.i] + [c.i for c in token.children if c.dep_ == "det"])
        whole = next(o for o in of.children if o.dep_ == "pobj")
        if token.lower_ in QUANTITIES:  # the amount is the noun's determiner
            phrase = self.noun_phrase(whole, case)
            return Phrase([QUANTITIES[token.lower_]] + phrase.words, phrase.agreement, None,
                          phrase.animate)
        part = self.noun_phrase(whole, "oblique")
        words = part.words + ["में"]
        if part.pronoun is not None and len(part.words) == 1:
            words = [part.pronoun.oblique + "में"]  # उनमें से कुछ
        plural = token.lower_ not in ("one", "each", "none")
        marker = {"ergative": ["ने"], "dative": ["को"]}.get(case, [])
        return Phrase(words + ["से", PARTITIVES[token.lower_]] + marker,
                      hi.Agreement(part.agreement.gender, plural), None, part.animate)

    def modifiers_after(self, token, words: list[str]) -> list[str]:
        """Relative clauses, appositions and conjuncts follow the noun phrase."""
        for child in token.children:
            if child.dep_ == "relcl" and not participial_relative(child):
                words = words + [","] + self.clause(child, relative=True) + [","]
            elif child.dep_ == "acl" and child.tag_ not in ("VBG", "VB"):  # (before the noun)
                words = words + self.clause(child)
            elif child.dep_ == "appos":  # in brackets when the English has them: "(COVID-19)"
                bracketed = child.i > 0 and child.doc[child.left_edge.i - 1].text == "("
                marks = ["(", ")"] if bracketed else [",", ","]
                words = words + [marks[0]] + self.noun_phrase(child).words + [marks[1]]
            elif child.dep_ == "advcl":  # a fragment: "Some tea if you want." -> अगर आप चाहें
                words = words + self.clause(child)
            elif child.dep_ == "conj":
                cc = next((c for c in token.children if c.dep_ == "cc"), None)
                joint = "या" if cc is not None and cc.lower_ == "or" else "और"
                if any(g.dep_ == "conj" for g in child.children):
                    joint = ","  # "A, B and C" -> A, B और C: the और before the last only
                if cc is not None:  # "as well as": its "as well" is part of the और
                    self.used.update(t.i for t in cc.subtree)
                words = words + [joint] + self.noun_phrase(child).words
        return words

    def _possessive_pronoun(self, token, agreement: hi.Agreement, oblique: bool) -> str:
        self.used.add(token.i)
        relative = relative_pronoun(token)
        if relative is not None:  # "whose" in a relative clause: जिसका / जिनकी
            return hi.adjective(relative.possessive, agreement, oblique)
        owner = {"my": "i", "our": "we", "your": "you", "his": "he", "her": "she", "its": "it",
                 "their": "they", "whose": "who"}.get(token.lower_, "it")
        subject = clause_subject(token)
        if subject == owner or subject == "noun" and owner in ("it", "he", "she") or (
                subject == "noun-plural" and owner == "they"):
            # "she helped her brother" -> अपने भाई की; "the company changed its name" -> अपना
            return hi.adjective("अपना", agreement, oblique)
        return hi.adjective(hi.PRONOUNS[owner].possessive, agreement, oblique)

    def _possessor(self, token, agreement: hi.Agreement, oblique: bool) -> str:
        if token.tag_ in ("PRP$", "WP$") or token.lower_ in ("my", "our", "your", "his", "her",
                                                             "its", "their", "whose"):
            return self._possessive_pronoun(token, agreement, oblique)
        owner = self.noun_phrase(token, "oblique").words
        return " ".join(w for w in owner if w != "'s") + " " + hi.possessive(agreement, oblique)

    def _adjective_phrase(self, token, agreement: hi.Agreement, oblique: bool) -> list[str]:
        words = [self._adverb(c) for c in token.children if c.dep_ in ("advmod", "npadvmod")]
        if token.pos_ in ("NOUN", "PROPN"):
            return words + self.noun_phrase(token).words
        for child in token.children:  # "full of water", "willing to help": before it
            if child.dep_ == "prep":
                pp = self.prepositional(child)
                words += pp[:-1] + ["से"] if child.lower_ == "of" and pp else pp
            elif child.dep_ == "xcomp" and child.pos_ in ("VERB", "AUX"):
                words += hi.oblique_infinitive(self.clause(child, nominal=True)) + ["के लिए"]
        adjective = self.word(token, "ADJ" if token.pos_ != "VERB" else "VERB")
        stem = adjective.removesuffix(" करना")
        if token.tag_ == "VBN" and stem != adjective and stem.endswith("त"):
            adjective = stem  # "infected people": संक्रमित लोग, an adjective already
        elif token.pos_ == "VERB":  # "the running water", "a known fact": participles
            aspect = "habitual" if token.tag_ == "VBG" else "perfective"  # बहता, जाना-माना
            adjective = hi.verb(adjective, hi.Tense(aspect, "none"), agreement)
        words = words + [hi.adjective(adjective, agreement, oblique)]
        for child in token.children:  # "big and old" -> बड़ा और पुराना
            if child.dep_ == "conj" and child.pos_ == "ADJ" and child.i not in self.used:
                self.used.add(child.i)
                words += ["और"] + self._adjective_phrase(child, agreement, oblique)
        return words

    def _adverb(self, token) -> str:
        self.used.add(token.i)
        modifiers = [self._adverb(c) if c.dep_ == "advmod" else " ".join(self.noun_phrase(c).words)
                     for c in token.children  # "very quickly", "two days later"
                     if c.i not in self.used and (c.dep_ == "advmod" or c.dep_ == "npadvmod"
                                                  and c.pos_ in ("NOUN", "PROPN"))]
        if modifiers:
            return " ".join(modifiers + [self._adverb(token)])
        if token.lower_ in ("where", "when") and token.head.dep_ in ("relcl", "advcl"):
            return "जहाँ" if token.lower_ == "where" else "जब"  # "the city where he lives"
        if token.lower_ in WH_ADVERBS:
            return WH_ADVERBS[token.lower_]
        if token.lower_ in ("not", "n't", "never"):
            return "कभी नहीं" if token.lower_ == "never" else "नहीं"
        return self.word(token, "ADV")

    def prepositional(self, prep, possessed: hi.Agreement | None = None,
                      possessed_oblique: bool = False) -> list[str]:
        """'in the house' -> ['घर', 'में']; 'of the king' -> ['राजा', 'का/के/की']."""
        objects = [c for c in prep.children if c.dep_ in ("pobj", "pcomp")]
        self.used.add(prep.i)
        marker = PREPOSITIONS.get(prep.lower_)
        if marker is None:
            marker = self.word(prep, "ADP")
        second = next((c for c in prep.children if c.dep_ in ("pcomp", "prep") and c.pos_ in (
            "ADP", "SCONJ", "ADV") and f"{prep.lower_} {c.lower_}" in COMPOUND_PREPOSITIONS), None)
        if second is not None:  # "due to the rain", "according to the police": one postposition
            self.used.add(second.i)
            marker = COMPOUND_PREPOSITIONS[f"{prep.lower_} {second.lower_}"]
            objects = [c for c in second.children if c.dep_ in ("pobj", "pcomp")] + [
                o for o in objects if o.i != second.i]
        if not objects:
            return [marker] if marker else []
        hedges = [self._adverb(c) for c in prep.children  # "shortly after", "just before"
                  if c.dep_ == "advmod" and c.i not in self.used]
        target = objects[0]
        idiom = PREPOSITIONAL_IDIOMS.get(f"{prep.lower_} {target.lower_}")
        if idiom == "इस तरह" and not any(c.lower_ in ("this", "that") for c in target.children):
            idiom = None  # only "in this way"
        if idiom and all(c.dep_ == "det" for c in target.children):  # "in addition" -> इसके अलावा
            self.used.update(t.i for t in target.subtree)
            return [idiom]
        phrase = None
        if target.dep_ == "pcomp" and target.pos_ in ("VERB", "AUX"):
            body = self.clause(target, nominal=True)
        else:
            phrase = self.noun_phrase(target, "oblique")
            body = phrase.words
        if prep.lower_ in ("on", "at") and (target.lower_ in DAYS or target.like_num
                                            or target.lower_ in MONTHS):
            marker = "को"  # "on Thursday" -> "गुरुवार को"
        if prep.lower_ == "to" and prep.head.lemma_ in MOTION_VERBS:
            marker = ""
        elif prep.lower_ == "to" and prep.head.lemma_ in ("talk", "speak", "say", "ask"):
            marker = "से"  # "talked to the man" -> आदमी से बात की
        if prep.lower_ == "of":
            marker = hi.possessive(possessed or hi.NEUTRAL, possessed_oblique)
        if body and marker == "को" and body[-1] in hi.FUSED_DATIVE:
            return body[:-1] + [hi.FUSED_DATIVE[body[-1]]]
        if marker == "प्रति":  # "per person" -> प्रति व्यक्ति: a preposition in Hindi too
            return [marker] + body
        if phrase is not None and phrase.pronoun is not None and len(body) == 1 and marker:
            return [hi.fused_postposition(phrase.pronoun, marker)]
        return hedges + body + ([marker] if marker else [])

    # ---- clauses (rules in _clauses.py)
    def clause(self, verb, relative: bool = False, nominal: bool = False,
               inherited_subject=None, future: bool = False) -> list[str]:
        from stages.mt._clauses import clause

        return clause(self, verb, relative, nominal, inherited_subject, future)
