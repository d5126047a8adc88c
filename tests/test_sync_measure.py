"""The weights-free audio-visual sync measure on real GRID clips and shifted audio."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eval.sync import main_sync, measure_sync, sync_from_signals
from f2f.artifacts import Speech
from f2f.errors import NoFaceError
from f2f.media import read_audio
from tests._lipsync_helpers import write_with_blank_middle


def _delayed(audio: Speech, frames: int, fps: float = 25.0) -> Speech:
    pad = np.zeros(int(round(frames / fps * audio.sample_rate)), np.float32)
    return Speech(np.concatenate([pad, audio.samples]), audio.sample_rate)


@pytest.mark.parametrize("name", ["bbaf2n.mpg", "lwbsza.mpg", "sbwe5n.mpg"])
def test_real_clips_are_in_sync_and_shifted_audio_is_found(grid_dir, name):
    clip = grid_dir / name
    audio = read_audio(clip)
    own = measure_sync(clip, audio)
    assert abs(own.offset_frames) <= 2
    assert own.confidence > 0.2 and own.face_frames == own.frames == 75
    shifted = measure_sync(clip, _delayed(audio, 5))
    assert abs(shifted.offset_frames - 5) <= 2


def test_cli_prints_json(grid_clip, capsys):
    assert main_sync([str(grid_clip), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"offset_frames", "confidence"}
    assert abs(result["offset_frames"]) <= 2


def test_no_face_is_a_clear_error(grid_clip, tmp_path, capsys):
    blank = write_with_blank_middle(grid_clip, tmp_path / "blank.mp4", range(0, 20), limit=20)
    with pytest.raises(NoFaceError, match="face"):
        measure_sync(blank, read_audio(grid_clip))
    assert main_sync([str(blank), "--audio", str(grid_clip)]) == NoFaceError.exit_code
    assert "face" in capsys.readouterr().err


def test_signals_with_a_known_lag():
    rng = np.random.default_rng(0)
    mouth = np.convolve(rng.standard_normal(200), np.ones(3) / 3, mode="same")
    envelope = np.concatenate([np.zeros(4), mouth[:-4]])  # audio 4 frames late
    result = sync_from_signals(mouth, envelope, fps=25.0)
    assert result.offset_frames == 4 and len(result.correlations) == 31
