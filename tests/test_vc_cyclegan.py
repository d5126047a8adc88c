"""CycleGAN-VC: a few training steps lower the losses, checkpoints reload and resume, a residual
model starts as the identity (so the backend's untrained result is `world`'s) and stops early,
the backend caches per speaker and falls back to world with too little speech."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from f2f.artifacts import SegmentSpeech, Speech, SpeechSegments
from f2f.registry import get_backend_class

import pyworld  # noqa: E402,F401  (hard dependencies: their absence must fail)
import torch  # noqa: E402

TINY = dict(channels=8, residual_blocks=1, disc_channels=4, segment_frames=32, batch_size=4,
            mcep_dims=12, checkpoint_every=10)


def _pools() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(400)[:, None] * 0.1
    source = np.sin(t + np.arange(12)) + 0.1 * rng.normal(size=(400, 12))
    target = np.cos(0.5 * t + np.arange(12)) + 0.1 * rng.normal(size=(400, 12))
    return source, target


def test_a_few_steps_lower_the_losses_and_the_checkpoint_reloads(tmp_path: Path) -> None:
    from stages.vc._cyclegan_model import CycleGAN, CycleGANConfig, train

    torch.set_num_threads(1)
    config = CycleGANConfig(**TINY)
    source, target = _pools()
    path = tmp_path / "model.pt"
    model = train(CycleGAN.create(config), source, target, 60, path)
    history = model.history
    first = np.mean([h["cycle"] + h["identity"] for h in history[:5]])
    last = np.mean([h["cycle"] + h["identity"] for h in history[-5:]])
    assert last < 0.8 * first
    reloaded = CycleGAN.load(path)
    assert reloaded.step == 60 and len(reloaded.history) == 60
    probe = source[:50]
    assert np.allclose(reloaded.convert(probe), model.convert(probe), atol=1e-5)
    # resume: training on from the checkpoint continues the step count
    resumed = train(reloaded, source, target, 70, path)
    assert resumed.step == 70 and CycleGAN.load(path).step == 70


def test_residual_model_starts_as_identity_and_stops_early(tmp_path: Path) -> None:
    from stages.vc._cyclegan_model import CycleGAN, CycleGANConfig, train

    torch.set_num_threads(1)
    config = CycleGANConfig(**TINY, residual=True, stay_weight=1.0, patience=10,
                            min_steps=20)
    source, target = _pools()
    model = CycleGAN.create(config)
    assert np.allclose(model.convert(source[:40]), source[:40], atol=1e-6)
    path = tmp_path / "model.pt"
    train(model, source, target, 400, path)
    assert model.stopped_early and 20 <= model.step < 400
    assert not np.allclose(model.convert(source[:40]), source[:40], atol=1e-6)  # it learned
    reloaded = CycleGAN.load(path)
    assert reloaded.stopped_early and reloaded.step == model.step
    assert train(reloaded, source, target, 500, path).step == model.step  # converged: no more


def test_untrained_correction_reproduces_world(grid_clip: Path) -> None:
    from f2f.media import read_audio
    from stages.vc import world_features as wf
    from stages.vc._cyclegan_model import CycleGAN
    from stages.vc.cyclegan import VoiceMapping, _model_config, convert_clip
    from stages.vc.world import map_voice

    cls = get_backend_class("vc", "cyclegan")
    config = cls.Config(channels=8, residual_blocks=1, spectral_strength=0.5)
    tts = _speech_segments(grid_clip).segments[0].speech
    source = wf.analyze(tts, config.mapping_mcep_dims)
    target = wf.analyze(read_audio(grid_clip), config.mapping_mcep_dims)
    mapping = VoiceMapping.fit([source], [target], config)
    model = CycleGAN.create(_model_config(config))
    model.extra = {"mapping": mapping.to_dict()}
    ours = convert_clip(model, source, tts.samples)
    world = map_voice(wf.warp_features(source, mapping.formant_warp), mapping.source,
                      mapping.target, 0.5, tts.samples)
    assert np.allclose(ours, world, atol=1e-4)


def _speech_segments(clip: Path) -> SpeechSegments:
    from f2f.artifacts import TranslatedSegment, Translation

    translation = Translation("en", "hi", (
        TranslatedSegment(0, "", "नीला रंग अभी दो पर रखो", 0.0, 3.0),
        TranslatedSegment(1, "", "", 3.0, 3.2)))
    return get_backend_class("tts", "espeak")().synthesize(translation, lambda f, m: None)


def test_backend_trains_caches_and_converts(grid_clip: Path, tmp_path: Path) -> None:
    from f2f.media import read_audio

    cls = get_backend_class("vc", "cyclegan")
    config = cls.Config(steps=6, channels=8, residual_blocks=1)
    tts, reference = _speech_segments(grid_clip), read_audio(grid_clip)
    events: list[str] = []
    vc = cls(config)
    out = vc.convert(tts, reference, tmp_path, lambda f, m: events.append(m))
    assert vc.metrics["trained_steps"] == 6 and "fallback" not in vc.metrics
    assert vc.metrics["target_clips"] == 1
    assert any("training CycleGAN-VC" in e for e in events)
    assert [s.id for s in out.segments] == [0, 1]
    assert out.segments[0].phonemes == tts.segments[0].phonemes
    assert out.segments[0].speech.samples.any()
    assert len(list(tmp_path.glob("cyclegan-*/cyclegan.pt"))) == 1
    events.clear()
    cls(config).convert(tts, reference, tmp_path, lambda f, m: events.append(m))
    assert not any("training" in e for e in events)  # cached: no training the second time


def test_extra_target_clips_add_speaker_speech(shared_dir: Path, tmp_path: Path) -> None:
    from f2f.media import read_audio

    clips = sorted((shared_dir / "grid" / "s1").glob("*.mpg"))[:2]
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / clips[1].name).symlink_to(clips[1])
    cls = get_backend_class("vc", "cyclegan")
    tts, reference = _speech_segments(clips[0]), read_audio(clips[0])
    speech_s = []
    for folder in ("", str(extra)):
        vc = cls(cls.Config(steps=2, channels=8, residual_blocks=1,
                            extra_target_dir=folder))
        vc.convert(tts, reference, tmp_path / "cache", lambda f, m: None)
        speech_s.append(vc.metrics["reference_speech_s"])
    assert vc.metrics["target_clips"] == 2 and speech_s[1] > speech_s[0]


def test_too_little_speaker_speech_falls_back_to_world(grid_clip: Path, tmp_path: Path) -> None:
    from f2f.media import read_audio

    cls = get_backend_class("vc", "cyclegan")
    vc = cls(cls.Config(min_target_speech_s=60.0))
    out = vc.convert(_speech_segments(grid_clip), read_audio(grid_clip), tmp_path,
                     lambda f, m: None)
    assert vc.metrics["fallback"].startswith("world:") and out.backend == "world"


def test_train_cli_trains_from_two_folders(tmp_path: Path) -> None:
    from stages.vc.cyclegan import CHECKPOINT, train_cli

    rate = 16_000
    t = np.arange(rate) / rate
    for folder, hz in (("src", 110.0), ("tgt", 210.0)):
        (tmp_path / folder).mkdir()
        for i in range(2):
            tone = 0.3 * np.sin(2 * np.pi * (hz + 10 * i) * t) * (1 + 0.5 * np.sin(3 * t))
            Speech(tone.astype(np.float32), rate).save_wav(tmp_path / folder / f"{i}.wav")
    code = train_cli([str(tmp_path / "src"), str(tmp_path / "tgt"), "--out",
                      str(tmp_path / "model"), "--steps", "3", "--channels", "8",
                      "--residual-blocks", "1"])
    assert code == 0 and (tmp_path / "model" / CHECKPOINT).is_file()
    assert train_cli([str(tmp_path / "nope"), str(tmp_path / "tgt"), "--out",
                      str(tmp_path / "m2")]) != 0
    cls = get_backend_class("vc", "cyclegan")
    tone = Speech((0.3 * np.sin(2 * np.pi * 120 * t)).astype(np.float32), rate)
    vc = cls(dataclasses.replace(cls.Config(), model_path=str(tmp_path / "model"),
                                 channels=8, residual_blocks=1))
    out = vc.convert(SpeechSegments((SegmentSpeech(0, "x", tone),)), tone, tmp_path,
                     lambda f, m: None)
    assert out.segments[0].speech.sample_rate == 16_000 and vc.metrics["trained_steps"] == 3
