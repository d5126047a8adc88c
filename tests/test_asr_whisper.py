"""openai-whisper backend: a tiny random model saved in the official checkpoint format and loaded
through the real path (explicit file and ~/.cache/whisper lookup)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from f2f.artifacts import Speech, Transcript
from f2f.errors import ConfigError, NoSpeechError, WeightsNotFoundError
from f2f.registry import get_backend_class

pytest.importorskip("whisper")


def _no_progress(fraction: float, message: str = "") -> None:
    pass


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(0)
    # English-only vocabulary size (51864) so the real tiny.en tokenizer is used; 1500 audio
    # positions because Whisper always pads input to 30 s of mel frames.
    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=16, n_audio_head=2,
                           n_audio_layer=1, n_vocab=51864, n_text_ctx=32, n_text_state=16,
                           n_text_head=2, n_text_layer=1)
    model = Whisper(dims)
    path = tmp_path_factory.mktemp("whisper") / "tiny-random.pt"
    torch.save({"dims": dataclasses.asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path


def _tone(seconds: float = 2.0) -> Speech:
    t = np.arange(int(16000 * seconds)) / 16000
    return Speech((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)


def test_tiny_random_checkpoint_loads_and_runs(tiny_checkpoint: Path) -> None:
    cls = get_backend_class("asr", "whisper")
    backend = cls(cls.Config(model=str(tiny_checkpoint), beam_size=1,
                             temperature_fallback=False))
    available = backend.availability()
    assert available.ok and available.weights == str(tiny_checkpoint)
    assert len(backend.weights_fingerprint()) == 64
    # A random model emits arbitrary tokens or none: both outcomes must be well-formed.
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: extra threads only fight over the shared CPU
    try:
        transcript = backend.transcribe(_tone(), "en", _no_progress)
    except NoSpeechError:
        return
    finally:
        torch.set_num_threads(threads)
    assert isinstance(transcript, Transcript)
    assert [s.id for s in transcript.segments] == list(range(len(transcript.segments)))
    for segment in transcript.segments:
        assert 0.0 <= segment.start_s <= segment.end_s <= 30.0
    assert "mean_word_probability" in backend.metrics


def test_official_name_is_found_in_whisper_cache(tiny_checkpoint: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "whisper"
    cache.mkdir()
    (cache / "tiny.en.pt").write_bytes(tiny_checkpoint.read_bytes())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cls = get_backend_class("asr", "whisper")
    # The random file is not the official tiny.en, so the pinned SHA-256 must reject it.
    with pytest.raises(WeightsNotFoundError, match="SHA-256"):
        cls(cls.Config(model="tiny.en")).checkpoint_path()


def test_missing_and_corrupt_checkpoints_are_clear_errors(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cls = get_backend_class("asr", "whisper")
    backend = cls(cls.Config(model="base.en"))
    assert not backend.availability().ok
    with pytest.raises(WeightsNotFoundError, match="looked in"):
        backend.transcribe(_tone(), "en", _no_progress)
    corrupt = tmp_path / "broken.pt"
    corrupt.write_bytes(b"not a torch file")
    with pytest.raises(WeightsNotFoundError, match="not a usable"):
        cls(cls.Config(model=str(corrupt))).transcribe(_tone(), "en", _no_progress)
    unknown = cls(cls.Config(model="enormous"))
    assert not unknown.availability().ok
    with pytest.raises(ConfigError, match="tiny.en"):
        unknown.checkpoint_path()


def test_silence_is_no_speech_before_loading_anything(tmp_path: Path) -> None:
    cls = get_backend_class("asr", "whisper")
    backend = cls(cls.Config(model=str(tmp_path / "never-loaded.pt")))
    with pytest.raises(NoSpeechError, match="no speech"):
        backend.transcribe(Speech(np.zeros(16000, np.float32), 16000), "en", _no_progress)
