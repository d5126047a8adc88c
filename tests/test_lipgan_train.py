"""lipgan data preparation and training: GRID-derived data, loss goes down, exact resume, DDP."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lipgan.data import Augment, LipGANDataset, SyncDataset, Wav2LipDataset
from lipgan.preprocess import PreprocessConfig, preprocess
from lipgan.train import PHASE_TYPES, Runtime, load_config, train

REPO = Path(__file__).resolve().parent.parent
TINY = ["width=0.125", "embedding=32", "tensorboard=false", "log_every=1"]


@pytest.fixture(scope="module")
def grid_data(shared_dir, tmp_path_factory) -> Path:
    """Three GRID clips preprocessed (two train, one val) plus a corrupt file."""
    inputs = tmp_path_factory.mktemp("videos")
    for name in ("s1/bbaf3s.mpg", "s1/bbas3a.mpg", "bbaf2n.mpg"):
        (inputs / Path(name).name).symlink_to(shared_dir / "grid" / name)
    (inputs / "broken.mp4").write_bytes(b"\x00not a video" * 100)
    out = tmp_path_factory.mktemp("data")
    summary = preprocess([inputs], out, PreprocessConfig(val_fraction=0.0))
    assert summary["failed"] == 1 and summary["processed"] == 3
    again = preprocess([inputs], out, PreprocessConfig(val_fraction=0.0))  # resumes
    assert again["already_done"] == 3 and again["processed"] == 0 and again["failed"] == 1
    (out / "train.txt").write_text("bbaf3s\nbbas3a\n")
    (out / "val.txt").write_text("bbaf2n\n")
    return out


def test_preprocess_lists_failures_and_resumes(grid_data):
    failed = (grid_data / "failed.tsv").read_text().splitlines()
    assert len(failed) == 2 and failed[1].startswith("broken")
    faces = np.load(grid_data / "clips" / "bbaf2n" / "faces.npy")
    assert faces.shape == (75, 96, 96, 3) and faces.dtype == np.uint8
    assert faces.std() > 10  # real image content, not a blank crop


def test_datasets_are_deterministic_per_index_and_shaped(grid_data):
    sync = SyncDataset(grid_data, "train", seed=3)
    first, again = sync[11], sync[11]
    assert first["faces"].shape == (15, 48, 96) and first["audio"].shape == (1, 80, 16)
    assert torch.equal(first["faces"], again["faces"]) and torch.equal(first["audio"],
                                                                       again["audio"])
    labels = {float(sync[i]["synced"]) for i in range(12)}
    assert labels == {0.0, 1.0}
    w2l = Wav2LipDataset(grid_data, "train")[0]
    assert w2l["faces"].shape == (6, 5, 96, 96) and w2l["audio"].shape == (5, 1, 80, 16)
    assert (w2l["faces"][:3, :, 48:] == 0).all() and w2l["target"].shape == (3, 5, 96, 96)
    lipgan = LipGANDataset(grid_data, "train")[0]
    assert lipgan["faces"].shape == (6, 96, 96) and lipgan["audio"].shape == (1, 12, 35)
    assert lipgan["negative"].shape == lipgan["target"].shape == (3, 96, 96)


@pytest.mark.parametrize("phase, metric", [("syncnet", "loss"), ("lipgan", "l1"),
                                           ("wav2lip", "l1")])
def test_a_few_steps_lower_the_loss(grid_data, phase, metric):
    torch.manual_seed(0)
    config = load_config(phase, str(grid_data), "unused", None,
                         [*TINY, "augment=false", "lr=0.001"])
    trainer = PHASE_TYPES[phase](config, Runtime(torch.device("cpu")))
    dataset = {"syncnet": SyncDataset, "lipgan": LipGANDataset, "wav2lip": Wav2LipDataset}[phase]
    batch = torch.utils.data.default_collate([dataset(grid_data, "train")[i] for i in range(4)])
    # LipGAN's L1 first wobbles while its contrastive discriminator settles, then falls
    steps = 30 if phase == "lipgan" else 8
    losses = [trainer.step(batch)[metric] for _ in range(steps)]
    assert sum(losses[-3:]) / 3 < losses[0], losses


def _losses(run: Path) -> dict[int, str]:
    with (run / "log.csv").open() as handle:
        return {int(r["step"]): r["value"] for r in csv.DictReader(handle)
                if r["split"] == "train" and r["name"] == "loss"}


def test_resume_gives_the_same_next_step_loss(grid_data, tmp_path):
    common = [*TINY, "batch_size=3", "eval_every=2", "eval_samples=3", "save_every=2"]
    train(load_config("syncnet", str(grid_data), str(tmp_path / "straight"), None,
                      [*common, "max_steps=4"]))
    train(load_config("syncnet", str(grid_data), str(tmp_path / "resumed"), None,
                      [*common, "max_steps=2"]))
    train(load_config("syncnet", str(grid_data), str(tmp_path / "resumed"), None,
                      [*common, "max_steps=4"]))
    straight, resumed = _losses(tmp_path / "straight"), _losses(tmp_path / "resumed")
    assert sorted(resumed) == [1, 2, 3, 4]
    assert resumed[3] == straight[3] and resumed[4] == straight[4]
    saved = torch.load(tmp_path / "resumed" / "last.pt", weights_only=True)
    assert saved["step"] == 4 and saved["train_config"]["max_steps"] == 4


def _train_rows(run: Path, name: str) -> dict[int, float]:
    with (run / "log.csv").open() as handle:
        return {int(r["step"]): float(r["value"]) for r in csv.DictReader(handle)
                if r["split"] == "train" and r["name"] == name}


@pytest.fixture(scope="module")
def tiny_expert(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("expert")
    train(load_config("syncnet", None, str(run), None,
                      [*TINY, "synthetic=true", "batch_size=2", "max_steps=1", "eval_every=0"]))
    return run / "last.pt"


def test_sync_loss_switches_on_once_validation_sync_loss_is_below_threshold(tiny_expert,
                                                                            tmp_path):
    common = [*TINY, "synthetic=true", "batch_size=1", "eval_every=2", "eval_samples=1",
              "save_every=2", "disc_weight=0", f"expert={tiny_expert}"]
    # a BCE is never below 0: the sync loss stays off for the whole run
    never = tmp_path / "never"
    train(load_config("wav2lip", None, str(never), None,
                      [*common, "max_steps=4", "sync_loss_start_threshold=0"]))
    assert set(_train_rows(never, "sync_weight").values()) == {0.0}
    assert set(_train_rows(never, "sync").values()) == {0.0}
    # any loss is below 1e9: off for steps 1-2, on after the validation at step 2
    straight = tmp_path / "straight"
    train(load_config("wav2lip", None, str(straight), None,
                      [*common, "max_steps=4", "sync_loss_start_threshold=1e9"]))
    weights = _train_rows(straight, "sync_weight")
    assert weights == {1: 0.0, 2: 0.0, 3: 0.03, 4: 0.03}
    assert all(v > 0 for step, v in _train_rows(straight, "sync").items() if step > 2)
    # the switch is saved and restored: a resumed run continues with the sync loss on, exactly
    resumed = tmp_path / "resumed"
    for steps in (2, 4):
        train(load_config("wav2lip", None, str(resumed), None,
                          [*common, f"max_steps={steps}", "sync_loss_start_threshold=1e9"]))
    assert torch.load(resumed / "last.pt", weights_only=True)["schedule"] == {
        "sync_started_at": 2}
    assert _train_rows(resumed, "sync_weight") == weights
    assert _losses(resumed)[3] == _losses(straight)[3]
    assert _losses(resumed)[4] == _losses(straight)[4]
    # none = the constant weight of before
    always = tmp_path / "always"
    train(load_config("wav2lip", None, str(always), None,
                      [*common, "max_steps=1", "sync_loss_start_threshold=none"]))
    assert _train_rows(always, "sync_weight") == {1: 0.03}


def test_torchrun_two_processes_on_cpu_with_gloo(grid_data, tmp_path):
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", "-m", "lipgan.train", "syncnet", "--data", str(grid_data), "--out", str(run),
           *[arg for item in TINY for arg in ("--set", item)], "--set", "max_steps=3",
           "--set", "batch_size=2", "--set", "eval_every=3", "--set", "eval_samples=4"]
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    saved = torch.load(run / "last.pt", weights_only=True)
    assert saved["step"] == 3
    assert not any(k.startswith("module.") for k in saved["state_dict"])
    assert not any(k.startswith("module.") for k in saved["models"]["syncnet"]["state_dict"])
    accuracy = json.loads(result.stdout.strip().splitlines()[-1])["val"]["accuracy"]
    assert 0.0 <= accuracy <= 1.0  # a fraction of the validation pairs


def test_unknown_option_suggests_the_close_one():
    from f2f.errors import ConfigError

    with pytest.raises(ConfigError, match="batch_size"):
        load_config("syncnet", "x", "y", None, ["batch_sise=4"])


def test_gpu_check_script_runs_on_cpu():
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(["bash", str(REPO / "bench" / "gpu_check.sh"), "--cpu"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["wav2lip_fwd_fp32_b2_frames_per_s"] > 0
    assert len(report["syncnet_ddp_amp_losses"]) == 2


def test_sync_segments_pair_each_face_window_with_its_own_audio(grid_data):
    """A segment sample is L consecutive windows: face i's positive is audio i, the in-sync
    window of the classic sample that starts at the same frame."""
    from lipgan.audio import mel_window_for_frame
    from lipgan.data import FPS, SyncSegmentDataset
    from lipgan.models.syncnet import segment_losses

    data = SyncSegmentDataset(grid_data, "train", seed=5, augment=Augment(enabled=False),
                              segment=6)
    sample, again = data[3], data[3]
    assert sample["faces"].shape == (6, 15, 48, 96) and sample["audio"].shape == (6, 1, 80, 16)
    assert torch.equal(sample["faces"], again["faces"])
    def windows_of(clip_id: str) -> list[torch.Tensor]:
        mel = data.store.feature(data.store.clip(clip_id), "mel")
        return [torch.from_numpy(mel_window_for_frame(mel, s, FPS)) for s in range(71)]

    runs = []
    for clip_id in data.store.clip_ids:  # the run is consecutive windows of one clip
        windows = windows_of(clip_id)
        runs += [s for s in range(66) if all(torch.equal(sample["audio"][i, 0], windows[s + i])
                                             for i in range(6))]
    assert len(runs) == 1
    # embeddings that match on the diagonal score perfectly, shuffled ones do not
    eye = torch.eye(6)[None]
    good = segment_losses(eye, eye, temperature=0.1, min_offset=2)
    bad = segment_losses(eye.roll(1, dims=1), eye, temperature=0.1, min_offset=2)
    assert good["matched"] == 1 and good["synced"] == 1 and good["offsync"] == 1
    assert bad["matched"] == 0 and good["multiway"] < bad["multiway"]
