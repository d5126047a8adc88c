"""The wav2lip and lipgan backends with randomly initialised generators (no real weights here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import torch  # noqa: E402  (a hard dependency: its absence must fail, not skip)

from f2f.artifacts import DubTrack, Speech  # noqa: E402
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


# ------------------------------------------------------------------------------ the shared loop

def _numbered_clip(path: Path, frames: int, size: tuple[int, int] = (96, 64)) -> Path:
    """A clip whose frame i is flat grey level 3 * i (survives H.264: order is readable)."""
    from f2f.video_writer import VideoWriter

    width, height = size
    with VideoWriter(path, 25.0, width, height) as writer:
        for i in range(frames):
            writer.write(np.full((height, width, 3), 3 * i, np.uint8))
    return path


class _Recording:
    """Inverts every frame with a face and records the frame numbers it was handed."""

    needs_landmarks = False

    def __init__(self) -> None:
        self.indices: list[int] = []

    def render(self, batch):
        self.indices += [item.index for item in batch]
        return [item.frame if item.box is None else 255 - item.frame for item in batch]


def _levels(path: Path) -> list[int]:
    return [int(round(float(f[8:-8, 8:-8].mean()))) for f in read_frames(path)]


def test_loop_keeps_every_frame_in_order_with_frozen_extensions(tmp_path):
    from f2f.artifacts import Speech, VideoExtension
    from f2f.faces import FaceBox
    from stages.lipsync._common import LoopOptions, run_lipsync

    clip = _numbered_clip(tmp_path / "numbers.mp4", 61)
    # 0.2 s frozen at 1.0 s: frame 25 is shown 5 extra times
    track = DubTrack(Speech(np.zeros(16000 * 3, np.float32), 16000),
                     extensions=(VideoExtension(at_s=1.0, duration_s=0.2),))
    renderer = _Recording()
    options = LoopOptions(box=FaceBox(0, 0, 96, 64), batch_size=4, queue_batches=1)
    out, metrics = run_lipsync(video_ref(clip), track, tmp_path / "out.mp4", _progress, renderer,
                               options, "test")
    source = list(range(61))
    expected = [255 - 3 * i for i in source[:25] + [24] * 5 + source[25:]]
    assert probe(out.path).frame_count == metrics["frames"] == 66
    assert renderer.indices == list(range(66))
    assert max(abs(a - b) for a, b in zip(_levels(Path(out.path)), expected, strict=True)) <= 2


class _InPlace(_Recording):
    """Inverts every frame it is handed the buffer of in that buffer (as viseme blends)."""

    def render(self, batch):
        self.indices += [item.index for item in batch]
        assert all(item.owned for item in batch)
        for item in batch:
            np.subtract(255, item.frame, out=item.frame)
        return [item.frame for item in batch]


def test_frozen_frames_are_their_own_buffers_for_a_renderer_drawing_in_place(tmp_path):
    from f2f.artifacts import Speech, VideoExtension
    from f2f.faces import FaceBox
    from stages.lipsync._common import LoopOptions, run_lipsync

    clip = _numbered_clip(tmp_path / "numbers.mp4", 40)
    # frame 24 frozen 5 times mid-clip, frame 39 (the last) 3 times past the end
    track = DubTrack(Speech(np.zeros(16000 * 2, np.float32), 16000),
                     extensions=(VideoExtension(at_s=1.0, duration_s=0.2),
                                 VideoExtension(at_s=9.0, duration_s=0.12)))
    options = LoopOptions(box=FaceBox(0, 0, 96, 64), batch_size=4, queue_batches=1)
    out, _ = run_lipsync(video_ref(clip), track, tmp_path / "out.mp4", _progress, _InPlace(),
                         options, "test")
    source = list(range(40))
    expected = [255 - 3 * i for i in source[:25] + [24] * 5 + source[25:] + [39] * 3]
    # a repeat sharing its original's buffer would be inverted twice (back to the source)
    assert max(abs(a - b) for a, b in zip(_levels(Path(out.path)), expected, strict=True)) <= 2


def test_loop_leaves_faceless_frames_untouched(grid_clip, tmp_path):
    from stages.lipsync._common import LoopOptions, run_lipsync

    clip = write_with_blank_middle(grid_clip, tmp_path / "clip.mp4", range(10, 14), limit=20)
    renderer = _Recording()
    out, metrics = run_lipsync(video_ref(clip), DubTrack(read_audio(grid_clip)),
                               tmp_path / "out.mp4", _progress, renderer, LoopOptions(batch_size=3),
                               "test")
    before, after = read_frames(clip), read_frames(Path(out.path))
    assert len(after) == len(before) == 20 == metrics["frames"]
    assert metrics["face_frames"] == 16
    for i in range(20):
        diff = np.abs(after[i].astype(int) - before[i].astype(int)).mean()
        if i in range(10, 14):
            assert diff < 1.0, i  # no face: passed through (black stays black)
        else:
            assert diff > 100, i  # inverted by the renderer


def test_loop_error_in_a_step_is_raised_and_leaves_no_output(tmp_path):
    from f2f.faces import FaceBox
    from stages.lipsync._common import LoopOptions, run_lipsync

    class Failing(_Recording):
        def render(self, batch):
            if batch[0].index >= 8:
                raise RuntimeError("renderer broke")
            return super().render(batch)

    clip = _numbered_clip(tmp_path / "numbers.mp4", 40)
    track = DubTrack(Speech(np.zeros(16000 * 2, np.float32), 16000))
    with pytest.raises(RuntimeError, match="renderer broke"):
        run_lipsync(video_ref(clip), track, tmp_path / "out.mp4", _progress, Failing(),
                    LoopOptions(box=FaceBox(0, 0, 96, 64), batch_size=4), "test")
    assert not (tmp_path / "out.mp4").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["numbers.mp4"]


def test_fixed_box_option_parses_wav2lip_order():
    from f2f.errors import ConfigError
    from f2f.faces import FaceBox
    from stages.lipsync._common import parse_box

    assert parse_box("125,264,96,225") == FaceBox(96, 125, 225, 264)  # top,bottom,left,right
    assert parse_box("") is None
    for bad in ("1,2,3", "10,5,0,20", "a,b,c,d"):
        with pytest.raises(ConfigError, match="top,bottom,left,right|top < bottom"):
            parse_box(bad)
