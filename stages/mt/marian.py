"""MarianMT (Helsinki-NLP opus-mt) English -> Hindi through transformers.

Weights: `Helsinki-NLP/opus-mt-en-hi` from the Hugging Face cache, or any folder in that layout
(`mt.model=PATH`: config.json, model weights, source.spm, target.spm, vocab.json). The real
quality option when its weights are installed; nothing is downloaded at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

from f2f.registry import register
from stages.mt._seq2seq import Seq2SeqConfig, Seq2SeqMT


@register
class MarianMT(Seq2SeqMT):
    name = "marian"
    version = "1"
    default_repo = "Helsinki-NLP/opus-mt-en-hi"
    # One Marian model is one language pair; use mt.model for another opus-mt-en-* pair and
    # pick that language with --to.
    languages = frozenset({"hi"})
    quality_note = "neural MT (opus-mt); not measured here: its weights are a hub download"

    @dataclass(frozen=True)
    class Config(Seq2SeqConfig):
        model: str = "Helsinki-NLP/opus-mt-en-hi"
