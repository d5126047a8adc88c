"""Shared code for Hugging Face encoder-decoder translators (MarianMT, NLLB-200).

A subclass names its default hub repo and how to steer the target language; this module finds
the weights (an explicit folder or the HF hub cache, never a download), loads tokenizer and model
once, and translates the segments in batches with beam search.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from f2f import weights
from f2f.artifacts import Transcript, Translation
from f2f.errors import ConfigError, StageError, WeightsNotFoundError
from f2f.progress import StageProgress
from f2f.stage import MTBackend
from f2f.weights import WeightsSpec
from stages.mt._common import aligned_translation, require_language
from stages.mt._fit import SlotAware, SlotChoice, choose_for_slot, summary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Seq2SeqConfig:
    model: str = ""  # a hub repo id (looked up in the HF cache) or a local folder; "" = default
    beam_size: int = 4
    batch_size: int = 8
    max_new_tokens: int = 256
    fit_slots: bool = True  # re-rank the n-best list by spoken duration when a slot is tight
    max_speedup: float = 1.15


def _is_folder(model: str) -> bool:
    return Path(model).expanduser().is_dir() or model.startswith(("/", ".", "~"))


class Seq2SeqMT(SlotAware, MTBackend):
    """Base of the transformers translators; subclasses are registered, this one is not."""

    requires = ("transformers", "torch", "sentencepiece")
    install_hint = "pip install transformers sentencepiece torch"
    default_repo: ClassVar[str] = ""
    Config: ClassVar[type] = Seq2SeqConfig

    def __init__(self, config: Any | None = None, device: str = "cpu",
                 language: str = "") -> None:
        super().__init__(config, device, language)
        self._model: Any = None
        self._tokenizer: Any = None
        self._dir: Path | None = None

    # ---- what a subclass adapts

    def prepare_tokenizer(self, tokenizer: Any, target_language: str) -> None:
        """Sets source-language state on the tokenizer before encoding (NLLB needs it)."""

    def generate_options(self, tokenizer: Any, target_language: str) -> dict[str, Any]:
        """Extra `generate` arguments that pick the target language (NLLB: forced BOS)."""
        return {}

    # ---- weights

    @property
    def model_name(self) -> str:
        return self.config.model or self.default_repo

    @classmethod
    def spec_for(cls, repo: str) -> WeightsSpec:
        return WeightsSpec(
            name=repo.split("/")[-1], filenames=(repo.split("/")[-1],),
            must_contain=("config.json",), hf_repo=repo,
            how_to_get=f"run `python -m f2f download {repo.split('/')[-1]}` (or "
                       f"`huggingface-cli download {repo}`) on a machine with internet, or set "
                       f"mt.model to a local folder in the Hugging Face layout")

    @classmethod
    def weights_specs(cls) -> tuple[WeightsSpec, ...]:
        return (cls.spec_for(cls.default_repo),)

    def weights_path(self) -> Path:
        return self.model_dir()

    def model_dir(self) -> Path:
        if self._dir is None:
            model = self.model_name
            if _is_folder(model):
                spec = WeightsSpec(name=Path(model).name, must_contain=("config.json",),
                                   how_to_get="mt.model must be a folder saved with "
                                              "save_pretrained (config.json, weights, tokenizer)")
                self._dir = weights.resolve(spec, model)
            else:
                self._dir = weights.resolve(self.spec_for(model))
        return self._dir

    def weights_description(self) -> str:
        return f"{self.name} {self.model_name} at {self.model_dir()}"

    # ---- run

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            self.ensure_dependencies()
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

            folder = self.model_dir()
            log.info("mt %s: loading %s on %s", self.name, folder, self.device)
            try:
                tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
                model = AutoModelForSeq2SeqLM.from_pretrained(str(folder), local_files_only=True)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise WeightsNotFoundError(
                    f"mt backend '{self.name}' could not load {folder}: {exc}. It must hold a "
                    f"Hugging Face seq2seq model with its tokenizer") from exc
            self._tokenizer, self._model = tokenizer, model.to(self.device).eval()
        return self._tokenizer, self._model

    def preprocess(self, texts: list[str], target_language: str) -> list[str]:
        """What the model reads (IndicTrans2 adds language tags); plain text by default."""
        return texts

    def postprocess(self, texts: list[str], target_language: str) -> list[str]:
        return texts

    def translate_texts(self, texts: list[str], target_language: str,
                        progress: StageProgress | None = None) -> list[str]:
        """Translates non-empty lines in batches; empty lines stay empty."""
        return [n_best[0] for n_best in self.translate_n_best(texts, target_language, progress,
                                                              1)]

    def translate_n_best(self, texts: list[str], target_language: str,
                         progress: StageProgress | None = None,
                         n: int = 1) -> list[list[str]]:
        """Up to `n` beam hypotheses per line, best first; an empty line gives ['']."""
        if self.config.beam_size < 1 or self.config.batch_size < 1:
            raise ConfigError(f"mt.beam_size and mt.batch_size must be >= 1, got "
                              f"{self.config.beam_size} and {self.config.batch_size}")
        import torch

        tokenizer, model = self._load()
        self.prepare_tokenizer(tokenizer, target_language)
        options = self.generate_options(tokenizer, target_language)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        out: list[list[str]] = [[""] for _ in texts]
        n = max(1, min(n, self.config.beam_size))
        size = self.config.batch_size
        for start in range(0, len(todo), size):
            batch = todo[start:start + size]
            # One preprocessed copy per returned hypothesis: IndicProcessor pairs each output
            # with the input it came from, in order.
            replicated = self.preprocess([texts[i] for i in batch for _ in range(n)],
                                         target_language)
            encoded = tokenizer(replicated[::n], return_tensors="pt", padding=True,
                                truncation=True).to(self.device)
            try:
                with torch.inference_mode():
                    generated = model.generate(**encoded, num_beams=self.config.beam_size,
                                               max_new_tokens=self.config.max_new_tokens,
                                               num_return_sequences=n, **options)
            except (RuntimeError, ValueError, IndexError) as exc:
                raise StageError(f"mt backend '{self.name}' failed to generate: {exc}") from exc
            decoded = self.postprocess(
                tokenizer.batch_decode(generated, skip_special_tokens=True), target_language)
            for k, i in enumerate(batch):
                hypotheses = [t.strip() for t in decoded[k * n:(k + 1) * n]]
                out[i] = list(dict.fromkeys(h for h in hypotheses if h)) or [""]
            if progress:
                progress(min(start + size, len(todo)) / len(todo), "translating")
        return out

    def translate(self, transcript: Transcript, target_language: str,
                  progress: StageProgress) -> Translation:
        require_language(self, target_language)
        texts = [s.text for s in transcript.segments]
        progress(0.0, f"translating {len(texts)} segments")
        fit = self.config.fit_slots and self.speaking_rate > 0
        n_best = self.translate_n_best(texts, target_language, progress,
                                       self.config.beam_size if fit else 1)
        choices: list[SlotChoice] = []
        hindi = []
        rooms = self.rooms_for(transcript.segments)
        for segment, room, candidates in zip(transcript.segments, rooms, n_best, strict=True):
            if fit and candidates[0]:
                choice = choose_for_slot(segment.id, candidates, segment.duration_s,
                                         self.speaking_rate, self.config.max_speedup, room)
                choices.append(choice)
                hindi.append(candidates[choice.chosen])
            else:
                hindi.append(candidates[0])
        self.metrics = {"segments": len(texts), "empty_outputs": sum(
            1 for src, out in zip(texts, hindi, strict=True) if src.strip() and not out)}
        if choices:
            self.metrics["slot_fit"] = [c.to_dict() for c in choices]
            self.metrics["slot_fit_summary"] = summary(choices, self.config.max_speedup)
        log.info("mt %s: translated %d segments with %s", self.name, len(texts), self.model_name)
        progress(1.0, "done")
        return aligned_translation(transcript, hindi, target_language, self.name)
