"""Marian / NLLB code path: a tiny MarianMT model with a tokenizer trained here, saved in the
Hugging Face layout, trained for a few seconds to memorise two pairs, then loaded by the backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from f2f.artifacts import Segment, Transcript
from f2f.errors import UnsupportedLanguageError, WeightsNotFoundError
from f2f.registry import get_backend_class
from tests._mt_helpers import build_tiny_marian

PAIRS = [("hello world", "नमस्ते दुनिया"), ("good morning friend", "सुप्रभात दोस्त")]


def _no_progress(fraction: float, message: str = "") -> None:
    pass


@pytest.fixture(scope="module")
def tiny_marian_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_marian(tmp_path_factory.mktemp("tiny_marian"), PAIRS)


def _transcript(texts: list[str]) -> Transcript:
    segments = tuple(Segment(i, t, 1.0 * i, 1.0 * i + 0.8) for i, t in enumerate(texts))
    return Transcript("en", segments, "test")


def test_marian_loads_tiny_model_and_translates_aligned(tiny_marian_dir: Path) -> None:
    cls = get_backend_class("mt", "marian")
    backend = cls(cls.Config(model=str(tiny_marian_dir), beam_size=2, batch_size=1))
    assert backend.availability().ok
    transcript = _transcript(["hello world", "", "good morning friend"])
    translation = backend.translate(transcript, "hi", _no_progress)
    assert [s.id for s in translation.segments] == [0, 1, 2]
    assert [(s.start_s, s.end_s) for s in translation.segments] == [
        (s.start_s, s.end_s) for s in transcript.segments]
    assert translation.segments[0].text == "नमस्ते दुनिया"
    assert translation.segments[1].text == ""  # empty source stays empty
    assert translation.segments[2].text == "सुप्रभात दोस्त"
    assert translation.target_language == "hi" and translation.backend == "marian"
    assert backend.weights_fingerprint()


def test_marian_rejects_unsupported_language(tiny_marian_dir: Path) -> None:
    cls = get_backend_class("mt", "marian")
    backend = cls(cls.Config(model=str(tiny_marian_dir)))
    with pytest.raises(UnsupportedLanguageError, match="fr"):
        backend.translate(_transcript(["hello world"]), "fr", _no_progress)


def test_missing_weights_say_where_they_looked(tmp_path: Path) -> None:
    for name in ("marian", "nllb"):
        cls = get_backend_class("mt", name)
        backend = cls()
        assert not backend.availability().ok
        with pytest.raises(WeightsNotFoundError, match="looked in"):
            backend.translate(_transcript(["hello"]), "hi", _no_progress)
    cls = get_backend_class("mt", "marian")
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        cls(cls.Config(model=str(tmp_path / "nowhere"))).translate(
            _transcript(["hello"]), "hi", _no_progress)


def test_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    cls = get_backend_class("mt", "marian")
    with pytest.raises(WeightsNotFoundError, match="could not load"):
        cls(cls.Config(model=str(tmp_path))).translate(_transcript(["hello"]), "hi", _no_progress)


def test_nllb_language_codes() -> None:
    from stages.mt.nllb import nllb_code

    assert nllb_code("hi") == "hin_Deva"
    assert nllb_code("tam_Taml") == "tam_Taml"
    assert "hi" in get_backend_class("mt", "nllb").languages


@pytest.fixture(scope="module")
def tiny_nllb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import sentencepiece
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    folder = tmp_path_factory.mktemp("tiny_nllb")
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(t for pair in PAIRS for t in pair) * 5 + "\n", encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(folder / "spm"), vocab_size=30, model_type="word",
        hard_vocab_limit=False, character_coverage=1.0)
    tokenizer = NllbTokenizer(vocab_file=str(folder / "spm.model"), src_lang="eng_Latn")
    config = M2M100Config(
        vocab_size=len(tokenizer), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
        decoder_ffn_dim=32, max_position_embeddings=64, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id)
    model_dir = folder / "nllb-tiny"
    M2M100ForConditionalGeneration(config).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    return model_dir


def test_nllb_forces_the_target_language_code(tiny_nllb_dir: Path) -> None:
    cls = get_backend_class("mt", "nllb")
    backend = cls(cls.Config(model=str(tiny_nllb_dir), beam_size=2, max_new_tokens=4))
    transcript = _transcript(["hello world", "good morning friend"])
    translation = backend.translate(transcript, "hi", _no_progress)  # random weights: any text
    assert [s.id for s in translation.segments] == [0, 1]
    tokenizer, _model = backend._load()
    forced = backend.generate_options(tokenizer, "hi")["forced_bos_token_id"]
    assert forced == tokenizer.convert_tokens_to_ids("hin_Deva") != tokenizer.unk_token_id
    assert backend.generate_options(tokenizer, "ta")["forced_bos_token_id"] == (
        tokenizer.convert_tokens_to_ids("tam_Taml"))
    with pytest.raises(UnsupportedLanguageError):
        backend.translate(transcript, "xx", _no_progress)
