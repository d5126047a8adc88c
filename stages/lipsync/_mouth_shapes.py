"""Mouth shapes from phoneme timings and from loudness (the parts of `viseme` that need no model).

A `MouthShape` is an opening (0 closed .. 1 "aa") and a spread (-1 rounded "u" .. 1 spread "i").
Phoneme symbols are eSpeak mnemonics, IPA, or the Devanagari letters MMS-TTS emits as its
"phonemes" (its tokens are characters); `devanagari_events` turns the latter into phoneme events
first (a consonant without a vowel sign carries the inherent schwa).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from f2f.artifacts import PhonemeEvent, Speech


@dataclass(frozen=True)
class MouthShape:
    opening: float  # 0 closed .. 1 wide open ("aa")
    spread: float  # -1 rounded/protruded ("u") .. 1 spread ("i")


CLOSED = MouthShape(0.0, 0.0)
NEUTRAL = MouthShape(0.3, 0.0)

# eSpeak phoneme mnemonics reduced to their first letter (length marks, nasalisation and
# aspiration stripped); Hindi vowels are a a: @ i i: u u: e: E: o: O: and friends.
_VOWELS = {
    "a": MouthShape(0.95, 0.1), "A": MouthShape(1.0, 0.0), "&": MouthShape(0.8, 0.3),
    "@": MouthShape(0.5, 0.0), "3": MouthShape(0.5, 0.0), "V": MouthShape(0.65, 0.0),
    "e": MouthShape(0.6, 0.5), "E": MouthShape(0.7, 0.4), "i": MouthShape(0.3, 0.8),
    "I": MouthShape(0.35, 0.6), "o": MouthShape(0.6, -0.6), "O": MouthShape(0.75, -0.4),
    "u": MouthShape(0.3, -0.9), "U": MouthShape(0.35, -0.7), "y": MouthShape(0.3, -0.7),
}
_CONSONANTS = {
    **{c: MouthShape(0.0, 0.0) for c in "pbm"},  # lips pressed together
    **{c: MouthShape(0.12, -0.1) for c in "fv"},  # lower lip to upper teeth
    "w": MouthShape(0.2, -0.8),
    **{c: MouthShape(0.2, -0.5) for c in "SZ"},  # postalveolar, lips pushed forward
    **{c: MouthShape(0.15, 0.3) for c in "tdnlrszTDNLR"},
    **{c: MouthShape(0.22, 0.1) for c in "kgxhHqGj"},
    "c": MouthShape(0.15, 0.3), "J": MouthShape(0.15, 0.3),
}
_IPA = {"ə": _VOWELS["@"], "ɑ": _VOWELS["A"], "æ": _VOWELS["&"], "ɛ": _VOWELS["E"],
        "ɪ": _VOWELS["I"], "ɔ": _VOWELS["O"], "ʊ": _VOWELS["U"], "ʃ": _CONSONANTS["S"],
        "ʒ": _CONSONANTS["S"], "ŋ": _CONSONANTS["k"], "ɲ": _CONSONANTS["c"]}
_SILENCE = {"", "_", "_:", "_!", "||", "|", "#", "sil", "sp", "pau"}
BILABIALS = frozenset("pbm")

# Devanagari letters -> the eSpeak mnemonic of their sound (place of articulation is what the
# lips show: प फ ब भ म close them, व rounds them, vowel signs give the vowel).
_DEVANAGARI_CONSONANTS = {
    **dict.fromkeys("कखगघ", "k"), "ङ": "N", **dict.fromkeys("चछ", "c"),
    **dict.fromkeys("जझ", "J"), "ञ": "n", **dict.fromkeys("टठ", "T"), **dict.fromkeys("डढ", "D"),
    "ण": "N", **dict.fromkeys("तथ", "t"), **dict.fromkeys("दध", "d"), "न": "n",
    **dict.fromkeys("पफ", "p"), **dict.fromkeys("बभ", "b"), "म": "m", "य": "j", "र": "r",
    "ल": "l", "ळ": "l", "व": "w", "श": "S", "ष": "S", "स": "s", "ह": "h",
    "क़": "k", "ख़": "x", "ग़": "G", "ज़": "z", "ड़": "r", "ढ़": "r", "फ़": "f", "य़": "j",
}
_DEVANAGARI_VOWELS = {  # independent vowels and vowel signs (matras)
    "अ": "@", "आ": "a:", "इ": "I", "ई": "i:", "उ": "U", "ऊ": "u:", "ऋ": "ri", "ए": "e:",
    "ऐ": "E:", "ओ": "o:", "औ": "O:", "ऑ": "O", "ऍ": "E",
    "ा": "a:", "ि": "I", "ी": "i:", "ु": "U", "ू": "u:", "ृ": "ri", "े": "e:", "ै": "E:",
    "ो": "o:", "ौ": "O:", "ॉ": "O", "ॅ": "E",
}
_VIRAMA, _NUKTA = "्", "़"
_NASAL_SIGNS = {"ं": "n", "ँ": "n", "ः": "h"}  # anusvara, chandrabindu, visarga
_SCHWA_SHARE = 0.55  # of a bare consonant's span, the inherent vowel's part


def devanagari_events(events: Sequence[PhonemeEvent]) -> tuple[PhonemeEvent, ...]:
    """MMS-TTS character events -> eSpeak-like phoneme events. Other symbols pass unchanged."""
    out: list[PhonemeEvent] = []
    chars = [unicodedata.normalize("NFC", e.phoneme.strip()) for e in events]
    for i, (event, char) in enumerate(zip(events, chars, strict=True)):
        following = chars[i + 1] if i + 1 < len(chars) else ""
        base = char.replace(_NUKTA, "") if char not in _DEVANAGARI_CONSONANTS else char
        if char == _NUKTA:
            continue  # the nukta only changes the letter before it
        if base in _DEVANAGARI_CONSONANTS:
            symbol = _DEVANAGARI_CONSONANTS[base]
            bare = following not in _DEVANAGARI_VOWELS and following not in (_VIRAMA, _NUKTA)
            if bare and following and following.strip() and ("ऀ" <= following <= "ॿ"):
                split = event.start_s + (1 - _SCHWA_SHARE) * (event.end_s - event.start_s)
                out += [PhonemeEvent(symbol, event.start_s, split),
                        PhonemeEvent("@", split, event.end_s)]
            else:
                out.append(PhonemeEvent(symbol, event.start_s, event.end_s))
        elif char in _DEVANAGARI_VOWELS:
            out.append(PhonemeEvent(_DEVANAGARI_VOWELS[char], event.start_s, event.end_s))
        elif char in _NASAL_SIGNS:
            out.append(PhonemeEvent(_NASAL_SIGNS[char], event.start_s, event.end_s))
        elif char == _VIRAMA:
            continue  # no vowel: the consonant's span already covers it
        elif "ऀ" <= char[:1] <= "ॿ" or char in ("।", "॥"):
            out.append(PhonemeEvent("_", event.start_s, event.end_s))  # danda etc.: a pause
        elif not char or char.isspace() or unicodedata.category(char[0]).startswith("P"):
            out.append(PhonemeEvent("_", event.start_s, event.end_s))
        else:
            out.append(event)
    return tuple(out)


def shape_for_phoneme(symbol: str) -> MouthShape:
    """Viseme of one eSpeak/IPA-like phoneme symbol or Devanagari letter; unknown: neutral."""
    text = unicodedata.normalize("NFKD", symbol.strip())
    if text in _SILENCE or text.startswith("_"):
        return CLOSED
    nfc = unicodedata.normalize("NFC", symbol.strip())
    if nfc in _DEVANAGARI_CONSONANTS or nfc in _DEVANAGARI_VOWELS or nfc in _NASAL_SIGNS:
        expanded = devanagari_events([PhonemeEvent(nfc, 0.0, 1.0)])
        return shape_for_phoneme(expanded[0].phoneme) if expanded else CLOSED
    if text.startswith("t") and text[1:2] in ("S", "ʃ"):  # tS (ch) is rounded like S
        return _CONSONANTS["S"]
    if text.startswith("d") and text[1:2] in ("Z", "ʒ"):
        return _CONSONANTS["S"]
    for char in text:
        if char in _VOWELS:
            return _VOWELS[char]
        if char in _CONSONANTS:
            return _CONSONANTS[char]
        ipa = _IPA.get(char)
        if ipa is not None:
            return ipa
    return NEUTRAL


def is_bilabial(symbol: str) -> bool:
    text = unicodedata.normalize("NFKD", symbol.strip())
    return bool(text) and text[0] in BILABIALS and (len(text) == 1 or not text[1].isalpha())


_TIMELINE_HZ = 200  # resolution of the shape timeline before sampling at frame times


def smooth_columns(values: np.ndarray, sigma_samples: float) -> np.ndarray:
    """Gaussian smoothing along axis 0 of a (N, C) array, edges held."""
    if sigma_samples <= 0 or values.shape[0] == 0:  # edge padding cannot extend an empty axis
        return values
    radius = int(3 * sigma_samples) + 1
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_samples) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, ((radius, radius), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, i], kernel, mode="valid")
                     for i in range(values.shape[1])], axis=1)


def shapes_from_phonemes(phonemes: Sequence[PhonemeEvent], fps: float, frames: int,
                         coarticulation_s: float = 0.03) -> np.ndarray:
    """(frames, 3) opening, spread and bilabial closure (0..1) per output frame."""
    events = devanagari_events(phonemes)
    length = int(np.ceil(frames / fps * _TIMELINE_HZ)) + 1
    timeline = np.zeros((length, 3), np.float64)
    for event in events:
        shape = shape_for_phoneme(event.phoneme)
        a = int(round(event.start_s * _TIMELINE_HZ))
        b = max(a + 1, int(round(event.end_s * _TIMELINE_HZ)))
        timeline[max(a, 0):min(b, length)] = (shape.opening, shape.spread,
                                              float(is_bilabial(event.phoneme)))
    pressed = timeline[:, 2].copy()  # not blurred: a closure must close the lips fully
    timeline = smooth_columns(timeline, coarticulation_s * _TIMELINE_HZ)
    # a closure is seen if the lips touch at any time within the frame's interval
    half = max(1, int(round(0.5 * _TIMELINE_HZ / fps)))
    padded = np.pad(pressed, half)
    timeline[:, 2] = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1).max(axis=1)
    at = np.clip(np.round((np.arange(frames) + 0.5) / fps * _TIMELINE_HZ).astype(int), 0,
                 length - 1)
    return timeline[at]


_LOUDNESS_BLOCK = 256  # output frames whose windows are gathered at once


def loudness_db(speech: Speech, fps: float, frames: int) -> np.ndarray:
    """(frames,) dB level of the dub around each output frame's time."""
    samples = np.asarray(speech.samples)  # no float64 copy of a long dub: gathered per block
    rate = speech.sample_rate
    hop = rate / fps
    window = int(round(hop * 1.5))
    if frames == 0:
        return np.zeros(0)
    if samples.size == 0:
        return np.full(frames, -120.0)
    mids = np.round((np.arange(frames) + 0.5) * hop).astype(int)
    out = np.empty(frames)
    # a block of frames at a time: the (frames, window) gather of a whole 10-minute dub was
    # ~0.5 GB per temporary, the largest part of a long video's peak memory
    for start in range(0, frames, _LOUDNESS_BLOCK):
        index = (mids[start:start + _LOUDNESS_BLOCK, None] - window // 2
                 + np.arange(window)[None, :])
        valid = (index >= 0) & (index < samples.size)
        chunks = np.where(valid, samples[np.clip(index, 0, samples.size - 1)].astype(np.float64),
                          0.0)
        out[start:start + _LOUDNESS_BLOCK] = 10.0 * np.log10((chunks ** 2).mean(axis=1) + 1e-12)
    return out


def speech_activity(speech: Speech, fps: float, frames: int) -> np.ndarray:
    """(frames,) 0..1: 0 in the dub's silences (mouth must close), 1 in clear speech.

    Gate at 25% of the way from the noise floor to the 95th-percentile level.
    """
    loud = loudness_db(speech, fps, frames)
    if frames == 0:
        return loud
    peak = np.percentile(loud, 95)
    floor = max(np.percentile(loud, 10), peak - 50.0)
    gate = floor + 0.25 * (peak - floor)
    return np.clip((loud - gate) / max(0.25 * (peak - floor), 1e-6), 0.0, 1.0)


def shapes_from_audio(speech: Speech, fps: float, frames: int) -> np.ndarray:
    """(frames, 2) opening/spread per frame from loudness alone (the `loudness` driver)."""
    loud = loudness_db(speech, fps, frames)
    if frames == 0:
        return np.zeros((0, 2))
    peak = np.percentile(loud, 95)
    floor = max(np.percentile(loud, 10), peak - 50.0)
    gate = floor + 0.25 * (peak - floor)  # below this: silence, mouth closed
    opening = np.clip((loud - gate) / max(peak - gate, 1e-6), 0.0, 1.0) ** 0.8
    shapes = np.stack([opening, np.zeros_like(opening)], axis=1)
    return smooth_columns(shapes, 0.6)
