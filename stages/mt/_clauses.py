"""Clause rules of the transfer MT: Hindi order of a clause and of the clauses around it.

A clause is subject, time/manner adverbs, postpositional phrases, objects, verb group last;
"that"-clauses follow the verb with कि, adverbial clauses go first with their Hindi conjunction,
relative clauses start with जो, purpose clauses end in के लिए.
"""

from __future__ import annotations

from f2f.textnorm import LETTER_NAMES
from stages.mt import _hindi as hi
from stages.mt._function_words import ADVERB_CLAUSE_MARKS, INTENSIFIERS, INTERJECTIONS, SILENT
from stages.mt._verbs import NOMINAL_VERBS, verb_group

_SUBJECTS = {"nsubj", "nsubjpass", "csubj", "expl"}
_OBJECTS = {"dobj", "dative", "attr", "acomp", "oprd", "obj"}


def clause(tr, verb, relative: bool = False, nominal: bool = False,
           inherited_subject=None, future: bool = False) -> list[str]:
    children = list(verb.children)
    xcomp = next((c for c in children if c.dep_ == "xcomp" and c.pos_ in ("VERB", "AUX")),
                 None)
    subject = next((c for c in children if c.dep_ in _SUBJECTS), inherited_subject)
    if (xcomp is not None and verb.lemma_ == "go" and verb.tag_ == "VBG"
            and any(c.lower_ == "to" for c in xcomp.children)):
        # "is going to read" = future of "read", with this clause's subject and adverbs
        tr.used.update([verb.i] + [c.i for c in children if c.dep_ == "aux"])
        inner = tr.clause(xcomp, inherited_subject=subject, future=True)
        outer = [c for c in children if c.dep_ in ("advcl", "ccomp", "conj", "mark")]
        return around(tr, verb, outer, inner, relative)
    if xcomp is not None and verb.lemma_ == "have" and any(
            c.lower_ == "to" for c in xcomp.children):
        # "have to go" -> "जाना है" with a dative subject
        tr.used.add(verb.i)
        inner = tr.clause(xcomp, nominal=True)
        subject_words = (tr.noun_phrase(subject, "dative").words
                         if subject is not None else [])
        if subject is not None and subject.pos_ == "PRON" and subject.lower_ in hi.PRONOUNS:
            subject_words = [hi.PRONOUNS[subject.lower_].dative]
        past = verb.tag_ == "VBD"
        words = subject_words + inner + ["था" if past else "है"]
        return ["जो"] + words if relative else words
    objects = [c for c in children if c.dep_ in _OBJECTS]
    group = verb_group(tr, verb, subject, objects, future=future, nominal=nominal)
    middle: list[str] = list(group.subject_words)
    if (xcomp is not None and verb.lemma_ == "be" and group.subject_words == ["यह"]
            and any(c.dep_ == "aux" and c.lower_ == "to" for c in xcomp.children)):
        # "it is important to wash hands" -> हाथ धोना महत्वपूर्ण है: the infinitive is the subject
        middle = tr.clause(xcomp, nominal=True)
        xcomp = None
    opening: list[str] = []  # a relative clause starts with its relative word: जिसमें, जहाँ
    # Hindi order: time and manner adverbs, then postpositional phrases, then objects.
    ordered = sorted(children, key=lambda c: c.dep_ not in ("advmod", "npadvmod"))
    for child in ordered:
        dep = child.dep_
        if tr.compact and child.lower_ in INTENSIFIERS:
            tr.used.add(child.i)
            continue
        if dep in ("advmod", "npadvmod") and child.lower_ not in ("not", "n't", "never"):
            if child.lemma_ == "way" and any(c.lower_ in ("this", "that") for c in child.children):
                tr.used.update(t.i for t in child.subtree)  # "this way" -> इस तरह
                middle.append("इस तरह" if any(c.lower_ == "this" for c in child.children)
                              else "उस तरह")
            elif child.pos_ in ("NOUN", "PROPN"):
                middle.extend(tr.noun_phrase(child).words)
            else:
                adverb = tr._adverb(child)
                (opening if adverb in ("जहाँ", "जब") else middle).append(adverb)
        elif dep == "prep":
            pp = tr.prepositional(child)
            relative_pp = relative and any(w.startswith(hi.RELATIVE_STARTS) for w in pp)
            (opening if relative_pp else middle).extend(pp)
        elif dep == "agent" and child.i not in tr.used:  # (used: made the subject)
            tr.used.add(child.i)
            agent = [c for c in child.children if c.dep_ == "pobj"]
            if agent:
                middle.extend(tr.noun_phrase(agent[0], "oblique").words + ["द्वारा"])
    middle.extend(group.object_words)
    if xcomp is not None:
        doing = tr.clause(xcomp, nominal=False)
        noun = group.verb_words[0].split()[0] if group.verb_words else ""
        if noun in NOMINAL_VERBS and doing:  # "tried to open" -> खोलने की कोशिश की
            owned = hi.Agreement(NOMINAL_VERBS[noun])
            doing = hi.oblique_infinitive(doing) + [hi.possessive(owned)]
        middle.extend(doing)
    middle.extend(group.verb_words)
    middle = opening + middle
    outer = [c for c in children if c.dep_ in ("advcl", "ccomp", "conj", "mark", "intj")]
    # "happy that ...", "sure that ...": the adjective's that-clause follows the verb with कि
    outer += [c for o in objects if o.dep_ == "acomp" for c in o.children if c.dep_ == "ccomp"]
    return around(tr, verb, outer, middle, relative)

def around(tr, verb, outer: list, middle: list[str], relative: bool) -> list[str]:
    """Subordinate and coordinate clauses around a clause's core, in Hindi positions."""
    front: list[str] = []
    tail: list[str] = []
    for child in outer:
        dep = child.dep_
        if dep in ("mark", "intj") or dep == "advcl" and child.lemma_ == "thank":
            tr.used.update([child.i] + [c.i for c in child.children if c.lower_ == "you"])
        if dep == "mark":
            mark = ADVERB_CLAUSE_MARKS.get(child.lower_)
            if verb.tag_ == "VBG" and child.lower_ in ("while", "when"):
                mark = None  # "while playing" -> खेलते हुए: the participle says it
            if mark:
                front.append(mark)
        elif dep == "advcl" and child.lemma_ == "thank" and not any(
                c.dep_ == "nsubj" for c in child.children):
            front.extend(["धन्यवाद", ","])
        elif dep == "advcl" and any(c.lower_ == "to" and c.dep_ == "aux"
                                    for c in child.children):
            front.extend(tr.clause(child) + ["के लिए"])  # purpose: "to obtain"
        elif dep == "advcl":
            conditional = any(c.dep_ == "mark" and c.lower_ in ("if", "unless")
                              for c in child.children)
            if child.i < verb.i:  # "If it rains, we stay" -> अगर ..., तो हम रहते हैं
                front.extend(tr.clause(child) + ([",", "तो"] if conditional else [","]))
            else:
                tail.extend(tr.clause(child) + [","])
        elif dep == "ccomp" and quoted(child) is not None:  # direct speech keeps its quotes
            opening, closing = quoted(child) or ("", "")
            speech = [opening] + tr.clause(child) + [closing]
            if child.i > verb.i:
                tail.extend([","] + speech)
            else:
                front.extend(speech + [","])
        elif dep == "ccomp" and child.i > verb.i:
            tail.extend(["कि"] + tr.clause(child))
        elif dep == "ccomp":
            front.extend(tr.clause(child) + [","])
        elif dep == "conj" and child.pos_ in ("VERB", "AUX"):
            cc = next((c for c in verb.children if c.dep_ == "cc"), None)
            joint = {"or": "या", "but": "लेकिन"}.get(cc.lower_ if cc is not None else "",
                                                     "और")
            tail.extend([",", joint] + tr.clause(child))
        elif dep == "intj" and tr.compact < 2:
            front.append(INTERJECTIONS.get(child.lower_) or tr.word(child, "INTJ"))
            front.append(",")
    if relative and not any(w.startswith(hi.RELATIVE_STARTS) for w in middle):
        middle = ["जो"] + middle
    return front + middle + tail


def quoted(clause_verb) -> tuple[str, str] | None:
    """The quote marks around a clause ("...", “...”) in its sentence, if it is one quote."""
    sentence = clause_verb.sent
    marks = [t for t in sentence if t.is_quote or t.text in ("“", "”", '"')]
    words = [t.i for t in clause_verb.subtree if not t.is_punct]
    if len(marks) != 2 or not words:
        return None
    first, last = marks
    if first.i < min(words) and max(words) < last.i and not any(
            first.i < t.i < last.i and not t.is_punct and t.i not in set(words)
            for t in sentence):
        return first.text, last.text
    return None


def leftovers(tr, tokens: list) -> list[str]:
    """Words no rule placed (an odd parse): translated anyway, never dropped."""
    out = []
    placed = set(tr.used)  # by the rules; tr.used also grows with what this loop renders
    for token in tokens:
        if token.dep_ == "cc" and token.head.i not in placed and token.i not in tr.used \
                and token.lower_ in ("and", "or"):  # joins two leftovers: said between
            out.append("और" if token.lower_ == "and" else "या")
            tr.used.add(token.i)
            continue
        if token.i in tr.used or not any(c.isalnum() for c in token.text) \
                or token.lower_ in SILENT or token.dep_ in ("aux", "auxpass", "neg", "cc") \
                or token.tag_ in ("WDT", "WP") and token.head.dep_ == "relcl":
            continue
        if len(token.text) == 1 and token.text.isupper():
            out.append(LETTER_NAMES[token.lower_])
            tr.used.add(token.i)
        elif token.dep_ in ("prep", "agent") and any(c.dep_ in ("pobj", "pcomp")
                                                     for c in token.children):
            out.extend(tr.prepositional(token))  # a whole phrase, in Hindi order
        elif token.dep_ in ("dobj", "pobj", "attr", "nsubj", "conj", "appos") and \
                token.pos_ in ("NOUN", "PROPN"):
            out.extend(tr.noun_phrase(token).words)  # with its modifiers
        else:
            out.append(tr.word(token))
    return out
