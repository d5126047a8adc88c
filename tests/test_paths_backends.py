"""Backends nobody had driven through `translate_video`: LipGAN lip sync, CycleGAN-VC and MMS
TTS feeding lip sync, each with a tiny model built here, on a real GRID clip.

ASR and MT are the in-test stand-ins of test_pipeline (these tests are about the later stages);
TTS is the real eSpeak unless MMS is under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from f2f import media
from f2f.config import load_config
from f2f.pipeline import BackendPool, translate_video
from test_pipeline import CALLS  # noqa: F401  (importing it registers test-asr and test-mt)
from test_tts_mms import tiny_mms as tiny_mms  # noqa: F401  (a fixture, used by name)

FRONT = ["asr=test-asr", "mt=test-mt"]


def _run(clip: Path, out: Path, sets: list[str]):
    config = load_config(sets=[*FRONT, *sets])
    return translate_video(clip, out, config, workdir=out.parent / "work", pool=BackendPool())


def _frames(path: Path | str) -> list[np.ndarray]:
    info = media.probe(path)
    return list(media.iter_frames(path, info.fps, info.width, info.height))


def test_lipgan_through_translate_video(grid_clip: Path, tmp_path: Path) -> None:
    from lipgan.checkpoint import save_model
    from lipgan.models.lipgan import LipGANConfig, LipGANGenerator

    torch.manual_seed(0)
    checkpoint = save_model(tmp_path / "lipgan.pt", "lipgan",
                            LipGANGenerator(LipGANConfig(width=0.25, embedding=64)))
    result = _run(grid_clip, tmp_path / "lg.mp4",
                  ["tts=espeak", "vc=none", "lipsync=lipgan",
                   f"lipsync.checkpoint={checkpoint.as_posix()!r}", "lipsync.bf16=false"])
    step = result.report.step("lipsync")
    assert step is not None and step.backend == "lipgan" and not step.cached
    assert step.metrics["face_coverage"] > 0.9 and step.metrics["checkpoint"] == str(checkpoint)
    out, source = _frames(result.outputs["video"]), _frames(grid_clip)
    extra = round(result.track.extension_s * 25) if result.track else 0
    assert len(out) == len(source) + extra
    # the random generator repainted the mouth: the lower face changed, the top rows did not
    changed = np.abs(out[30].astype(int) - source[30].astype(int))
    assert changed[150:260, 120:240].mean() > 2.0 > changed[:40].mean()


def test_cyclegan_vc_through_translate_video(grid_clip: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    tiny = ["vc.channels=8", "vc.residual_blocks=1", "vc.disc_channels=4", "vc.steps=12",
            "vc.min_steps=4", "vc.patience=4", "vc.segment_frames=32", "vc.mcep_dims=12",
            "vc.min_target_speech_s=0.5"]
    result = _run(grid_clip, tmp_path / "cg.mp4",
                  ["tts=espeak", "vc=cyclegan", *tiny, "lipsync=none"])
    step = result.report.step("vc")
    assert step is not None and step.backend == "cyclegan"
    assert "fallback" not in step.metrics, step.metrics  # CycleGAN itself ran
    assert 4 <= step.metrics["trained_steps"] <= 12
    assert result.vc is not None and result.tts is not None
    converted = result.vc.segments[0].speech.samples
    assert np.isfinite(converted).all() and np.abs(converted).max() > 0.01
    assert media.probe(result.outputs["video"]).has_audio


def test_mms_speech_drives_the_lip_sync(grid_clip: Path, tmp_path: Path,
                                        tiny_mms: Path) -> None:
    result = _run(grid_clip, tmp_path / "mms.mp4",
                  ["tts=mms", f"tts.model_path={tiny_mms.as_posix()!r}", "vc=none",
                   "lipsync=viseme", "lipsync.driver=phonemes"])
    tts, lips = result.report.step("tts"), result.report.step("lipsync")
    assert tts is not None and tts.backend == "mms"
    assert result.track is not None and result.track.phonemes  # MMS's per-letter timings
    assert lips is not None and lips.metrics["driver"].startswith("phoneme visemes")
    assert lips.metrics["face_coverage"] > 0.9
    assert media.probe(result.outputs["video"]).frame_count >= 75
