"""Off-sync detection of a trained SyncNet expert on clips it did not see.

    python -m lipgan.evaluate CHECKPOINT --data DATA [--split val] [--max-offset 15]

For every 5-frame window (stride 5) of every clip in the split, the expert scores the faces
against the audio shifted by -max_offset..+max_offset frames. Reported:
- `binary_accuracy`: synced pairs scored > 0.5 and pairs shifted by >= 5 frames scored <= 0.5,
  averaged over both classes (chance: 0.5);
- `offset_accuracy`: windows whose best-scoring shift is within 1 frame of the truth (chance:
  about 3 / (2 * max_offset + 1)), the SyncNet paper's sync-detection measure on one window;
- `clip_offset_accuracy`: the same with the scores averaged over each clip's windows.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from f2f.errors import F2FError, report_error
from lipgan.audio import mel_window_for_frame
from lipgan.checkpoint import load_syncnet
from lipgan.data import FPS, WINDOW, ClipStore


def offset_scores(model: torch.nn.Module, store: ClipStore, clip_id: str, max_offset: int
                  ) -> tuple[np.ndarray, list[int]]:
    """Sync probability (windows, 2 * max_offset + 1), NaN where the shifted audio is missing."""
    from lipgan.models.syncnet import sync_probability

    clip = store.clip(clip_id)
    mel = store.feature(clip, "mel")
    starts = list(range(0, clip.n_frames - WINDOW + 1, WINDOW))
    offsets = range(-max_offset, max_offset + 1)
    scores = np.full((len(starts), len(offsets)), np.nan, dtype=np.float32)
    faces = torch.from_numpy(clip.faces[:].astype(np.float32) / 255.0)  # (N, S, S, 3)
    half = faces.shape[1] // 2
    with torch.no_grad():
        for row, start in enumerate(starts):
            lower = faces[start:start + WINDOW, half:].permute(0, 3, 1, 2)  # (5, 3, S/2, S)
            stacked = lower.reshape(1, 3 * WINDOW, half, faces.shape[2])
            valid = [(col, start + off) for col, off in enumerate(offsets)
                     if 0 <= start + off <= clip.n_frames - WINDOW]
            audio = torch.from_numpy(np.stack([mel_window_for_frame(mel, s, FPS)
                                               for _, s in valid]))[:, None]
            a, v = model(audio, stacked.expand(len(valid), -1, -1, -1))
            for (col, _), p in zip(valid, sync_probability(a, v).numpy(), strict=True):
                scores[row, col] = p
    return scores, starts


def evaluate_sync(checkpoint: str | Path, data: str | Path, split: str = "val",
                  max_offset: int = 15) -> dict[str, float]:
    model = load_syncnet(checkpoint)
    store = ClipStore(data, split)
    centre = max_offset
    positives, negatives, window_hits, clip_hits, windows = [], [], 0, 0, 0
    for index in store.usable:
        scores, _ = offset_scores(model, store, store.clip_ids[index], max_offset)
        for row in scores:
            positives.append(row[centre] > 0.5)
            far = np.r_[row[:centre - 4], row[centre + 5:]]
            negatives += list(far[~np.isnan(far)] <= 0.5)
            window_hits += abs(int(np.nanargmax(row)) - centre) <= 1
            windows += 1
        clip_hits += abs(int(np.nanargmax(np.nanmean(scores, axis=0))) - centre) <= 1
    return {"clips": len(store.usable), "windows": windows,
            "binary_accuracy": float((np.mean(positives) + np.mean(negatives)) / 2),
            "synced_accuracy": float(np.mean(positives)),
            "offsync_accuracy": float(np.mean(negatives)),
            "offset_accuracy": window_hits / max(windows, 1),
            "clip_offset_accuracy": clip_hits / max(len(store.usable), 1),
            "offset_chance": 3 / (2 * max_offset + 1)}


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lipgan.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--data", required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--max-offset", type=int, default=15)
    args = parser.parse_args(argv)
    torch.set_grad_enabled(False)
    try:
        result = evaluate_sync(args.checkpoint, args.data, args.split, args.max_offset)
    except F2FError as exc:
        return report_error(exc)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
