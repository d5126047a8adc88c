"""The shipped SyncNet judge: its file is the pinned one, it is loaded in the colour order it was
trained on, and on a GRID speaker it never saw it finds real audio in sync and shifted audio
shifted."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from eval.judge import JUDGE_SHA256, JUDGE_SPEC, VAL_SPEAKERS, load_expert, load_judge
from eval.lips import Wav2LipExpert, lse
from f2f.artifacts import Speech
from f2f.errors import WeightsNotFoundError
from f2f.media import read_audio
from f2f.weights import file_sha256, resolve
from lipgan.checkpoint import save_model
from lipgan.models.syncnet import SyncNetColor, SyncNetConfig, expert_windows

SHIPPED = Path(__file__).resolve().parent.parent / "eval" / "data" / "syncnet_grid.pt"
CLIP = "s29/bgak6n.webm"  # speaker s29: validation only, never in the judge's training data


def test_the_shipped_judge_is_the_pinned_file(tmp_path: Path) -> None:
    assert SHIPPED.is_file() and SHIPPED.stat().st_size < 8_000_000
    assert len(JUDGE_SHA256) == 64 and file_sha256(SHIPPED) == JUDGE_SHA256
    assert resolve(JUDGE_SPEC) == SHIPPED
    corrupt = tmp_path / "syncnet_grid.pt"
    shutil.copyfile(SHIPPED, corrupt)
    with corrupt.open("r+b") as handle:
        handle.seek(2000)
        handle.write(b"\x00" * 16)
    with pytest.raises(WeightsNotFoundError, match="SHA-256"):
        load_judge(corrupt)


def test_lse_uses_the_judge_by_default() -> None:
    assert load_expert().name == "judge:syncnet_grid.pt"


def test_our_experts_see_rgb_and_the_public_one_bgr(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = SyncNetColor(SyncNetConfig(width=0.0625, compact=True))
    ours = save_model(tmp_path / "ours.pt", "syncnet", model)
    public = tmp_path / "lipsync_expert.pth"  # the public file's layout: no lipgan format tag
    torch.save({"state_dict": {f"module.{k}": v for k, v in SyncNetColor().state_dict().items()},
                "global_step": 1}, public)
    assert not Wav2LipExpert.load(ours).bgr and Wav2LipExpert.load(public).bgr
    assert not load_judge().bgr
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, size=(9, 96, 96, 3), dtype=np.uint8)
    faces[..., 0] = 255  # a red image: its BGR reading is blue, so the two must differ
    audio = Speech(rng.normal(size=16_000).astype(np.float32) * 0.1, 16_000)
    rgb = Wav2LipExpert(model, bgr=False).features(faces, audio, 25.0)[0]
    bgr = Wav2LipExpert(model, bgr=True).features(faces, audio, 25.0)[0]
    swapped = Wav2LipExpert(model, bgr=False).features(faces[..., ::-1].copy(), audio, 25.0)[0]
    assert np.allclose(bgr, swapped, atol=1e-5) and not np.allclose(rgb, bgr, atol=1e-3)


def test_expert_windows_stack_five_lower_halves_frame_major() -> None:
    faces = torch.rand(7, 96, 96, 3)
    windows = expert_windows(faces)
    assert windows.shape == (3, 15, 48, 96)
    for start in range(3):
        for t in range(5):
            for c in range(3):
                assert torch.equal(windows[start, 3 * t + c], faces[start + t, 48:, :, c])


@pytest.fixture(scope="module")
def judge_and_clip(shared_dir: Path):
    clip = shared_dir / "grid" / CLIP
    assert clip.parent.name in VAL_SPEAKERS
    return load_judge(), clip


def test_the_judge_finds_real_audio_in_sync(judge_and_clip) -> None:
    judge, clip = judge_and_clip
    real = lse(clip, judge)
    assert abs(real.offset_frames) <= 1, real.summary()
    other = read_audio(clip.parent.parent / "s2" / "bbil4a.webm")
    wrong = lse(clip, judge, other)
    assert real.lse_c > wrong.lse_c + 0.05, (real.summary(), wrong.summary())


@pytest.mark.parametrize("shift_frames", [-6, 6])
def test_the_judge_sees_audio_shifted_against_the_video(judge_and_clip, shift_frames) -> None:
    judge, clip = judge_and_clip
    audio = read_audio(clip)
    samples = int(round(abs(shift_frames) * audio.sample_rate / 25))
    moved = audio.samples
    if shift_frames > 0:  # the audio comes later than the faces
        moved = np.concatenate((np.zeros(samples, np.float32), moved))[:audio.samples.size]
    else:
        moved = np.concatenate((moved[samples:], np.zeros(samples, np.float32)))
    shifted = lse(clip, judge, Speech(moved, audio.sample_rate))
    real = lse(clip, judge)
    # the protocol's sign: audio k frames late moves the offset by -k
    assert abs(shifted.offset_frames - real.offset_frames + shift_frames) <= 1, \
        (real.summary(), shifted.summary())


def test_the_conditions_verdict_is_the_judge_not_loudness() -> None:
    """A lip sync that only raises the loudness correlation (what viseme injects) fails."""
    from eval.conditions import ConditionResult, ConditionsRun, choose_conditions, sanity_checks

    dubbed, synced = choose_conditions(["tts_vc", "tts_vc_lipsync"])
    run = ConditionsRun("clip.mp4", [
        ConditionResult(dubbed, metrics={"sync_confidence": 0.2, "lse_c": 0.30}),
        ConditionResult(synced, metrics={"sync_confidence": 0.6, "lse_c": 0.25})])
    checks = sanity_checks(run)
    assert len(checks) == 1 and checks[0].startswith("FAIL") and "LSE-C" in checks[0]
    run.results[1].metrics["lse_c"] = 0.35
    assert sanity_checks(run)[0].startswith("PASS")
