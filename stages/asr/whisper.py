"""openai-whisper ASR: the reference PyTorch implementation and its official checkpoints.

Checkpoints come from `~/.cache/whisper/<name>.pt` (where `whisper.load_model` downloads them),
`$F2F_HOME/weights/<name>.pt`, or an explicit file (`model=PATH`) in the official format
`{"dims": ..., "model_state_dict": ...}`. Official files are checked against the SHA-256 that
openai-whisper itself pins. Install with `pip install openai-whisper` (CPU use does not need the
`triton` package it pulls on Linux: `pip install --no-deps openai-whisper` plus its small deps).
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from f2f import weights
from f2f.artifacts import Speech, Transcript
from f2f.errors import ConfigError, NoSpeechError, StageError, WeightsNotFoundError
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import ASRBackend
from f2f.weights import WeightsSpec
from stages.asr._coverage import transcript_coverage
from stages.asr._longform import Attempt, ChunkRules, DecodeFn, RawWord, transcribe_long
from stages.asr._segmenting import (SegmentRules, build_transcript, check_input_audio,
                                    decoding_metrics, words_from_timings)
from stages.asr._vad import speech_regions

log = logging.getLogger(__name__)

NAMES = ("tiny.en", "tiny", "base.en", "base", "small.en", "small", "medium.en", "medium",
         "large-v1", "large-v2", "large-v3", "large-v3-turbo", "turbo")


def _official_urls() -> dict[str, str]:
    try:
        import whisper
    except ImportError:
        return {}
    return dict(getattr(whisper, "_MODELS", {}))


def checkpoint_spec(name: str, url: str | None = None) -> WeightsSpec:
    # Official URLs carry the file's SHA-256 as their second-to-last path part.
    sha = url.rstrip("/").split("/")[-2] if url else None
    return WeightsSpec(
        name=f"whisper-{name}", filenames=(f"{name}.pt",), whisper_name=name, sha256=sha, url=url,
        how_to_get=f"run `python -c \"import whisper; whisper.load_model('{name}')\"` on a "
                   f"machine with internet (it saves ~/.cache/whisper/{name}.pt), or set "
                   f"asr.model to a checkpoint file")


def _looks_like_path(model: str) -> bool:
    return model.endswith(".pt") or "/" in model or "\\" in model or Path(model).is_file()


@register
class WhisperASR(ASRBackend):
    name = "whisper"
    version = "2"  # 2: VAD chunks with retries instead of Whisper's own window skipping
    requires = ("whisper", "torch")
    install_hint = "pip install openai-whisper (the triton it pulls is not needed on CPU)"
    languages = None

    @dataclass(frozen=True)
    class Config:
        model: str = "tiny.en"  # an official name or a checkpoint file
        beam_size: int = 5
        initial_prompt: str = ""  # vocabulary hints, e.g. names the speaker uses
        temperature_fallback: bool = True  # a chunk that stays bad is re-decoded by sampling
        pause_split_s: float = 1.0
        max_segment_s: float = 12.0

    def __init__(self, config: Any | None = None, device: str = "cpu",
                 language: str = "") -> None:
        super().__init__(config, device, language)
        self._model: Any = None
        self._path: Path | None = None

    @classmethod
    def weights_specs(cls) -> tuple[WeightsSpec, ...]:
        urls = _official_urls()
        return tuple(checkpoint_spec(name, urls.get(name)) for name in NAMES)

    def checkpoint_path(self) -> Path:
        if self._path is None:
            model = self.config.model
            if _looks_like_path(model):
                spec = WeightsSpec(name=Path(model).stem, filenames=(Path(model).name,),
                                   how_to_get="asr.model must be an openai-whisper checkpoint")
                self._path = weights.resolve(spec, model)
            elif model in NAMES:
                self._path = weights.resolve(checkpoint_spec(model, _official_urls().get(model)))
            else:
                raise ConfigError(f"asr.model={model!r} is neither a checkpoint file nor one "
                                  f"of: {', '.join(NAMES)}")
        return self._path

    def weights_path(self) -> Path:
        return self.checkpoint_path()

    def weights_description(self) -> str:
        return f"openai-whisper {self.config.model} at {self.checkpoint_path()}"

    def _load(self) -> Any:
        if self._model is None:
            self.ensure_dependencies()
            import whisper

            path = self.checkpoint_path()
            log.info("asr whisper: loading %s on %s", path, self.device)
            try:
                model = whisper.load_model(str(path), device=self.device)
            except (RuntimeError, KeyError, TypeError, ValueError, EOFError, OSError,
                    pickle.UnpicklingError) as exc:
                raise WeightsNotFoundError(
                    f"{path} is not a usable openai-whisper checkpoint "
                    f"({type(exc).__name__}: {exc}); expected a torch file with 'dims' and "
                    f"'model_state_dict'") from exc
            # load_model only knows the cross-attention heads for word timing by model name.
            heads = getattr(whisper, "_ALIGNMENT_HEADS", {}).get(self.config.model)
            if heads is not None:
                model.set_alignment_heads(heads)
            self._model = model
        return self._model

    def transcribe(self, audio: Speech, language: str, progress: StageProgress) -> Transcript:
        check_input_audio(audio, self.name)
        model = self._load()
        if not model.is_multilingual and language != "en":
            raise ConfigError(f"asr model {self.config.model} is English-only; the source "
                              f"language is {language!r}: choose a multilingual model")
        regions = speech_regions(audio.samples)
        if not regions:
            raise NoSpeechError(f"no speech detected in {audio.duration_s:.2f} s of audio by "
                                f"the voice activity detector; is the speech audible?")
        logprobs: list[float] = []
        no_speech: list[float] = []
        decode = self._decoder(model, language, logprobs, no_speech)
        rules = ChunkRules(sampling_fallback=self.config.temperature_fallback)
        progress(0.0, f"transcribing {audio.duration_s:.1f} s")
        try:
            chunks = transcribe_long(
                decode, audio.samples, regions, self.config.beam_size, rules,
                on_chunk=lambda end_s: progress(min(end_s / max(audio.duration_s, 1e-6), 1.0),
                                                "transcribing"))
        except (RuntimeError, ValueError, IndexError) as exc:
            raise StageError(f"openai-whisper failed on {self.checkpoint_path()}: {exc}") from exc
        words = words_from_timings(w for chunk in chunks for w in chunk.words)
        rules_segments = SegmentRules(self.config.pause_split_s, self.config.max_segment_s)
        transcript = build_transcript(words, language, self.name, audio.duration_s,
                                      rules_segments)
        self.metrics = {**decoding_metrics(words, transcript, logprobs, no_speech),
                        **transcript_coverage(regions, transcript).metrics(),
                        "chunks": len(chunks),
                        "chunks_retried": sum(c.attempts > 1 for c in chunks),
                        "chunks_unresolved": [[round(c.span.start_s, 2), round(c.span.end_s, 2),
                                               c.problem] for c in chunks if c.problem]}
        progress(1.0, f"{len(words)} words")
        log.info("asr whisper: %d words in %d segments", len(words), len(transcript.segments))
        return transcript

    def _decoder(self, model: Any, language: str, logprobs: list[float],
                 no_speech: list[float]) -> DecodeFn:
        """One chunk -> word timings, with Whisper's own skipping and fallback off."""
        import numpy as np
        import torch
        import whisper

        def decode(samples: np.ndarray, attempt: Attempt) -> list[RawWord]:
            if attempt.temperature > 0:
                torch.manual_seed(attempt.seed)
            with torch.inference_mode():
                result = whisper.transcribe(
                    model, np.array(samples, np.float32), language=language,
                    word_timestamps=True, beam_size=attempt.beam_size,
                    best_of=5 if attempt.temperature > 0 else None,
                    fp16=self.device.startswith("cuda"), condition_on_previous_text=False,
                    verbose=None, temperature=attempt.temperature,
                    compression_ratio_threshold=None, logprob_threshold=None,
                    no_speech_threshold=None, initial_prompt=self.config.initial_prompt or None)
            pieces = result.get("segments", [])
            logprobs.extend(float(p["avg_logprob"]) for p in pieces)
            no_speech.extend(float(p["no_speech_prob"]) for p in pieces)
            return [(w["word"], w["start"], w["end"], w["probability"])
                    for piece in pieces for w in piece.get("words", ())]
        return decode
