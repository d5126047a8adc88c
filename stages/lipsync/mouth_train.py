"""Trains the `viseme` backend's audio -> mouth model on the shared GRID clips.

    python -m stages.lipsync.mouth_train [--grid ../shared/data/grid] [--out PATH]

Step 1 (once, cached in `runs/mouth_train/grid_mouths.npz`, never shipped): every clip is decoded,
its face tracked and the 20 mouth landmarks of every frame measured in face units, with the clip's
16 kHz audio. Step 2: an MLP learns log-mel context -> mouth offset from the clip's mean mouth.
Whole speakers are held out for validation (s29 and the six top-level clips); the JSON report
(validation error, inner-gap correlation, and a loudness baseline) goes to
bench/results/mouth_model.json. The weights file is `stages/lipsync/audio_mouth.npz`; after a
retrain put its SHA-256 (printed) into `_mouth_model.AUDIO_MOUTH` and bump the backend version.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stages.lipsync._mouth_model import (CONTEXT_FRAMES, SAMPLE_RATE, WEIGHTS_FILE,
                                         AudioMouthModel, context_windows, log_mel,
                                         normalize_mel)

if TYPE_CHECKING:  # torch loads only when training
    import torch

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
VALIDATION_SPEAKERS = ("s29", "top")  # "top": the six clips directly in grid/
GAP_ROWS = ((13, 19), (14, 18), (15, 17))  # inner upper/lower pairs within the 20 mouth points


def frame_times(count: int, fps: float) -> np.ndarray:
    """The time a video frame stands for: the middle of its display interval."""
    return (np.arange(count) + 0.5) / fps


def extract_clip(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    """(frames, 20, 2) mouth points in face units (NaN where no face), 16 kHz audio, fps."""
    from f2f.faces import FaceDetector, FaceTracker, LandmarkPredictor, normalized_mouth
    from f2f.media import iter_frames, probe, read_audio

    info = probe(path)
    tracker = FaceTracker(FaceDetector("auto"), detect_every=3)
    predictor = LandmarkPredictor()
    mouths = []
    for frame in iter_frames(path, info.fps, info.width, info.height):
        box = tracker.update(frame)
        if box is None:
            mouths.append(np.full((20, 2), np.nan))
            continue
        mouths.append(normalized_mouth(predictor.predict(frame, box)))
    audio = read_audio(path, SAMPLE_RATE).samples
    return np.asarray(mouths, np.float32), audio, float(info.fps)


def clip_list(grid: Path) -> list[tuple[str, Path]]:
    clips = [("top", p) for p in sorted(grid.glob("*.mpg"))]
    for folder in sorted(p for p in grid.iterdir() if p.is_dir()):
        clips += [(folder.name, p) for p in sorted(folder.iterdir())
                  if p.suffix in (".mpg", ".webm", ".mp4")]
    return clips


def extract_all(grid: Path, cache: Path) -> dict[str, list]:
    if cache.is_file():
        with np.load(cache, allow_pickle=True) as data:
            return {"speaker": [str(v) for v in data["speaker"]],
                    "name": [str(v) for v in data["name"]],
                    "mouth": [np.asarray(v, np.float32) for v in data["mouth"]],
                    "audio": [np.asarray(v, np.float32) for v in data["audio"]],
                    "fps": [float(v) for v in data["fps"]]}
    out: dict[str, list] = {"speaker": [], "name": [], "mouth": [], "audio": [], "fps": []}
    clips = clip_list(grid)
    for number, (speaker, path) in enumerate(clips):
        started = time.perf_counter()
        mouth, audio, fps = extract_clip(path)
        out["speaker"].append(speaker)
        out["name"].append(path.name)
        out["mouth"].append(mouth)
        out["audio"].append(audio)
        out["fps"].append(fps)
        log.info("%d/%d %s: %d frames, %.0f%% with a face, %.1f s", number + 1, len(clips),
                 path.name, len(mouth), 100 * np.isfinite(mouth[:, 0, 0]).mean(),
                 time.perf_counter() - started)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    # Any: numpy's stubs would match `**columns` against savez's allow_pickle flag
    columns: dict[str, Any] = {k: np.array(v, dtype=object) for k, v in out.items()}
    np.savez(tmp, **columns)
    os.replace(tmp, cache)
    return out


def samples(data: dict[str, list], keep: list[int]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Windows (N, D), targets (N, 40) and each sample's clip number."""
    xs, ys, owner = [], [], []
    for i in keep:
        mouth, audio, fps = data["mouth"][i], data["audio"][i], data["fps"][i]
        valid = np.isfinite(mouth[:, 0, 0])
        if valid.sum() < 10:
            continue
        offset = mouth - np.nanmean(mouth[valid], axis=0)
        mel = normalize_mel(log_mel(audio))
        times = frame_times(len(mouth), fps)[valid]
        xs.append(context_windows(mel, times))
        ys.append(offset[valid].reshape(-1, 40))
        owner += [i] * int(valid.sum())
    return np.concatenate(xs), np.concatenate(ys), owner


def inner_gap_rows(y: np.ndarray) -> np.ndarray:
    """Mean inner-lip gap (face units, offset) from flattened (N, 40) mouth offsets."""
    m = y.reshape(-1, 20, 2)
    return np.mean([m[:, b, 1] - m[:, a, 1] for a, b in GAP_ROWS], axis=0)


def train(x: np.ndarray, y: np.ndarray, data: dict[str, list], val: list[int], hidden: int,
          epochs: int, components: int, seed: int
          ) -> tuple[AudioMouthModel, list[dict[str, float]]]:
    """MLP on the first `components` principal components of the mouth offsets (the rest is
    speaker shape that sound cannot predict); chosen epoch = best validation gap correlation.
    Mel windows are shifted by up to two bands at random (other voices, other vocal tracts)."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    in_mean, in_std = x.mean(0), x.std(0) + 1e-3
    _, _, vt = np.linalg.svd(y - y.mean(0), full_matrices=False)
    basis = vt[:components]  # (K, 40)
    z = y @ basis.T
    z_std = z.std(0) + 1e-6
    xt = torch.from_numpy(((x - in_mean) / in_std).astype(np.float32))
    zt = torch.from_numpy((z / z_std).astype(np.float32))
    net = torch.nn.Sequential(torch.nn.Dropout(0.3), torch.nn.Linear(x.shape[1], hidden),
                              torch.nn.ReLU(), torch.nn.Dropout(0.3),
                              torch.nn.Linear(hidden, components))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=5e-2)
    steps_per_epoch = max(1, len(xt) // 256)
    total = epochs * steps_per_epoch
    history: list[dict[str, float]] = []
    best: tuple[float, AudioMouthModel] | None = None
    step = 0
    bands = x.shape[1] // CONTEXT_FRAMES
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(xt))
        for k in range(steps_per_epoch):
            lr = 1e-3 * 0.5 * (1 + np.cos(np.pi * step / total))  # cosine decay
            for group in opt.param_groups:
                group["lr"] = lr
            idx = order[k * 256:(k + 1) * 256]
            batch = xt[idx].view(len(idx), CONTEXT_FRAMES, bands)
            batch = torch.roll(batch, int(rng.integers(-2, 3)), dims=2).reshape(len(idx), -1)
            loss = torch.nn.functional.mse_loss(net(batch), zt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        net.eval()
        model = _export(net, in_mean, in_std, basis, z_std)
        score = evaluate(model, data, val)["inner_gap_correlation_model"]
        history.append({"epoch": epoch + 1, "train_loss": round(loss.item(), 4),
                        "val_gap_correlation": score})
        log.info("epoch %d: loss %.4f, validation gap correlation %.3f", epoch + 1,
                 loss.item(), score)
        if best is None or score > best[0]:
            best = (score, model)
    assert best is not None
    return best[1], history


def _export(net: torch.nn.Sequential, in_mean: np.ndarray, in_std: np.ndarray,
            basis: np.ndarray, z_std: np.ndarray) -> AudioMouthModel:
    """Folds the component basis into the last layer: the file predicts 40 offsets directly."""
    import torch

    lin1, lin2 = net[1], net[4]
    assert isinstance(lin1, torch.nn.Linear) and isinstance(lin2, torch.nn.Linear)
    w2 = lin2.weight.detach().numpy().T * z_std  # (H, K)
    b2 = lin2.bias.detach().numpy() * z_std
    return AudioMouthModel(
        in_mean.astype(np.float32), in_std.astype(np.float32),
        lin1.weight.detach().numpy().T.copy(), lin1.bias.detach().numpy().copy(),
        (w2 @ basis).astype(np.float32), (b2 @ basis).astype(np.float32),
        np.ones(basis.shape[1], np.float32))


def loudness(audio: np.ndarray, times: np.ndarray) -> np.ndarray:
    mel = log_mel(audio)
    level = np.log10(np.sum(10.0 ** mel, axis=1) + 1e-6)
    idx = np.clip(np.round(times * SAMPLE_RATE / 160).astype(int), 0, len(level) - 1)
    return level[idx]


def evaluate(model: AudioMouthModel, data: dict[str, list], keep: list[int]) -> dict[str, float]:
    """Per validation clip: correlation of predicted and true inner gap; the loudness baseline."""
    model_r, loud_r, err, zero_err = [], [], [], []
    for i in keep:
        mouth, audio, fps = data["mouth"][i], data["audio"][i], data["fps"][i]
        valid = np.isfinite(mouth[:, 0, 0])
        if valid.sum() < 10:
            continue
        truth = (mouth - np.nanmean(mouth[valid], axis=0))[valid].reshape(-1, 40)
        times = frame_times(len(mouth), fps)[valid]
        pred = model.predict(audio, times).reshape(-1, 40)
        gap_true, gap_pred = inner_gap_rows(truth), inner_gap_rows(pred)
        model_r.append(float(np.corrcoef(gap_true, gap_pred)[0, 1]))
        loud_r.append(float(np.corrcoef(gap_true, loudness(audio, times))[0, 1]))
        err.append(float(np.sqrt(np.mean((truth - pred) ** 2))))
        zero_err.append(float(np.sqrt(np.mean(truth ** 2))))
    return {"clips": len(model_r),
            "inner_gap_correlation_model": round(float(np.nanmean(model_r)), 3),
            "inner_gap_correlation_loudness": round(float(np.nanmean(loud_r)), 3),
            "rmse_face_units_model": round(float(np.mean(err)), 4),
            "rmse_face_units_mean_mouth": round(float(np.mean(zero_err)), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stages.lipsync.mouth_train",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--grid", type=Path, default=Path(
        os.environ.get("F2F_SHARED", REPO.parent / "shared")) / "data" / "grid")
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "mouth_train" /
                        "grid_mouths.npz")
    parser.add_argument("--out", type=Path, default=REPO / "stages" / "lipsync" / WEIGHTS_FILE)
    parser.add_argument("--report", type=Path, default=REPO / "bench" / "results" /
                        "mouth_model.json")
    parser.add_argument("--hidden", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--components", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.perf_counter()
    data = extract_all(args.grid, args.cache)
    speakers = data["speaker"]
    val = [i for i, s in enumerate(speakers) if s in VALIDATION_SPEAKERS]
    tr = [i for i, s in enumerate(speakers) if s not in VALIDATION_SPEAKERS]
    x, y, _ = samples(data, tr)
    xv, _, _ = samples(data, val)
    log.info("train %d frames of %d clips, validation %d frames of %d clips", len(x), len(tr),
             len(xv), len(val))
    model, history = train(x, y, data, val, args.hidden, args.epochs, args.components,
                           args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.stem + ".tmp.npz")
    model.save(tmp)
    os.replace(tmp, args.out)
    sha = hashlib.sha256(args.out.read_bytes()).hexdigest()
    shipped = AudioMouthModel.load(args.out)  # what users get (float16 on disk)
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores (shared)",
        "command": "python -m stages.lipsync.mouth_train " + " ".join(argv or sys.argv[1:]),
        "train_speakers": sorted(set(speakers[i] for i in tr)),
        "validation_speakers": sorted(set(speakers[i] for i in val)),
        "train_frames": len(x), "validation_frames": len(xv),
        "hidden": args.hidden, "epochs": args.epochs, "components": args.components,
        "validation": evaluate(shipped, data, val),
        "history": history, "weights": str(args.out.relative_to(REPO)) if args.out.is_relative_to(
            REPO) else str(args.out), "bytes": args.out.stat().st_size, "sha256": sha,
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["validation"]), f"\nsha256 {sha}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
