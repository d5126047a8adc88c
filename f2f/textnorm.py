"""Hindi text normalisation: turn what MT leaves behind into words a Hindi voice can speak.

Numbers, decimals, percentages, currency, dates, clock times, common abbreviations and
Latin-script words (names, acronyms) that survive translation are rewritten in Devanagari, so
no TTS engine silently drops them. MMS-TTS only knows Devanagari characters; eSpeak would read
Latin words with an English voice in the middle of a Hindi sentence.

    >>> normalize_hindi("15/08/1947 को 3.5% ब्याज")
    'पंद्रह अगस्त उन्नीस सौ सैंतालीस को तीन दशमलव पाँच प्रतिशत ब्याज'
"""

from __future__ import annotations

import re
import unicodedata

# Hindi number words 0..99 are irregular, so they are listed rather than composed.
_UNITS = (
    "शून्य एक दो तीन चार पाँच छह सात आठ नौ "
    "दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह उन्नीस "
    "बीस इक्कीस बाईस तेईस चौबीस पच्चीस छब्बीस सत्ताईस अट्ठाईस उनतीस "
    "तीस इकतीस बत्तीस तैंतीस चौंतीस पैंतीस छत्तीस सैंतीस अड़तीस उनतालीस "
    "चालीस इकतालीस बयालीस तैंतालीस चवालीस पैंतालीस छियालीस सैंतालीस अड़तालीस उनचास "
    "पचास इक्यावन बावन तिरपन चौवन पचपन छप्पन सत्तावन अट्ठावन उनसठ "
    "साठ इकसठ बासठ तिरसठ चौंसठ पैंसठ छियासठ सड़सठ अड़सठ उनहत्तर "
    "सत्तर इकहत्तर बहत्तर तिहत्तर चौहत्तर पचहत्तर छिहत्तर सतहत्तर अठहत्तर उन्यासी "
    "अस्सी इक्यासी बयासी तिरासी चौरासी पचासी छियासी सत्तासी अट्ठासी नवासी "
    "नब्बे इक्यानबे बानबे तिरानबे चौरानबे पचानबे छियानबे सत्तानबे अट्ठानबे निन्यानबे"
).split()
assert len(_UNITS) == 100

# Indian grouping: crore (10^7), lakh (10^5), thousand, hundred.
_SCALES = ((10**7, "करोड़"), (10**5, "लाख"), (1000, "हज़ार"), (100, "सौ"))

_MONTHS = ("जनवरी फ़रवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर अक्टूबर नवंबर दिसंबर").split()

_ABBREVIATIONS = {
    "dr.": "डॉक्टर", "mr.": "मिस्टर", "mrs.": "मिसेज़", "ms.": "मिस", "prof.": "प्रोफ़ेसर",
    "etc.": "इत्यादि", "e.g.": "उदाहरण के लिए", "i.e.": "यानी", "vs.": "बनाम", "no.": "नंबर",
    "km": "किलोमीटर", "kg": "किलोग्राम", "cm": "सेंटीमीटर", "mm": "मिलीमीटर", "ml": "मिलीलीटर",
    "डॉ.": "डॉक्टर", "रु.": "रुपये", "श्री.": "श्री",
}

# Letter names for spelling acronyms ("WHO" -> "डब्ल्यू एच ओ").
LETTER_NAMES = dict(zip(
    "abcdefghijklmnopqrstuvwxyz",
    ("ए बी सी डी ई एफ़ जी एच आई जे के एल एम एन ओ पी क्यू आर एस टी यू वी डब्ल्यू एक्स वाई ज़ेड"
     ).split(), strict=True))

_CURRENCY = {"₹": "रुपये", "$": "डॉलर", "€": "यूरो", "£": "पाउंड", "rs.": "रुपये", "rs": "रुपये"}

_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_DANDA = "।"


def number_to_hindi(value: int) -> str:
    """An integer in Hindi words, Indian grouping: 123456 -> 'एक लाख तेईस हज़ार चार सौ छप्पन'."""
    if value < 0:
        return "ऋण " + number_to_hindi(-value)
    if value < 100:
        return _UNITS[value]
    words: list[str] = []
    for scale, name in _SCALES:
        if value >= scale:
            count, value = divmod(value, scale)
            words += [number_to_hindi(count), name]
    if value:
        words.append(_UNITS[value])
    return " ".join(words)


def year_to_hindi(year: int) -> str:
    """Years are read as in speech: 1947 -> 'उन्नीस सौ सैंतालीस', 2024 -> 'दो हज़ार चौबीस'."""
    if 1100 <= year < 2000 and year % 100:
        return f"{_UNITS[year // 100]} सौ {_UNITS[year % 100]}"
    return number_to_hindi(year)


def digits_to_hindi(digits: str) -> str:
    """Digit by digit, for phone numbers and decimals: '05' -> 'शून्य पाँच'."""
    return " ".join(_UNITS[int(d)] for d in digits if d.isdigit())


def _decimal(match: re.Match[str]) -> str:
    whole, fraction = match.group(1).replace(",", ""), match.group(2)
    return f"{number_to_hindi(int(whole))} दशमलव {digits_to_hindi(fraction)}"


def _integer(match: re.Match[str]) -> str:
    digits = match.group(0).replace(",", "")
    if len(digits) > 1 and digits.startswith("0") or len(digits) > 12:
        return digits_to_hindi(digits)
    return number_to_hindi(int(digits))


def _date(match: re.Match[str]) -> str:
    day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return match.group(0).replace("/", " ").replace("-", " ")
    year_value = int(year) + (2000 if len(year) == 2 else 0)
    return f"{number_to_hindi(day)} {_MONTHS[month - 1]} {year_to_hindi(year_value)}"


def _time(match: re.Match[str]) -> str:
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes == 0:
        return f"{number_to_hindi(hours)} बजे"
    return f"{number_to_hindi(hours)} बजकर {number_to_hindi(minutes)} मिनट"


_ORDINAL_WORDS = {1: "पहला", 2: "दूसरा", 3: "तीसरा", 4: "चौथा", 6: "छठा"}


def _ordinal(match: re.Match[str]) -> str:
    value = int(match.group(1))
    return _ORDINAL_WORDS.get(value) or f"{number_to_hindi(value)}वाँ"


def _currency(match: re.Match[str]) -> str:
    symbol, amount = match.group(1), match.group(2)
    return f"{amount} {_CURRENCY[symbol.lower()]}"


# A rough English-spelling -> Devanagari transliteration for names and loanwords. It is a
# fallback so a word is heard at all, not a pronunciation dictionary.
_LATIN_CLUSTERS = (
    ("tion", "शन"), ("sh", "श"), ("ch", "च"), ("th", "थ"), ("ph", "फ़"), ("kh", "ख"),
    ("gh", "घ"), ("bh", "भ"), ("dh", "ध"), ("ck", "क"), ("qu", "क्व"), ("ee", "ी"), ("oo", "ू"),
    ("ai", "ै"), ("ay", "े"), ("au", "ौ"), ("ou", "ौ"), ("ea", "ी"), ("x", "क्स"),
)
_LATIN_VOWELS = {"a": ("अ", ""), "e": ("ए", "े"), "i": ("इ", "ि"), "o": ("ओ", "ो"),
                 "u": ("उ", "ु"), "y": ("य", "ी")}
_LATIN_CONSONANTS = {
    "b": "ब", "c": "क", "d": "ड", "f": "फ़", "g": "ग", "h": "ह", "j": "ज", "k": "क", "l": "ल",
    "m": "म", "n": "न", "p": "प", "q": "क", "r": "र", "s": "स", "t": "ट", "v": "व", "w": "व",
    "z": "ज़",
}
_VOWEL_SIGN_TO_LETTER = {"ा": "आ", "ी": "ई", "ू": "ऊ", "ै": "ऐ", "े": "ए", "ौ": "औ", "ि": "इ",
                         "ु": "उ", "ो": "ओ", "": "अ"}
_VIRAMA = "्"


def _latin_tokens(word: str) -> list[tuple[str, str]]:
    """Splits a lowercase Latin word into ('C', consonant) and ('V', vowel sign) tokens."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(word):
        for cluster, devanagari in _LATIN_CLUSTERS:
            if word.startswith(cluster, i):
                is_vowel = devanagari in _VOWEL_SIGN_TO_LETTER
                tokens.append(("V" if is_vowel else "C", devanagari))
                i += len(cluster)
                break
        else:
            char = word[i]
            if char in _LATIN_VOWELS:
                tokens.append(("V", _LATIN_VOWELS[char][1]))
            elif char in _LATIN_CONSONANTS:
                tokens.append(("C", _LATIN_CONSONANTS[char]))
            i += 1
    return tokens


def transliterate_latin(word: str) -> str:
    """'Sharma' -> 'शर्मा' (rough); short all-caps words are spelled ('UN' -> 'यू एन')."""
    letters = [c for c in word if c.isascii() and c.isalpha()]
    if not letters:
        return word
    if len(letters) <= 4 and word.isupper() or len(letters) == 1:
        return " ".join(LETTER_NAMES[c.lower()] for c in letters)
    lowered = "".join(letters).lower()
    if len(lowered) > 3 and lowered.endswith("e") and lowered[-2] not in "aeiouy":
        lowered = lowered[:-1]  # silent final e: "Google", "phone"
    tokens = _latin_tokens(lowered)
    if tokens and tokens[-1] == ("V", "") and len(tokens) > 1:
        tokens[-1] = ("V", "ा")  # a final a is long: "Sharma", "India"
    out: list[str] = []
    previous = ""
    for kind, text in tokens:
        if kind == "C":
            if previous == "C":
                out.append(_VIRAMA)  # consonant cluster: join with a virama
            out.append(text)
        else:
            out.append(text if previous == "C" else _VOWEL_SIGN_TO_LETTER.get(text, text))
        previous = kind
    return "".join(out)


_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b")
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\b(?:\s*बजे)?")
_CURRENCY_RE = re.compile(r"(₹|\$|€|£|\b[Rr]s\.?)\s?(\d[\d,]*(?:\.\d+)?)")
_PERCENT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?%")
_DECIMAL = re.compile(r"(\d[\d,]*)\.(\d+)")
_INTEGER = re.compile(r"\d+(?:,\d{2,3})*")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'.]*")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)


def _abbreviation(match: re.Match[str]) -> str:
    token = match.group(0)
    key = token.lower()
    if key in _ABBREVIATIONS:
        return _ABBREVIATIONS[key]
    if key.rstrip(".") in _ABBREVIATIONS:
        return _ABBREVIATIONS[key.rstrip(".")] + (" " if token.endswith(".") else "")
    if "." in token.strip(".") and len(token.replace(".", "")) <= 5:  # "U.S." style acronyms
        return transliterate_latin(token.replace(".", "").upper())
    return transliterate_latin(token.rstrip(".")) + ("." if token.endswith(".") else "")


def normalize_hindi(text: str) -> str:
    """Rewrites numbers, dates, times, currency, abbreviations and Latin words in Devanagari."""
    text = unicodedata.normalize("NFC", text).translate(_DEVANAGARI_DIGITS)
    for key, value in _ABBREVIATIONS.items():  # Devanagari abbreviations keep their dot
        if not key.isascii():
            text = text.replace(key, value)
    text = _DATE.sub(_date, text)
    text = _TIME.sub(_time, text)
    text = _CURRENCY_RE.sub(_currency, text)
    text = _PERCENT.sub(lambda m: f"{m.group(1)} प्रतिशत", text)
    text = _ORDINAL.sub(_ordinal, text)
    text = _DECIMAL.sub(_decimal, text)
    text = _INTEGER.sub(_integer, text)
    text = _LATIN_WORD.sub(_abbreviation, text)
    text = text.replace("&", " और ").replace("+", " धन ").replace("@", " ऐट ")
    return re.sub(r"\s+", " ", text).strip()


def is_speakable(text: str) -> bool:
    """True when the text has anything a voice would say (letters or digits, any script)."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)


_CLAUSE_END = re.compile(r"(?<=[।॥.!?;:,])\s+")


def split_clauses(text: str, max_chars: int) -> list[str]:
    """Splits long text at clause boundaries (danda, full stop, comma, ...) into pieces that
    each stay under `max_chars` when possible; a clause longer than that is split at spaces."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for clause in _CLAUSE_END.split(text):
        for part in _split_words(clause, max_chars):
            if current and len(current) + 1 + len(part) > max_chars:
                pieces.append(current)
                current = part
            else:
                current = f"{current} {part}".strip()
    if current:
        pieces.append(current)
    return pieces


def _split_words(clause: str, max_chars: int) -> list[str]:
    if len(clause) <= max_chars:
        return [clause]
    parts: list[str] = []
    current = ""
    for word in clause.split():
        if current and len(current) + 1 + len(word) > max_chars:
            parts.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return parts + ([current] if current else [])
