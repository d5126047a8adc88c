"""Meta's MMS-TTS (VITS) through transformers' `VitsModel`: a natural Hindi voice.

Weights (`facebook/mms-tts-hin`, CC BY-NC 4.0) come from `tts.model_path` or the Hugging Face
cache; nothing is downloaded here. The duration predictor's output is captured with a forward
hook, so every input character gets a time span: these are the phoneme events (MMS reads
characters, so the "phonemes" are Devanagari letters) the lip-sync stage uses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from f2f.artifacts import PhonemeEvent, SegmentSpeech, Speech, SpeechSegments, Translation
from f2f.errors import MissingDependencyError, StageError, UnsupportedLanguageError
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import Availability, TTSBackend
from f2f.textnorm import is_speakable, normalize_hindi, split_clauses
from f2f.weights import WeightsSpec, find, fingerprint, resolve

log = logging.getLogger(__name__)

# target language -> MMS checkpoint (ISO 639-3 in the repo name)
MMS_REPOS = {"hi": "facebook/mms-tts-hin", "ur": "facebook/mms-tts-urd-script_arabic",
             "bn": "facebook/mms-tts-ben", "mr": "facebook/mms-tts-mar",
             "ta": "facebook/mms-tts-tam", "te": "facebook/mms-tts-tel",
             "en": "facebook/mms-tts-eng"}


def weights_spec(language: str) -> WeightsSpec:
    repo = MMS_REPOS[language]
    return WeightsSpec(
        name=repo.split("/")[1], filenames=(repo.split("/")[1],),
        must_contain=("config.json",), hf_repo=repo,
        how_to_get=f"`python -m f2f download {repo.split('/')[1]}` (or "
                   f"`huggingface-cli download {repo}`), or pass --set tts.model_path=DIR")


def _load(path: Path) -> tuple[Any, Any]:
    from transformers import AutoTokenizer, VitsModel

    try:
        model = VitsModel.from_pretrained(str(path)).eval()
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise StageError(f"cannot load MMS-TTS from {path}: {exc}") from exc
    return model, tokenizer


def _uromanize(text: str) -> str:
    try:
        import uroman
    except ImportError as exc:
        raise MissingDependencyError(
            "this MMS-TTS checkpoint reads romanised text: pip install uroman") from exc
    return str(uroman.Uroman().romanize_string(text))


@register
class MmsTTS(TTSBackend):
    """MMS-TTS VITS (transformers); per-character timings from the duration predictor."""

    name = "mms"
    version = "1"
    requires = ("transformers", "torch")
    install_hint = "pip install transformers torch"
    quality_note = "natural voice; weights are CC BY-NC 4.0 (non-commercial)"
    languages = frozenset(MMS_REPOS)

    @dataclass(frozen=True)
    class Config:
        model_path: str = ""  # a local folder with config.json, model and tokenizer files
        speaking_rate: float = 1.0
        noise_scale: float = 0.667
        seed: int = 0  # VITS samples noise: a fixed seed keeps outputs (and the cache) stable
        normalize_text: bool = True
        max_clause_chars: int = 200
        clause_pause_s: float = 0.12

    def __init__(self, config: Any | None = None, device: str = "cpu",
                 language: str = "") -> None:
        super().__init__(config, device, language)
        self._loaded: tuple[Path, Any, Any] | None = None  # (folder, model, tokenizer)
        self._language = self.language if self.language in MMS_REPOS else "hi"

    @classmethod
    def weights_specs(cls) -> tuple[WeightsSpec, ...]:
        return tuple(weights_spec(lang) for lang in MMS_REPOS)

    def _path(self) -> Path:
        return resolve(weights_spec(self._language), self.config.model_path or None)

    def availability(self) -> Availability:
        base = super().availability()
        if not base.ok:
            return base
        found = find(weights_spec(self._language), self.config.model_path or None)
        if found is None:
            return Availability(False, f"MMS-TTS weights not found: "
                                f"{weights_spec(self._language).how_to_get}")
        return Availability(True, weights=str(found))

    def weights_fingerprint(self) -> str:
        path = find(weights_spec(self._language), self.config.model_path or None)
        return fingerprint(path) if path else ""

    def weights_description(self) -> str:
        path = find(weights_spec(self._language), self.config.model_path or None)
        return str(path) if path else "MMS-TTS (not found)"

    def synthesize(self, translation: Translation, progress: StageProgress,
                   voices: Mapping[int, str] | None = None) -> SpeechSegments:
        self.ensure_dependencies()
        if translation.target_language not in MMS_REPOS and not self.config.model_path:
            raise UnsupportedLanguageError(
                f"mms has no checkpoint listed for '{translation.target_language}'; listed: "
                f"{', '.join(sorted(MMS_REPOS))} (or pass --set tts.model_path=DIR)")
        self._language = translation.target_language if translation.target_language in \
            MMS_REPOS else "hi"
        path = self._path()
        if self._loaded is None or self._loaded[0] != path:  # one backend, many languages (app)
            log.info("tts mms: loading VITS from %s", path)
            model, tokenizer = _load(path)
            self._loaded = (path, model.to(self.device), tokenizer)
        _, model, tokenizer = self._loaded
        rate = int(model.config.sampling_rate)
        out = []
        total = max(len(translation.segments), 1)
        for index, segment in enumerate(translation.segments):
            text = segment.text
            if self.config.normalize_text and translation.target_language == "hi":
                text = normalize_hindi(text)
            pieces: list[np.ndarray] = []
            phonemes: list[PhonemeEvent] = []
            offset = 0
            for clause in split_clauses(text, self.config.max_clause_chars):
                if not is_speakable(clause):
                    continue
                samples, events = self._speak(model, tokenizer, clause, rate)
                if pieces:
                    pieces.append(np.zeros(int(self.config.clause_pause_s * rate), np.float32))
                    offset += pieces[-1].size
                phonemes += [PhonemeEvent(p, (offset + a) / rate, (offset + b) / rate)
                             for p, a, b in events]
                pieces.append(samples)
                offset += samples.size
            if not pieces:
                log.info("tts mms: nothing to say in segment %d; silence", segment.id)
                pieces = [np.zeros(int(round(segment.duration_s * rate)), np.float32)]
            audio = np.clip(np.concatenate(pieces), -1.0, 1.0)
            out.append(SegmentSpeech(segment.id, segment.text, Speech(audio, rate),
                                     tuple(phonemes)))
            progress((index + 1) / total, f"segment {index + 1}/{total}")
        self.metrics = {"segments": len(out),
                        "speech_s": round(sum(s.speech.duration_s for s in out), 3)}
        return SpeechSegments(tuple(out), backend=self.name, voice=f"mms:{self._language}")

    def _speak(self, model: Any, tokenizer: Any, text: str,
               rate: int) -> tuple[np.ndarray, list[tuple[str, int, int]]]:
        """One clause: samples and (character, start sample, end sample) spans."""
        import torch

        if getattr(tokenizer, "is_uroman", False):
            text = _uromanize(text)
        inputs = tokenizer(text, return_tensors="pt")
        ids = inputs["input_ids"]
        inputs = {name: tensor.to(self.device) for name, tensor in inputs.items()}
        if ids.shape[1] == 0:
            return np.zeros(0, np.float32), []
        captured: dict[str, torch.Tensor] = {}

        def keep_durations(_module: Any, _inputs: Any, output: torch.Tensor) -> None:
            captured["log_duration"] = output

        hook = model.duration_predictor.register_forward_hook(keep_durations)
        try:
            torch.manual_seed(self.config.seed)
            model.noise_scale = self.config.noise_scale
            with torch.inference_mode():
                result = model(**inputs, speaking_rate=self.config.speaking_rate)
        finally:
            hook.remove()
        waveform = result.waveform[0].float().cpu().numpy()
        # same arithmetic as VitsModel.forward: frames per input token, then samples per frame
        durations = torch.ceil(torch.exp(captured["log_duration"]) / self.config.speaking_rate)
        frames = durations.reshape(-1).long().cpu().numpy()
        hop = int(np.prod(model.config.upsample_rates))
        tokens = tokenizer.convert_ids_to_tokens(ids[0].tolist())
        pad = getattr(tokenizer, "pad_token", None)
        events: list[tuple[str, int, int]] = []
        cursor = 0
        for token, count in zip(tokens, frames, strict=False):
            start, cursor = cursor, cursor + int(count) * hop
            if token == pad or not token.strip():  # blanks between characters: join the last
                if events:
                    events[-1] = (events[-1][0], events[-1][1], min(cursor, waveform.size))
                continue
            if cursor > start and start < waveform.size:
                events.append((token, start, min(cursor, waveform.size)))
        return waveform.astype(np.float32), events
