"""eSpeak NG text-to-speech through the library and data that `espeakng-loader` bundles.

The library's synthesis callback hands over audio blocks together with phoneme and word events
whose sample positions we keep: the lip-sync stage drives mouth shapes from them. Offline and
fast (hundreds of times real time), robotic in sound: the offline default, not the best voice.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from f2f.artifacts import PhonemeEvent, SegmentSpeech, Speech, SpeechSegments, Translation
from f2f.errors import MissingDependencyError, StageError, UnsupportedLanguageError
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.speaker_voices import SpeakerVoice, assign_voices
from f2f.stage import TTSBackend
from f2f.textnorm import is_speakable, normalize_hindi, split_clauses

log = logging.getLogger(__name__)

SAMPLE_RATE = 22_050  # what eSpeak NG synthesises at

# ISO 639-1/3 codes of languages with a voice in espeakng-loader 0.2.4's data (`lang/`).
ESPEAK_LANGUAGES = frozenset((
    "af am an ar as az ba be bg bn bpy bs ca chr cmn cs cv cy da de el en eo es et eu fa fi fo fr "
    "ga gd gn grc gu hak haw he hi hr ht hu hy hyw ia id io is it ja jbo ka kaa kk kl kn ko kok ku "
    "ky la lb lfn lt ltg lv mi mk ml mr ms mt mto my nb nci ne nl nog om or pa pap piqd pl pt py "
    "qdb qu quc qya ro ru sd shn si sjn sk sl smj sq sr sv sw ta te th ti tk tn tr tt ug uk ur uz "
    "vi xex yue").split())
_VOICE_ALIASES = {"zh": "cmn", "no": "nb"}

# speak_lib.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_PARAM_RATE, _PARAM_PITCH = 1, 3


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


@dataclass(frozen=True)
class Utterance:
    """One synthesised piece of text: samples at SAMPLE_RATE and phoneme events in its time."""

    samples: np.ndarray
    phonemes: tuple[PhonemeEvent, ...]


# eSpeak adds pitch flutter from a table whose position is a C static (wavegen.c,
# AdvanceParameters) that no call resets: the same sentence came out a few samples longer or
# shorter depending on what was said before in the process. Voices with `flutter 0` are
# bit-exact; this variant sets only that and is added to every voice given without a variant.
STEADY_VARIANT = "f2f-steady"

# The shipped variants a speaker's voice is chosen from (`voice_per_speaker`), with the median
# F0 of Hindi sentences in each at the default rate and pitch (bench/bench_espeak_voices.py ->
# bench/results/espeak_voices.json). m2 and f4 are left out: they add an echo.
SPEAKER_VARIANT_F0_HZ = {
    "m1": 90.1, "m3": 100.5, "m4": 89.5, "m5": 98.2, "m6": 97.6, "m7": 101.3, "m8": 82.0,
    "f1": 177.3, "f2": 189.4, "f3": 202.2, "f5": 199.3}


def _data_with_steady_variant(data: str) -> str:
    """A private espeak-ng-data: symlinks to the shipped files plus the steady variant."""
    root = tempfile.mkdtemp(prefix="f2f-espeak-")
    atexit.register(shutil.rmtree, root, True)  # removes the links, never their targets

    def linked(source: str, target: str, skip: str) -> None:
        os.mkdir(target)
        for name in os.listdir(source):
            if name != skip:
                os.symlink(os.path.join(source, name), os.path.join(target, name))

    own = os.path.join(root, "espeak-ng-data")
    linked(data, own, "voices")
    linked(os.path.join(data, "voices"), os.path.join(own, "voices"), "!v")
    variants = os.path.join(own, "voices", "!v")
    linked(os.path.join(data, "voices", "!v"), variants, STEADY_VARIANT)
    with open(os.path.join(variants, STEADY_VARIANT), "w", encoding="utf-8") as handle:
        handle.write(f"language variant\nname {STEADY_VARIANT}\nflutter 0\n")
    for variant in SPEAKER_VARIANT_F0_HZ:  # the shipped file, its flutter overridden
        with open(os.path.join(data, "voices", "!v", variant), encoding="utf-8") as shipped:
            text = shipped.read()
        with open(os.path.join(variants, f"{STEADY_VARIANT}-{variant}"), "w",
                  encoding="utf-8") as handle:
            handle.write(f"{text}\nflutter 0\n")
    return own


def steady_voice(voice: str) -> str:
    """`hi` -> `hi+f2f-steady`; a voice with its own variant (`hi+f3`) is left as asked."""
    return voice if "+" in voice else f"{voice}+{STEADY_VARIANT}"


def steady_speaker_voice(voice: str) -> str:
    """A per-speaker voice (`hi+f3`) -> its flutter-free copy (`hi+f2f-steady-f3`)."""
    language, _, variant = voice.partition("+")
    if variant not in SPEAKER_VARIANT_F0_HZ:
        raise UnsupportedLanguageError(f"'{voice}' is not a per-speaker eSpeak voice; they are "
                                       f"LANGUAGE+{{{','.join(SPEAKER_VARIANT_F0_HZ)}}}")
    return f"{language}+{STEADY_VARIANT}-{variant}"


class _Engine:
    """The process-wide eSpeak NG instance (the C library holds global state, hence the lock)."""

    _instance: ClassVar[_Engine | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise MissingDependencyError(
                "tts backend 'espeak' needs espeakng-loader: pip install espeakng-loader") from exc
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                               ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                          ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                          ctypes.c_void_p, ctypes.c_void_p]
        rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                          _data_with_steady_variant(
                                              espeakng_loader.get_data_path()).encode(),
                                          _INIT_PHONEME_EVENTS | _INIT_DONT_EXIT)
        if rate != SAMPLE_RATE:
            raise StageError(f"eSpeak NG failed to initialise (returned {rate}); "
                             "reinstall espeakng-loader")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []  # (sample, phoneme)
        self._callback = _Callback(self._on_audio)  # kept referenced: C holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)
        self._voice = ""
        log.info("eSpeak NG loaded from %s", espeakng_loader.get_library_path())

    @classmethod
    def get(cls) -> _Engine:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _on_audio(self, wav: ctypes._Pointer, count: int, events: ctypes._Pointer) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_PHONEME:
                name = bytes(event.id.string).split(b"\0")[0].decode("utf-8", "replace")
                self._events.append((int(event.sample), name))
            i += 1
        return 0

    def synthesize(self, text: str, voice: str, rate_wpm: int, pitch: int) -> Utterance:
        with self._lock:
            if voice != self._voice:
                if self.lib.espeak_SetVoiceByName(steady_voice(voice).encode()) != 0:
                    raise UnsupportedLanguageError(f"eSpeak NG has no voice '{voice}'")
                self._voice = voice
            self.lib.espeak_SetParameter(_PARAM_RATE, rate_wpm, 0)
            self.lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
            self._chunks, self._events = [], []
            data = text.encode("utf-8")
            code = self.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
            if code != 0:
                raise StageError(f"eSpeak NG could not synthesise {text[:40]!r} (error {code})")
            chunks, events = self._chunks, self._events
        samples = (np.concatenate(chunks).astype(np.float32) / 32768.0 if chunks
                   else np.zeros(0, np.float32))
        return Utterance(samples, _phoneme_events(events, samples.size))


def _phoneme_events(events: list[tuple[int, str]], total: int) -> tuple[PhonemeEvent, ...]:
    """Turns (start sample, symbol) pairs into spans; drops language-switch markers like '(en)'."""
    kept = [(s, p) for s, p in events if p and not (p.startswith("(") and p.endswith(")"))]
    spans = []
    for i, (start, symbol) in enumerate(kept):
        end = kept[i + 1][0] if i + 1 < len(kept) else total
        end = min(max(end, start), total)
        if end > start:
            spans.append(PhonemeEvent(symbol, start / SAMPLE_RATE, end / SAMPLE_RATE))
    return tuple(spans)


def _trim_trailing_pause(utterance: Utterance, keep_s: float = 0.05) -> Utterance:
    """eSpeak ends every utterance with a long pause; the timing fit wants speech only."""
    samples = utterance.samples
    loud = np.flatnonzero(np.abs(samples) > 1e-3)
    end = min(samples.size, (loud[-1] + 1 + int(keep_s * SAMPLE_RATE)) if loud.size else 0)
    phonemes = tuple(PhonemeEvent(p.phoneme, p.start_s, min(p.end_s, end / SAMPLE_RATE))
                     for p in utterance.phonemes if p.start_s < end / SAMPLE_RATE)
    return Utterance(samples[:end], phonemes)


def voice_for(language: str) -> str:
    code = _VOICE_ALIASES.get(language, language)
    if code not in ESPEAK_LANGUAGES:
        raise UnsupportedLanguageError(
            f"eSpeak NG has no voice for language '{language}'; "
            f"supported: {', '.join(sorted(ESPEAK_LANGUAGES))}")
    return code


@register
class EspeakTTS(TTSBackend):
    """eSpeak NG formant synthesis: any of ~120 languages, offline, with phoneme timings."""

    name = "espeak"
    version = "2"  # 2: no pitch flutter, so one sentence is always the same samples
    requires = ("espeakng_loader",)
    install_hint = "pip install espeakng-loader"
    quality_note = "robotic formant voice (eSpeak NG); use --tts mms for a natural Hindi voice"
    languages = ESPEAK_LANGUAGES | frozenset(_VOICE_ALIASES)
    speaks_per_speaker = True

    @dataclass(frozen=True)
    class Config:
        voice: str = ""  # an eSpeak voice name; "" = the target language's default voice
        # with `speakers = true` and no `voice` given: a male/female variant per speaker,
        # chosen from their median F0 (f2f.speaker_voices)
        voice_per_speaker: bool = True
        rate_wpm: int = 165  # eSpeak's default 175 is hurried for Hindi
        pitch: int = 50  # 0..99
        normalize_text: bool = True  # numbers, dates, Latin words -> Devanagari (Hindi only)
        max_clause_chars: int = 200  # longer text is split at clause boundaries
        clause_pause_s: float = 0.12

    def cache_identity(self) -> dict[str, Any]:
        """Without `voice_per_speaker`: its effect is the `voices` map, which the graph keys."""
        identity = super().cache_identity()
        identity["config"] = {k: v for k, v in identity["config"].items()
                              if k != "voice_per_speaker"}
        return identity

    def chooses_voices(self) -> bool:
        return not self.config.voice and self.config.voice_per_speaker

    def speaker_voices(self, median_f0_hz: Mapping[str, float]) -> dict[str, SpeakerVoice]:
        if not self.chooses_voices():
            return {}
        base = voice_for(self.language or "hi")
        chosen = assign_voices(median_f0_hz, SPEAKER_VARIANT_F0_HZ)
        return {speaker: SpeakerVoice(f"{base}+{choice.voice}", choice.median_f0_hz)
                for speaker, choice in chosen.items()}

    def synthesize(self, translation: Translation, progress: StageProgress,
                   voices: Mapping[int, str] | None = None) -> SpeechSegments:
        self.ensure_dependencies()
        voice = self.config.voice or voice_for(translation.target_language)
        voices = dict(voices or {})
        # eSpeak names of the per-speaker voices (flutter-free copies), checked before speaking
        espeak_names = {v: steady_speaker_voice(v) for v in set(voices.values())}
        engine = _Engine.get()
        log.info("tts espeak: voice %s, %d segments", ", ".join(sorted(espeak_names)) or voice,
                 len(translation.segments))
        out: list[SegmentSpeech] = []
        total = max(len(translation.segments), 1)
        for index, segment in enumerate(translation.segments):
            text = segment.text
            if self.config.normalize_text and translation.target_language == "hi":
                text = normalize_hindi(text)
            own = voices.get(segment.id)
            speech, phonemes = self._speak(engine, espeak_names[own] if own else voice, text,
                                           segment.duration_s)
            out.append(SegmentSpeech(segment.id, segment.text, speech, phonemes))
            progress((index + 1) / total, f"segment {index + 1}/{total}")
        speech_s = sum(s.speech.duration_s for s in out)
        self.metrics = {"segments": len(out), "speech_s": round(speech_s, 3), "voice": voice}
        if voices:
            self.metrics["voices"] = {str(k): v for k, v in sorted(voices.items())}
        # the voices themselves, so what is keyed on this name (CycleGAN's per-speaker model)
        # changes when the chosen variants do
        name = ",".join(sorted(set(voices.values()) | {voice})) if voices else voice
        return SpeechSegments(tuple(out), backend=self.name, voice=f"espeak:{name}")

    def _speak(self, engine: _Engine, voice: str, text: str,
               slot_s: float) -> tuple[Speech, tuple[PhonemeEvent, ...]]:
        """Speech for one segment; unspeakable text gives silence as long as the slot."""
        if not is_speakable(text):
            log.info("tts espeak: nothing to say in %r; using %.2f s of silence", text, slot_s)
            return Speech(np.zeros(int(round(slot_s * SAMPLE_RATE)), np.float32),
                          SAMPLE_RATE), ()
        pieces: list[np.ndarray] = []
        phonemes: list[PhonemeEvent] = []
        offset_s = 0.0
        pause = np.zeros(int(self.config.clause_pause_s * SAMPLE_RATE), np.float32)
        for clause in split_clauses(text, self.config.max_clause_chars):
            if not is_speakable(clause):
                continue
            utterance = _trim_trailing_pause(
                engine.synthesize(clause, voice, self.config.rate_wpm, self.config.pitch))
            if pieces:
                pieces.append(pause)
                offset_s += pause.size / SAMPLE_RATE
            phonemes += [PhonemeEvent(p.phoneme, p.start_s + offset_s, p.end_s + offset_s)
                         for p in utterance.phonemes]
            pieces.append(utterance.samples)
            offset_s += utterance.samples.size / SAMPLE_RATE
        samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        if samples.size == 0:  # the voice produced nothing: keep the slot silent
            samples = np.zeros(int(round(slot_s * SAMPLE_RATE)), np.float32)
        return Speech(np.clip(samples, -1.0, 1.0), SAMPLE_RATE), tuple(phonemes)
