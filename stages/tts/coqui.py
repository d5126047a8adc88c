"""Coqui TTS (XTTS v2) as an optional extra (`pip install f2f[coqui]`): multilingual, Hindi
included, and it can clone a voice from a short reference clip (`tts.speaker_wav`).

coqui-tts 0.28 installs on CPU-only machines but `import TTS` fails there (its torchaudio /
torchcodec builds need CUDA libraries): then this backend reports itself unavailable with that
reason and the graph keeps using `espeak`. No phoneme timings: the lip-sync stage falls back to
audio-driven mouth shapes for its segments.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from f2f.artifacts import SegmentSpeech, Speech, SpeechSegments, Translation
from f2f.errors import ConfigError, MissingDependencyError, StageError
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import Availability, TTSBackend
from f2f.textnorm import is_speakable, normalize_hindi

log = logging.getLogger(__name__)

XTTS_LANGUAGES = frozenset("en es fr de it pt pl tr ru nl cs ar zh hu ko ja hi".split())
INSTALL_HINT = "pip install 'f2f[coqui]' (coqui-tts; needs a torchaudio build that loads here)"


@functools.lru_cache(maxsize=1)
def import_error() -> str:
    """'' when `TTS` imports, else why not (import is slow and may fail deep in torchaudio)."""
    try:
        import TTS.api  # noqa: F401
    except Exception as exc:  # any failure inside its import chain means "unavailable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return ""


@register
class CoquiTTS(TTSBackend):
    """Coqui XTTS v2: natural multilingual speech, optional voice cloning from a clip."""

    name = "coqui"
    version = "1"
    requires = ("TTS",)
    install_hint = INSTALL_HINT
    quality_note = "XTTS v2 weights are under the Coqui Public Model Licence (non-commercial)"
    languages = XTTS_LANGUAGES

    @dataclass(frozen=True)
    class Config:
        model_name: str = "tts_models/multilingual/multi-dataset/xtts_v2"
        speaker_wav: str = ""  # a clip of the voice to clone; "" = a built-in speaker
        speaker: str = "Ana Florence"

    def availability(self) -> Availability:
        base = super().availability()
        if not base.ok:
            return base
        error = import_error()
        if error:
            return Availability(False, f"coqui-tts is installed but cannot be imported ({error});"
                                       " on CPU-only machines its torchaudio build fails")
        return Availability(True)

    def synthesize(self, translation: Translation, progress: StageProgress,
                   voices: Mapping[int, str] | None = None) -> SpeechSegments:
        self.ensure_dependencies()
        status = self.availability()
        if not status.ok:
            raise MissingDependencyError(f"tts backend 'coqui' unavailable: {status.reason}")
        language = translation.target_language
        if language not in XTTS_LANGUAGES:
            raise ConfigError(f"coqui XTTS cannot speak '{language}'; it supports "
                              f"{', '.join(sorted(XTTS_LANGUAGES))}")
        engine = self._engine()
        rate = int(engine.synthesizer.output_sample_rate)
        out = []
        for index, segment in enumerate(translation.segments):
            text = normalize_hindi(segment.text) if language == "hi" else segment.text
            if is_speakable(text):
                kwargs: dict[str, Any] = {"language": language}
                if self.config.speaker_wav:
                    kwargs["speaker_wav"] = self.config.speaker_wav
                else:
                    kwargs["speaker"] = self.config.speaker
                try:
                    audio = np.asarray(engine.tts(text=text, **kwargs), np.float32)
                except Exception as exc:  # the engine's own failures become one clear line
                    raise StageError(f"coqui failed on segment {segment.id}: {exc}") from exc
            else:
                audio = np.zeros(int(round(segment.duration_s * rate)), np.float32)
            out.append(SegmentSpeech(segment.id, segment.text,
                                     Speech(np.clip(audio, -1, 1), rate)))
            progress((index + 1) / max(len(translation.segments), 1), f"segment {index + 1}")
        return SpeechSegments(tuple(out), backend=self.name, voice=self.config.model_name)

    def _engine(self) -> Any:
        from TTS.api import TTS

        log.info("tts coqui: loading %s", self.config.model_name)
        try:
            return TTS(self.config.model_name).to(self.device)
        except Exception as exc:  # a missing model is a download the user must run
            raise StageError(f"coqui could not load {self.config.model_name}: {exc}. "
                             "Download it once with network access (`tts --list_models`)."
                             ) from exc
