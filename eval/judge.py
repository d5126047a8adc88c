"""The project's lip-sync judge: a SyncNet colour expert trained on GRID, shipped in the repo.

    python -m eval.judge evaluate --data DATA [--expert CHECKPOINT] [--split val]
    python -m eval.judge build [--grid ../shared/data/grid] [--work runs/judge]

`eval` measures LSE-D/LSE-C with it by default. It was trained on GRID speakers s1 and s4 and
validated on s2 and s29, whom it never saw (`eval/data/syncnet_grid.json` holds its scores and
the exact recipe; `eval/data/judge_train.toml` the training options). `build` is the one command
that retrains it from the shared GRID clips: preprocess, train, score on the validation
speakers, then write the checkpoint and its scores into eval/data/ and print the SHA-256 to pin
in `JUDGE_SHA256`.

`evaluate` scores an expert on the clips of a split: for every 5-frame window the distance to
the audio at every offset -15..+15 (the LSE protocol's own distances, `eval.lips`), then
- `balanced_accuracy`: in-sync pairs scored as synced (cosine > 0.5) and pairs >= 5 frames off
  scored as off-sync, averaged over both classes (chance 0.5);
- `window_offset_accuracy`: windows whose closest audio is within 1 frame of the truth;
- `clip_offset_within_1`: clips whose LSE offset (the argmin of the mean distance) is within
  1 frame, the judge's timing on whole clips.

GRID: Cooke, Barker, Cunningham & Shao (2006), The Grid Audio-Visual Speech Corpus, Zenodo,
https://doi.org/10.5281/zenodo.3625687, CC BY 4.0. The judge's weights are derived from it.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from f2f.errors import ConfigError, run_command
from f2f.weights import WeightsSpec, file_sha256, resolve

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
JUDGE_FILE = "syncnet_grid.pt"
JUDGE_SHA256 = "501b391a766dd951e6803d206030c67e1592071fea5e74dbe26b803ac6eff8f1"
TRAIN_SPEAKERS = ("s1", "s4")
VAL_SPEAKERS = ("s2", "s29")
OFF_SYNC_FRAMES = 5  # a pair this far apart counts as off-sync in the balanced accuracy

JUDGE_SPEC = WeightsSpec(
    name="syncnet-grid-judge", filenames=(JUDGE_FILE,), package=("eval", f"data/{JUDGE_FILE}"),
    sha256=JUDGE_SHA256 or None,
    how_to_get="it ships with f2f in eval/data/; restore it with `git checkout eval/data` or "
               "retrain it with `python -m eval.judge build`")


def load_judge(path: str | Path | None = None) -> Any:
    """The shipped judge as an LSE expert (`eval.lips.Wav2LipExpert`), SHA-256 checked."""
    from eval.lips import Wav2LipExpert

    resolved = resolve(JUDGE_SPEC, path)
    expert = Wav2LipExpert.load(resolved)
    expert.name = f"judge:{resolved.name}"
    return expert


def load_expert(path: str | Path | None = None) -> Any:
    """The LSE expert of `eval`: the shipped judge (no path) or a SyncNet_color checkpoint."""
    from eval.lips import Wav2LipExpert

    if path is None:
        return load_judge()
    if Path(path).name.startswith("syncnet_v2"):
        raise ConfigError(
            f"{path}: the public SyncNet v2 network is not implemented in f2f yet; the LSE "
            "protocol (`eval.lips.lse_from_features`) takes its embeddings once it is. Use a "
            "Wav2Lip lipsync_expert.pth, our trained expert, or no --expert (the judge)")
    return Wav2LipExpert.load(path)


def lse_d(video_path: str | Path, expert: Any = None) -> float:
    """LSE-D: the smallest mean audio-visual embedding distance over offsets -15..+15."""
    from eval.lips import lse

    return lse(video_path, expert or load_expert()).lse_d


def lse_c(video_path: str | Path, expert: Any = None) -> float:
    """LSE-C: median minus smallest mean distance over offsets (sync confidence)."""
    from eval.lips import lse

    return lse(video_path, expert or load_expert()).lse_c


def lse_offset_frames(video_path: str | Path, expert: Any = None) -> int:
    """The offset (frames) at which the expert finds the audio and the faces closest."""
    from eval.lips import lse

    return lse(video_path, expert or load_expert()).offset_frames


# ------------------------------------------------------------------------------ evaluation


def clip_scores(expert: Any, faces: np.ndarray, samples: np.ndarray, fps: float = 25.0,
                vshift: int = 15) -> dict[str, Any]:
    """One clip: the LSE result and the per-window hits of the expert (see module doc)."""
    from eval.lips import lse_from_features, offset_distances
    from f2f.artifacts import Speech

    video, audio = expert.features(faces, Speech(samples, 16_000), fps)
    distances, valid = offset_distances(video, audio, vshift)
    cosine = 1 - distances ** 2 / 2  # unit embeddings
    offsets = np.abs(np.arange(-vshift, vshift + 1))
    far = valid & (offsets >= OFF_SYNC_FRAMES)[None, :]
    masked = np.where(valid, distances, np.inf)
    nearest = np.abs(np.argmin(masked, axis=1) - vshift)
    result = lse_from_features(video, audio, vshift)
    return {"positives": cosine[:, vshift] > 0.5, "negatives": cosine[far] <= 0.5,
            "window_hits": nearest <= 1, "lse": result}


def evaluate(expert: Any, data: str | Path, split: str = "val", vshift: int = 15
             ) -> dict[str, Any]:
    """The judge's scores on every usable clip of a DATA split (`lipgan.preprocess` folder)."""
    from lipgan.data import ClipStore

    store = ClipStore(data, split)
    positives, negatives, window_hits, per_clip = [], [], [], {}
    for index in store.usable:
        clip = store.clip(store.clip_ids[index])
        scores = clip_scores(expert, np.array(clip.faces[:clip.n_frames]), clip.samples,
                             vshift=vshift)
        positives.append(scores["positives"])
        negatives.append(scores["negatives"])
        window_hits.append(scores["window_hits"])
        per_clip[clip.clip_id] = scores["lse"].summary()
    synced, off = np.concatenate(positives), np.concatenate(negatives)
    within = [abs(c["lse_offset_frames"]) <= 1 for c in per_clip.values()]
    return {"split": split, "clips": len(per_clip), "windows": int(synced.size),
            "balanced_accuracy": round(float((synced.mean() + off.mean()) / 2), 4),
            "synced_accuracy": round(float(synced.mean()), 4),
            "offsync_accuracy": round(float(off.mean()), 4),
            "window_offset_accuracy": round(float(np.concatenate(window_hits).mean()), 4),
            "clip_offset_within_1": round(float(np.mean(within)), 4),
            "mean_lse_c": round(float(np.mean([c["lse_c"] for c in per_clip.values()])), 4),
            "mean_lse_d": round(float(np.mean([c["lse_d"] for c in per_clip.values()])), 4),
            "per_clip": per_clip}


# ------------------------------------------------------------------------------ build


def build(grid: Path, work: Path, steps: int | None = None, ship: Path = DATA_DIR
          ) -> dict[str, Any]:
    """Preprocess GRID by speaker, train with eval/data/judge_train.toml, score, ship."""
    from eval.lips import Wav2LipExpert
    from lipgan.checkpoint import load_syncnet, save_model
    from lipgan.preprocess import PreprocessConfig, preprocess
    from lipgan.train import load_config, train

    data = work / "data"
    preprocess([grid / s for s in TRAIN_SPEAKERS + VAL_SPEAKERS], data,
               PreprocessConfig(val_speakers=VAL_SPEAKERS))
    recipe = DATA_DIR / "judge_train.toml"
    sets = [f"max_steps={steps}"] if steps else []
    config = load_config("syncnet", str(data), str(work / "run"), str(recipe), sets)
    train(config)
    best = work / "run" / "best.pt"
    model = load_syncnet(best)
    scores = evaluate(Wav2LipExpert(model, name="judge"), data, "val")
    ship.mkdir(parents=True, exist_ok=True)
    target = ship / JUDGE_FILE
    tmp = save_model(work / JUDGE_FILE, "syncnet", model, pixels="rgb",
                     trained_on=f"GRID speakers {', '.join(TRAIN_SPEAKERS)} (CC BY 4.0)")
    shutil.copyfile(tmp, target.with_name(f".{JUDGE_FILE}.tmp"))
    target.with_name(f".{JUDGE_FILE}.tmp").replace(target)
    report = {"sha256": file_sha256(target), "train_speakers": list(TRAIN_SPEAKERS),
              "val_speakers": list(VAL_SPEAKERS), "recipe": recipe.read_text(),
              "command": "python -m eval.judge build", "validation": scores}
    sidecar = ship / "syncnet_grid.json"
    sidecar.with_name(".syncnet_grid.json.tmp").write_text(json.dumps(report, indent=1))
    sidecar.with_name(".syncnet_grid.json.tmp").replace(sidecar)
    return report


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.judge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("evaluate", help="score an expert on a DATA split")
    e.add_argument("--data", required=True, help="a `python -m lipgan.preprocess` folder")
    e.add_argument("--expert", help="SyncNet checkpoint (default: the shipped judge)")
    e.add_argument("--split", default="val")
    b = sub.add_parser("build", help="retrain the shipped judge from GRID")
    b.add_argument("--grid", default="../shared/data/grid", type=Path)
    b.add_argument("--work", default="runs/judge", type=Path)
    b.add_argument("--steps", type=int, help="override max_steps of the recipe")
    b.add_argument("--ship", default=DATA_DIR, type=Path, help="where the judge goes")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    return run_command(lambda: _run_and_print(args), debug=args.debug)


def _run_and_print(args: argparse.Namespace) -> int:
    if args.command == "evaluate":
        result = evaluate(load_expert(args.expert), args.data, args.split)
        result = {k: v for k, v in result.items() if k != "per_clip"}
    else:
        result = build(args.grid, args.work, args.steps, args.ship)
        result = {k: v for k, v in result.items() if k != "recipe"}
        print(f"pin in eval/judge.py: JUDGE_SHA256 = \"{result['sha256']}\"", file=sys.stderr)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
