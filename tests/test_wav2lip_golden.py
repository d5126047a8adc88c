"""f2f's own wav2lip data path reproduces what the reference Wav2Lip `inference.py` computes.

`$F2F_SHARED/data/wav2lip_golden/` (see its README) holds the reference's mel, mel-window starts,
generator inputs of two frames and fp32 outputs for GRID bbaf2n with a fixed box and a seeded
random generator. Here the whole `wav2lip` stage runs on that clip with `box=` and `bf16=false`:
its decode, mel front end, crop, channel order, mask and batching, not a copy of the reference.
What its generator is fed and returns is recorded by wrapping the model, and compared.

Tolerances sit between fp32 noise (~1e-6) and the smallest mistake the golden README measured
(a mel window one frame late: 0.0016 mean, 0.023 max on the outputs). The second test proves it:
wrong golden files made by breaking this path three ways (RGB for BGR, the upper half masked, every
mel window one frame late) must each fail the comparison.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("cv2")

from f2f.artifacts import DubTrack  # noqa: E402
from f2f.media import iter_frames, read_audio  # noqa: E402
from tests._lipsync_helpers import video_ref  # noqa: E402

# max |f2f - reference| allowed per array; pred: also the mean
TOLERANCE = {"mel": 1e-4, "mel_input_first2": 1e-4, "face_input_first2": 1e-6,
             "pred_first16": 1e-3, "pred_mean_per_frame": 1e-4}
PRED_MEAN_TOLERANCE = 2e-5


@pytest.fixture(scope="module")
def golden_dir(shared_dir: Path) -> Path:
    folder = shared_dir / "wav2lip_golden"
    if not (folder / "golden.npz").is_file():
        pytest.skip(f"no golden data at {folder}")
    return folder


@pytest.fixture(scope="module")
def golden_checkpoint(golden_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded random generator the golden outputs were made with (rebuilt, ~150 MB)."""
    out = tmp_path_factory.mktemp("golden") / "wav2lip_golden.pth"
    subprocess.run([sys.executable, str(golden_dir / "make_checkpoint.py"), str(out)], check=True,
                   capture_output=True)
    return out


def f2f_wav2lip_path(golden_dir: Path, checkpoint: Path, out_dir: Path,
                     monkeypatch: pytest.MonkeyPatch, channels: str = "auto"
                     ) -> dict[str, np.ndarray]:
    """Runs the `wav2lip` stage on the golden clip and box; returns the golden file's arrays."""
    import lipgan.audio
    import lipgan.checkpoint
    from stages.lipsync.wav2lip import Wav2LipSync

    golden = np.load(golden_dir / "golden.npz")
    clip = golden_dir.parent / "grid" / "bbaf2n.mpg"
    top, bottom, left, right = (int(v) for v in golden["box_y1_y2_x1_x2"])
    seen: dict[str, list[np.ndarray]] = {"audio": [], "faces": [], "pred": [], "mel": []}

    real_load = lipgan.checkpoint.model_from_checkpoint

    def recording_model(*args, **kwargs):
        model = real_load(*args, **kwargs)

        def record(module, inputs, output):
            seen["audio"].append(inputs[0].detach().float().cpu().numpy())
            seen["faces"].append(inputs[1].detach().float().cpu().numpy())
            seen["pred"].append(output.detach().float().cpu().numpy())

        model.register_forward_hook(record)
        return model

    real_mel = lipgan.audio.melspectrogram

    def recording_mel(*args, **kwargs):
        mel = real_mel(*args, **kwargs)
        seen["mel"].append(mel)
        return mel

    monkeypatch.setattr(lipgan.checkpoint, "model_from_checkpoint", recording_model)
    monkeypatch.setattr(lipgan.audio, "melspectrogram", recording_mel)
    torch.set_num_threads(2)
    config = Wav2LipSync.Config(checkpoint=str(checkpoint), box=f"{top},{bottom},{left},{right}",
                                bf16=False, batch_size=16, channels=channels)
    video = video_ref(clip)
    Wav2LipSync(config).sync(video, DubTrack(read_audio(golden_dir / "audio_16k.wav")),
                             out_dir / "out.mp4", lambda fraction, message="": None)
    monkeypatch.undo()

    frames = np.stack(list(iter_frames(clip, video.fps, video.width, video.height)))
    bgr = np.ascontiguousarray(frames[..., ::-1])
    audio, faces = np.concatenate(seen["audio"]), np.concatenate(seen["faces"])
    pred = np.concatenate(seen["pred"])
    (mel,) = seen["mel"]
    return {"mel": mel, "mel_starts": _window_starts(mel, audio[:, 0]),
            "fps": np.float64(video.fps),
            "face_input_first2": faces[:2], "mel_input_first2": audio[:2],
            "pred_first16": pred[:16], "pred_mean_per_frame": pred.mean(axis=(1, 2, 3)),
            "frames_sha256": np.str_(hashlib.sha256(bgr.tobytes()).hexdigest()),
            "frames_shape": np.array(bgr.shape)}


def _window_starts(mel: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Where in `mel` each (80, 16) window the generator was fed starts; -1: not a mel slice
    (f2f pads the windows that run past the end)."""
    width = windows.shape[-1]
    starts = []
    for window in windows:
        matches = [s for s in range(mel.shape[1] - width + 1)
                   if np.array_equal(mel[:, s:s + width], window)]
        starts.append(matches[0] if matches else -1)
    return np.array(starts)


def mismatches(golden: dict[str, np.ndarray], ours: dict[str, np.ndarray]) -> list[str]:
    """Every way `ours` departs from `golden` beyond the tolerances; [] when it reproduces it."""
    problems = []
    for key in ("frames_sha256", "frames_shape", "fps"):
        if not np.array_equal(golden[key], ours[key]):
            problems.append(f"{key}: {golden[key]} != {ours[key]}")
    # The reference stops at its last full window (71 for 75 frames) and clamps that one to the
    # mel's end; f2f renders every frame, padding late windows with silence. So the windows must
    # agree wherever both are mel slices, which is all but the reference's last one.
    starts, reference = ours["mel_starts"], golden["mel_starts"]
    full = int((starts >= 0).sum())
    if full < len(reference) - 1 or not np.array_equal(starts[:len(reference) - 1],
                                                       reference[:-1]):
        problems.append(f"mel_starts: {starts[:len(reference)].tolist()} != "
                        f"{reference.tolist()}")
    compared = {"pred_mean_per_frame": slice(0, len(reference) - 1)}
    for key, tolerance in TOLERANCE.items():
        part = compared.get(key, slice(None))
        a, b = golden[key][part], ours[key][part]
        if a.shape != b.shape:
            problems.append(f"{key}: shape {a.shape} != {b.shape}")
            continue
        error = float(np.abs(a - b).max())
        if error > tolerance:
            problems.append(f"{key}: max |difference| {error:.2e} > {tolerance:.0e}")
    mean_error = float(np.abs(golden["pred_first16"] - ours["pred_first16"]).mean())
    if mean_error > PRED_MEAN_TOLERANCE:
        problems.append(f"pred_first16: mean |difference| {mean_error:.2e} > "
                        f"{PRED_MEAN_TOLERANCE:.0e}")
    return problems


@pytest.fixture(scope="module")
def ours(golden_dir, golden_checkpoint, tmp_path_factory) -> dict[str, np.ndarray]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return f2f_wav2lip_path(golden_dir, golden_checkpoint, tmp_path_factory.mktemp("w2l"),
                                monkeypatch)


def test_f2f_reproduces_the_reference_wav2lip_data_path(golden_dir, ours):
    golden = dict(np.load(golden_dir / "golden.npz"))
    assert mismatches(golden, ours) == []
    assert len(ours["pred_mean_per_frame"]) == 75  # and, unlike the reference, every frame


def _upper_half_masked(faces):
    masked = faces.copy()
    masked[..., :faces.shape[-2] // 2, :] = 0
    return masked


def _one_mel_frame_late(real: Callable[[int, float], int]) -> Callable[[int, float], int]:
    return lambda frame_index, fps=25.0: real(frame_index, fps) + 1


@pytest.mark.parametrize("mistake", ["rgb_for_bgr", "upper_half_masked", "mel_one_frame_late"])
def test_golden_files_from_a_wrong_data_path_fail(mistake, golden_dir, golden_checkpoint, ours,
                                                  tmp_path, monkeypatch):
    import lipgan.audio
    import stages.lipsync._crop_model

    channels = "auto"
    if mistake == "rgb_for_bgr":
        channels = "rgb"
    elif mistake == "upper_half_masked":
        monkeypatch.setattr(stages.lipsync._crop_model, "mask_lower_half", _upper_half_masked)
    else:
        monkeypatch.setattr(lipgan.audio, "mel_window_start",
                            _one_mel_frame_late(lipgan.audio.mel_window_start))
    wrong = f2f_wav2lip_path(golden_dir, golden_checkpoint, tmp_path, monkeypatch, channels)
    wrong_file = tmp_path / f"golden_{mistake}.npz"
    np.savez(wrong_file, **wrong)
    problems = mismatches(dict(np.load(wrong_file)), ours)
    assert any(p.startswith("pred_first16") for p in problems), problems
    expected = {"rgb_for_bgr": "face_input_first2", "upper_half_masked": "face_input_first2",
                "mel_one_frame_late": "mel_starts"}[mistake]
    assert any(p.startswith(expected) for p in problems), problems


def test_frozen_mel_filters_are_librosas():
    librosa = pytest.importorskip("librosa")
    from lipgan.audio import FROZEN_FILTERS, mel_filterbank

    for sample_rate, n_fft, n_mels, fmin, fmax in FROZEN_FILTERS:
        expected = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
                                       fmax=fmax)
        frozen = mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax)
        assert np.abs(frozen - expected).max() < 1e-7
