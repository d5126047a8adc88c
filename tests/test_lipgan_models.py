"""lipgan models, audio features and checkpoints: shapes, the public layout, loading errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from f2f.errors import ConfigError, WeightsNotFoundError
from lipgan.audio import mel_window_for_frame, melspectrogram, mfcc, mfcc_window_for_frame
from lipgan.checkpoint import load_lipgan, load_syncnet, load_wav2lip, save_model
from lipgan.models.discriminator import QualityDiscriminator, QualityDiscriminatorConfig
from lipgan.models.lipgan import (LipGANConfig, LipGANDiscriminator, LipGANGenerator,
                                  contrastive_loss)
from lipgan.models.syncnet import SyncNetColor, SyncNetConfig
from lipgan.models.wav2lip import Wav2Lip, Wav2LipConfig

TINY = 0.125


def _layout(layout_tsv: Path) -> dict[str, dict[str, list[int]]]:
    """Section title -> {state_dict key: shape} from the published layout table."""
    sections: dict[str, dict[str, list[int]]] = {}
    title, in_keys = "", False
    for line in layout_tsv.read_text().splitlines():
        if line.startswith("## "):
            title, in_keys = line[3:], False
            sections[title] = {}
        elif line == "key\tshape":
            in_keys = True
        elif in_keys and "\t" in line:
            key, shape = line.split("\t")
            sections[title][key] = [int(x) for x in shape.strip("[]").split(",") if x.strip()]
    return sections


@pytest.mark.parametrize("prefix, model_type", [("Wav2Lip generator", Wav2Lip),
                                                ("SyncNet_color", SyncNetColor),
                                                ("Wav2Lip_disc_qual", QualityDiscriminator)])
def test_models_match_public_checkpoint_layout_key_for_key(data_file, prefix, model_type):
    layouts = _layout(data_file("wav2lip_checkpoint_layout.tsv"))
    layout = next(v for k, v in layouts.items() if k.startswith(prefix))
    mine = {k: list(v.shape) for k, v in model_type().state_dict().items()}
    assert list(mine) == list(layout)
    assert mine == layout


def test_public_format_with_module_prefix_loads_strict(tmp_path):
    full = Wav2Lip()  # the public files carry no config: they are full size
    public = {"state_dict": {f"module.{k}": v for k, v in full.state_dict().items()},
              "optimizer": torch.optim.Adam(full.parameters()).state_dict(), "global_step": 7}
    torch.save(public, tmp_path / "wav2lip_gan.pth")
    loaded = load_wav2lip(tmp_path / "wav2lip_gan.pth")
    assert not loaded.training
    for key, value in full.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_forward_shapes_of_every_model():
    with torch.no_grad():
        generator = Wav2Lip(Wav2LipConfig(width=TINY)).eval()
        out = generator(torch.randn(2, 1, 80, 16), torch.rand(2, 6, 96, 96))
        assert out.shape == (2, 3, 96, 96) and 0 <= out.min() and out.max() <= 1
        assert generator(torch.randn(2, 5, 1, 80, 16),
                         torch.rand(2, 6, 5, 96, 96)).shape == (2, 3, 5, 96, 96)
        audio, face = SyncNetColor(SyncNetConfig(width=TINY))(torch.randn(3, 1, 80, 16),
                                                              torch.rand(3, 15, 48, 96))
        assert audio.shape == face.shape == (3, 64)
        assert torch.allclose(audio.norm(dim=1), torch.ones(3), atol=1e-5)
        quality = QualityDiscriminator(QualityDiscriminatorConfig(width=TINY))
        assert quality(torch.rand(2, 3, 96, 96)).shape == (2, 1)
        config = LipGANConfig(width=TINY, embedding=64)
        fake = LipGANGenerator(config)(torch.randn(2, 1, 12, 35), torch.rand(2, 6, 96, 96))
        assert fake.shape == (2, 3, 96, 96)
        distance = LipGANDiscriminator(config)(torch.randn(2, 1, 12, 35), fake)
        assert distance.shape == (2,) and (distance <= 2.0 + 1e-5).all()


def test_contrastive_loss_pulls_synced_and_pushes_unsynced_to_the_margin():
    d = torch.tensor([0.0, 2.0, 0.5])
    assert contrastive_loss(d[:1], torch.ones(1), margin=2.0) == 0
    assert contrastive_loss(d[1:2], torch.zeros(1), margin=2.0) == 0
    assert contrastive_loss(d[2:], torch.zeros(1), margin=2.0) == pytest.approx(1.5 ** 2)


def test_lipgan_margin_is_reachable_by_its_embeddings():
    """ReLU'd unit embeddings are at most sqrt 2 apart: a margin beyond it is refused, and the
    default one is met (zero loss) by two orthogonal embeddings."""
    from lipgan.config import load_config
    from lipgan.models.lipgan import MAX_DISTANCE

    with pytest.raises(ConfigError, match="sqrt 2"):
        load_config("lipgan", "DATA", "RUN", None, ["margin=2"])
    margin = LipGANConfig().margin
    assert load_config("lipgan", "DATA", "RUN", None, []).margin == margin
    assert margin <= MAX_DISTANCE
    assert contrastive_loss(torch.tensor([MAX_DISTANCE]), torch.zeros(1), margin) == 0


def test_our_checkpoints_round_trip_and_wrong_files_say_what_they_are(tmp_path):
    sync = SyncNetColor(SyncNetConfig(width=TINY))
    save_model(tmp_path / "expert.pt", "syncnet", sync)
    assert load_syncnet(tmp_path / "expert.pt").config.width == TINY
    save_model(tmp_path / "lipgan.pt", "lipgan", LipGANGenerator(LipGANConfig(width=TINY)))
    assert isinstance(load_lipgan(tmp_path / "lipgan.pt"), LipGANGenerator)
    torch.save({"state_dict": SyncNetColor().state_dict()}, tmp_path / "expert.pth")
    with pytest.raises(ConfigError, match="SyncNet"):
        load_wav2lip(tmp_path / "expert.pth")
    with pytest.raises(ConfigError, match="syncnet model, not a wav2lip"):
        load_wav2lip(tmp_path / "expert.pt")
    (tmp_path / "junk.pth").write_text("not a checkpoint")
    with pytest.raises(ConfigError, match="not a loadable"):
        load_wav2lip(tmp_path / "junk.pth")
    with pytest.raises(WeightsNotFoundError):
        load_wav2lip(tmp_path / "missing.pth")
    with pytest.raises(WeightsNotFoundError, match="wav2lip"):
        load_wav2lip()  # F2F_HOME is an empty temp dir in tests


def test_melspectrogram_is_wav2lip_shaped_and_scaled():
    t = np.arange(16_000 * 2) / 16_000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    mel = melspectrogram(tone)
    assert mel.shape == (80, 1 + tone.size // 200) and mel.dtype == np.float32
    assert mel.min() >= -4 and mel.max() <= 4
    band_of_440 = int(np.argmax(mel[:, 80]))
    assert 5 <= band_of_440 <= 20  # 440 Hz sits low on a 55-7600 Hz mel axis
    assert (melspectrogram(np.zeros(3200, np.float32)) == -4).all()
    window = mel_window_for_frame(mel, 10)
    assert window.shape == (80, 16) and np.array_equal(window, mel[:, 32:48])
    tail = mel_window_for_frame(mel, 49)  # 0.2 s before the end: padded with silence
    assert tail.shape == (80, 16) and (tail[:, -1] == -4).all()


def test_melspectrogram_matches_librosa_when_installed():
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(8000)).astype(np.float32)
    emphasised = np.append(audio[0], audio[1:] - 0.97 * audio[:-1])
    spectrum = np.abs(librosa.stft(emphasised, n_fft=800, hop_length=200, win_length=800,
                                   pad_mode="reflect"))
    basis = librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600)
    db = 20 * np.log10(np.maximum(1e-5, basis @ spectrum)) - 20
    expected = np.clip(8 * (db + 100) / 100 - 4, -4, 4)
    assert np.abs(melspectrogram(audio) - expected).max() < 1e-3


def test_mfcc_heat_map_is_12_by_35_at_100_hz(grid_clip):
    from f2f.media import read_audio

    samples = read_audio(grid_clip).samples
    features = mfcc(samples)
    assert features.shape[0] == 12
    assert abs(features.shape[1] - samples.size / 160) <= 2
    assert mfcc_window_for_frame(features, 0).shape == (12, 35)
    assert mfcc_window_for_frame(features, 74).shape == (12, 35)


def test_mfcc_windows_past_the_audio_end_repeat_the_last_column():
    # A video a few frames longer than its dub audio (frame-count estimate, frozen extension)
    # used to get a short or empty slice here, which broke np.stack in the lipgan backend.
    features = np.arange(12 * 100, dtype=np.float32).reshape(12, 100)  # 1 s at 100 Hz
    for frame in (24, 30, 500):
        window = mfcc_window_for_frame(features, frame)
        assert window.shape == (12, 35)
    assert np.array_equal(mfcc_window_for_frame(features, 500), np.repeat(features[:, -1:], 35, 1))
    assert np.array_equal(mfcc_window_for_frame(features, 0)[:, 0], features[:, 0])


def test_bce_losses_run_outside_autocast(monkeypatch):
    """CUDA autocast refuses binary_cross_entropy (seen on an H100 in the wav2lip phase); the
    losses must switch autocast off themselves. Checked here with CPU autocast."""
    import torch.nn.functional as F

    from lipgan.models.discriminator import realness_loss
    from lipgan.models.syncnet import sync_loss

    real_bce = F.binary_cross_entropy

    def strict_bce(*args, **kwargs):
        assert not torch.is_autocast_enabled("cpu"), "BCE called under autocast"
        return real_bce(*args, **kwargs)

    monkeypatch.setattr(F, "binary_cross_entropy", strict_bce)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        realness_loss(torch.randn(4, 1), is_real=True)  # logits: BCE-with-logits, autocast-safe
        sync_loss(torch.randn(4, 8), torch.randn(4, 8), torch.ones(4))


def test_discriminator_logits_are_its_probabilities_before_the_sigmoid():
    from lipgan.models.discriminator import QualityDiscriminator, QualityDiscriminatorConfig

    disc = QualityDiscriminator(QualityDiscriminatorConfig(width=0.125)).eval()
    faces = torch.rand(2, 3, 96, 96)
    with torch.no_grad():
        assert torch.allclose(torch.sigmoid(disc(faces, logits=True)), disc(faces), atol=1e-6)
