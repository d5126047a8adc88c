"""NLLB-200 (Meta, CC BY-NC 4.0 weights) English -> many languages through transformers.

Weights: `facebook/nllb-200-distilled-600M` (or any NLLB checkpoint via `mt.model`) from the
Hugging Face cache or a local folder. The target language is chosen by forcing its code
(e.g. `hin_Deva`) as the first generated token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from f2f.errors import ConfigError
from f2f.registry import register
from stages.mt._seq2seq import Seq2SeqConfig, Seq2SeqMT

# ISO 639-1 (what --to takes) -> FLORES-200 code (what NLLB expects).
NLLB_CODES = {
    "hi": "hin_Deva", "bn": "ben_Beng", "ta": "tam_Taml", "te": "tel_Telu", "mr": "mar_Deva",
    "gu": "guj_Gujr", "kn": "kan_Knda", "ml": "mal_Mlym", "pa": "pan_Guru", "ur": "urd_Arab",
    "or": "ory_Orya", "as": "asm_Beng", "ne": "npi_Deva", "en": "eng_Latn", "fr": "fra_Latn",
    "de": "deu_Latn", "es": "spa_Latn", "pt": "por_Latn", "it": "ita_Latn", "ru": "rus_Cyrl",
    "zh": "zho_Hans", "ja": "jpn_Jpan", "ko": "kor_Hang", "ar": "arb_Arab", "tr": "tur_Latn",
}


def nllb_code(language: str) -> str:
    """Accepts an ISO code (`hi`) or a FLORES-200 code (`hin_Deva`)."""
    if "_" in language:
        return language
    if language not in NLLB_CODES:
        raise ConfigError(f"no NLLB code known for {language!r}; pass the FLORES-200 code "
                          f"instead (e.g. hin_Deva)")
    return NLLB_CODES[language]


@register
class NLLBMT(Seq2SeqMT):
    name = "nllb"
    version = "1"
    default_repo = "facebook/nllb-200-distilled-600M"
    languages = frozenset(NLLB_CODES) - {"en"}
    quality_note = "neural MT (NLLB-200); not measured here: its weights are a hub download"

    @dataclass(frozen=True)
    class Config(Seq2SeqConfig):
        model: str = "facebook/nllb-200-distilled-600M"
        source_code: str = "eng_Latn"

    def prepare_tokenizer(self, tokenizer: Any, target_language: str) -> None:
        tokenizer.src_lang = self.config.source_code

    def generate_options(self, tokenizer: Any, target_language: str) -> dict[str, Any]:
        code = nllb_code(target_language)
        token_id = tokenizer.convert_tokens_to_ids(code)
        if token_id is None or token_id == tokenizer.unk_token_id:
            raise ConfigError(f"the NLLB tokenizer at {self.model_dir()} has no language code "
                              f"{code!r}")
        return {"forced_bos_token_id": token_id}
