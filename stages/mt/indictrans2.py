"""IndicTrans2 (AI4Bharat, MIT) English -> 22 Indic languages through transformers.

Weights: `ai4bharat/indictrans2-en-indic-dist-200M` (or the 1B model, via `mt.model`) from the
Hugging Face cache or a local folder; its modelling code ships with the weights
(`trust_remote_code`, read from that folder only). Input and output go through
`indictranstoolkit`'s IndicProcessor: language tags and normalisation in, detokenisation and
script conversion out.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from f2f.errors import MissingDependencyError, WeightsNotFoundError
from f2f.registry import register
from stages.mt._seq2seq import Seq2SeqConfig, Seq2SeqMT
from stages.mt.nllb import nllb_code

log = logging.getLogger(__name__)
INDIC = frozenset("hi bn ta te mr gu kn ml pa ur or as ne".split())


def load_indic_processor() -> Any:
    """IndicProcessor from indictranstoolkit's compiled module.

    The package's `__init__` also imports a training collator that fails with transformers 5,
    so the processor extension is loaded on its own.
    """
    spec = importlib.util.find_spec("IndicTransToolkit")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("mt indictrans2 needs indictranstoolkit: pip install "
                                     "'indictranstoolkit==1.1.1'")
    folder = Path(next(iter(spec.submodule_search_locations)))
    extension = next(folder.glob("processor*.so"), None)
    if extension is None:
        raise MissingDependencyError(f"indictranstoolkit at {folder} has no compiled processor; "
                                     "reinstall it: pip install 'indictranstoolkit==1.1.1'")
    name = "IndicTransToolkit.processor"
    loader = importlib.machinery.ExtensionFileLoader(name, str(extension))
    module_spec = importlib.util.spec_from_file_location(name, str(extension), loader=loader)
    assert module_spec is not None
    module = importlib.util.module_from_spec(module_spec)
    loader.exec_module(module)
    return module.IndicProcessor(inference=True)


@register
class IndicTrans2MT(Seq2SeqMT):
    name = "indictrans2"
    version = "1"
    default_repo = "ai4bharat/indictrans2-en-indic-dist-200M"
    languages = INDIC
    requires = ("transformers", "torch", "sentencepiece")
    quality_note = ("neural MT (IndicTrans2); not measured here: its weights are a hub download "
                    "(published FLORES-200 figures in README)")

    @dataclass(frozen=True)
    class Config(Seq2SeqConfig):
        model: str = "ai4bharat/indictrans2-en-indic-dist-200M"
        source_code: str = "eng_Latn"

    def __init__(self, config: Any | None = None, device: str = "cpu",
                 language: str = "") -> None:
        super().__init__(config, device, language)
        self._processor: Any = None

    def processor(self) -> Any:
        if self._processor is None:
            self._processor = load_indic_processor()
        return self._processor

    def preprocess(self, texts: list[str], target_language: str) -> list[str]:
        return list(self.processor().preprocess_batch(
            texts, src_lang=self.config.source_code, tgt_lang=nllb_code(target_language)))

    def postprocess(self, texts: list[str], target_language: str) -> list[str]:
        return list(self.processor().postprocess_batch(texts, lang=nllb_code(target_language)))

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            self.ensure_dependencies()
            self.processor()  # fail early, before loading weights, when the toolkit is missing
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

            folder = self.model_dir()
            try:
                tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True,
                                                          trust_remote_code=True)
                model = AutoModelForSeq2SeqLM.from_pretrained(
                    str(folder), local_files_only=True, trust_remote_code=True)
            except (OSError, ValueError, KeyError, TypeError, ImportError) as exc:
                raise WeightsNotFoundError(
                    f"mt backend 'indictrans2' could not load {folder}: {exc}. It must hold an "
                    f"IndicTrans2 checkpoint ({self.default_repo}) with its tokenizer and "
                    f"modelling code") from exc
            self._tokenizer, self._model = tokenizer, model.to(self.device).eval()
        return self._tokenizer, self._model
