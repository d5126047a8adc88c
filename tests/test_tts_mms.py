"""MMS-TTS code path with a tiny random VitsModel saved and loaded like real weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from f2f.artifacts import TranslatedSegment, Translation
from f2f.errors import WeightsNotFoundError
from f2f.registry import get_backend_class

import transformers  # noqa: E402  (a hard dependency: its absence must fail)

_CHARS = " अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसहािीुूेैोौंँ्ःज़ड़फ़।,"


@pytest.fixture(scope="module")
def tiny_mms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    folder = tmp_path_factory.mktemp("mms-tiny")
    vocab = {"<pad>": 0} | {c: i + 1 for i, c in enumerate(dict.fromkeys(_CHARS))}
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = transformers.VitsTokenizer(str(folder / "vocab.json"), pad_token="<pad>",
                                           unk_token=None, add_blank=True, phonemize=False,
                                           language="hin")
    config = transformers.VitsConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        ffn_dim=16, flow_size=8, spectrogram_bins=17, upsample_initial_channel=16,
        upsample_rates=[4, 4], upsample_kernel_sizes=[8, 8], resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1]], prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1, posterior_encoder_num_wavenet_layers=1,
        duration_predictor_filter_channels=16, duration_predictor_num_flows=1,
        depth_separable_num_layers=1, sampling_rate=16_000)
    torch.manual_seed(0)
    transformers.VitsModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_tiny_vits_through_the_mms_backend(tiny_mms: Path) -> None:
    cls = get_backend_class("tts", "mms")
    tts = cls(cls.Config(model_path=str(tiny_mms)))
    assert tts.availability().ok
    translation = Translation("en", "hi", (
        TranslatedSegment(0, "", "नमस्ते दुनिया, 25 लोग", 0.0, 2.0),
        TranslatedSegment(1, "", "!!", 2.0, 3.0)))
    out = tts.synthesize(translation, lambda f, m: None)
    spoken, silent = out.segments
    assert spoken.speech.sample_rate == 16_000 and spoken.speech.samples.size > 0
    assert np.isfinite(spoken.speech.samples).all()
    letters = [p.phoneme for p in spoken.phonemes]
    assert letters[:2] == ["न", "म"]  # per-character spans from the duration predictor
    assert "प" in letters  # "25" was normalised to पच्चीस and spoken
    assert all(p.start_s < p.end_s <= spoken.speech.duration_s + 1e-6 for p in spoken.phonemes)
    assert silent.phonemes == () and silent.speech.duration_s == pytest.approx(1.0)
    again = cls(cls.Config(model_path=str(tiny_mms))).synthesize(translation, lambda f, m: None)
    assert np.array_equal(again.segments[0].speech.samples, spoken.speech.samples)  # seeded


def test_missing_weights_say_where_and_how(tmp_path: Path) -> None:
    cls = get_backend_class("tts", "mms")
    tts = cls(cls.Config(model_path=str(tmp_path / "nowhere")))
    assert not tts.availability().ok
    with pytest.raises(WeightsNotFoundError, match="nowhere"):
        tts.synthesize(Translation("en", "hi", (TranslatedSegment(0, "", "क", 0, 1),)),
                       lambda f, m: None)


def test_one_backend_loads_the_checkpoint_of_each_target_language(tiny_mms: Path) -> None:
    # The app shares one backend across requests: a Bengali request after a Hindi one must not
    # be spoken by the Hindi model that is already loaded.
    import os
    import shutil

    weights = Path(os.environ["F2F_HOME"]) / "weights"
    for name in ("mms-tts-hin", "mms-tts-ben"):
        shutil.copytree(tiny_mms, weights / name)
    tts = get_backend_class("tts", "mms")()
    for language, folder in (("hi", "mms-tts-hin"), ("bn", "mms-tts-ben"), ("hi", "mms-tts-hin")):
        translation = Translation("en", language, (TranslatedSegment(0, "", "क", 0.0, 1.0),))
        out = tts.synthesize(translation, lambda f, m: None)
        assert out.voice == f"mms:{language}"
        assert tts._loaded is not None and tts._loaded[0].name == folder


def test_the_target_language_picks_the_weights_before_any_run() -> None:
    """Availability and cache fingerprints must look for the run's language, not Hindi."""
    from f2f.config import load_config
    from f2f.pipeline import BackendPool

    pool = BackendPool()
    config = load_config(target_language="bn", tts="mms")
    def looked_for(language: str) -> str:
        status = pool.get("tts", config.tts, "cpu", language).availability()
        return status.weights if status.ok else status.reason

    assert "mms-tts-ben" in looked_for("bn") and "mms-tts-hin" not in looked_for("bn")
    assert "mms-tts-hin" in looked_for("hi")
