"""The wav2lip and lipgan backends with randomly initialised generators (no real weights here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import torch  # noqa: E402  (a hard dependency: its absence must fail, not skip)

from f2f.artifacts import DubTrack  # noqa: E402
from f2f.errors import WeightsNotFoundError  # noqa: E402
from f2f.media import probe, read_audio  # noqa: E402
from stages.lipsync.lipgan import LipGANSync  # noqa: E402
from stages.lipsync.wav2lip import Wav2LipSync  # noqa: E402
from tests._lipsync_helpers import read_frames, video_ref, write_with_blank_middle  # noqa: E402


def _progress(fraction: float, message: str = "") -> None:
    assert 0.0 <= fraction <= 1.0


def _layout(layout_tsv: Path) -> dict[str, tuple[int, ...]]:
    """The Wav2Lip generator's state_dict keys and shapes from the shared layout table."""
    lines = layout_tsv.read_text().splitlines()
    start = lines.index("key\tshape") + 1
    table = {}
    for line in lines[start:]:
        if not line.strip() or line.startswith("#"):
            break
        key, shape = line.split("\t")
        table[key] = tuple(int(v) for v in shape.strip("[]").split(",") if v.strip())
    return table


@pytest.fixture(scope="module")
def public_style_checkpoint(tmp_path_factory) -> Path:
    """A random Wav2Lip saved exactly like the authors' files: module.-prefixed state_dict."""
    from lipgan.models.wav2lip import Wav2Lip

    torch.manual_seed(0)
    model = Wav2Lip()
    path = tmp_path_factory.mktemp("w2l") / "wav2lip_gan.pth"
    state = {"module." + k: v for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "optimizer": {}, "global_step": 0}, path)
    return path


def test_generator_matches_the_public_checkpoint_layout(data_file):
    from lipgan.models.wav2lip import Wav2Lip

    expected = _layout(data_file("wav2lip_checkpoint_layout.tsv"))
    actual = {k: tuple(v.shape) for k, v in Wav2Lip().state_dict().items()}
    assert len(expected) == 352
    assert actual == expected


def test_without_weights_it_says_why_and_how(grid_clip, tmp_path):
    backend = Wav2LipSync()
    availability = backend.availability()
    assert not availability.ok and "wav2lip_gan.pth" in availability.reason
    with pytest.raises(WeightsNotFoundError, match="lipsync.checkpoint"):
        backend.sync(video_ref(grid_clip), DubTrack(read_audio(grid_clip)), tmp_path / "o.mp4",
                     _progress)


def test_random_wav2lip_runs_the_stage_end_to_end(grid_clip, public_style_checkpoint, tmp_path,
                                                  monkeypatch):
    import lipgan.checkpoint

    reads = []
    real_read = lipgan.checkpoint.read_checkpoint
    monkeypatch.setattr(lipgan.checkpoint, "read_checkpoint",
                        lambda path: reads.append(path) or real_read(path))
    torch.set_num_threads(2)
    clip = write_with_blank_middle(grid_clip, tmp_path / "clip.mp4", range(12, 16), limit=30)
    config = Wav2LipSync.Config(checkpoint=str(public_style_checkpoint), batch_size=8)
    backend = Wav2LipSync(config)
    assert backend.availability().ok
    source = video_ref(clip)
    out = backend.sync(source, DubTrack(read_audio(grid_clip)), tmp_path / "w2l.mp4", _progress)
    info = probe(out.path)
    assert info.frame_count == source.frame_count == 30
    assert (info.width, info.height, info.fps) == (source.width, source.height, source.fps)
    before, after = read_frames(clip), read_frames(Path(out.path))
    diff = np.abs(before[5].astype(int) - after[5].astype(int)).mean(axis=2)
    assert diff[:90].mean() < 3  # above the face: untouched
    assert diff[150:260, 110:250].max() > 30  # the random generator repainted the mouth
    assert max(float(after[i].mean()) for i in range(12, 16)) < 3.0  # faceless frames pass
    assert backend.metrics["face_frames"] == 26
    assert len(reads) == 1  # the ~400 MB public file is read once, not again for its format


def test_random_lipgan_runs_the_stage_end_to_end(grid_clip, tmp_path, monkeypatch):
    from lipgan.checkpoint import save_model
    from lipgan.models.lipgan import LipGANConfig, LipGANGenerator

    torch.manual_seed(0)
    checkpoint = save_model(tmp_path / "lipgan.pt", "lipgan",
                            LipGANGenerator(LipGANConfig(width=0.25, embedding=64)))
    monkeypatch.setenv("F2F_HOME", str(tmp_path / "home"))
    assert not LipGANSync().availability().ok
    clip = write_with_blank_middle(grid_clip, tmp_path / "clip.mp4", range(0), limit=15)
    backend = LipGANSync(LipGANSync.Config(checkpoint=str(checkpoint), bf16=False))
    out = backend.sync(video_ref(clip), DubTrack(read_audio(grid_clip)), tmp_path / "lg.mp4",
                       _progress)
    assert probe(out.path).frame_count == 15


def test_lipgan_with_dub_audio_shorter_than_the_video(grid_clip, tmp_path):
    # Frames past the end of the audio get the last MFCC column repeated, not a crash.
    from f2f.artifacts import Speech
    from lipgan.checkpoint import save_model
    from lipgan.models.lipgan import LipGANConfig, LipGANGenerator

    torch.manual_seed(0)
    checkpoint = save_model(tmp_path / "lipgan.pt", "lipgan",
                            LipGANGenerator(LipGANConfig(width=0.25, embedding=64)))
    clip = write_with_blank_middle(grid_clip, tmp_path / "clip.mp4", range(0), limit=15)
    short = read_audio(grid_clip).samples[:3200]  # 0.2 s for 0.6 s of video
    backend = LipGANSync(LipGANSync.Config(checkpoint=str(checkpoint), bf16=False))
    out = backend.sync(video_ref(clip), DubTrack(Speech(short, 16000)), tmp_path / "lg.mp4",
                       _progress)
    assert probe(out.path).frame_count == 15
