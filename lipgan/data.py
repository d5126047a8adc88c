"""Training samples from a folder written by `python -m lipgan.preprocess`.

Layout of DATA: `clips/<clip id>/faces.npy` (N, S, S, 3) uint8 face crops at 25 fps,
`clips/<clip id>/audio.wav` (16 kHz mono), `clips/<clip id>/meta.json`, `train.txt` / `val.txt`
(clip ids), `failed.tsv` (clips that could not be used, with the reason).

Every dataset is an endless stream indexed by an integer: `dataset[i]` draws its clip, window and
augmentation from a generator seeded with (seed, i), so a sample is the same for the same index
whatever the process, worker or restart; training resumes exactly by restarting at the index.
Sampling follows the papers: a random window of 5 frames, the middle frame as target (LipGAN),
negatives from outside the window; SyncNet's augmentations (audio volume +-10 %, colour shifts
and a flip, one transform per sample).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from f2f.artifacts import Speech
from f2f.errors import ConfigError, MediaError
from f2f.facecrop import mask_lower_half
from lipgan.audio import (MEL, MEL_FRAMES_PER_SECOND, MEL_WINDOW, mel_window_for_frame,
                          melspectrogram, mfcc, mfcc_window_for_frame)

log = logging.getLogger(__name__)

FPS = 25.0
WINDOW = 5  # video frames per sample (0.2 s), Tv in the SyncNet expert


@dataclass(frozen=True)
class Augment:
    enabled: bool = True
    volume: float = 0.1  # audio gain in [1 - v, 1 + v]
    brightness: float = 0.1  # face brightness factor in [1 - b, 1 + b]
    colour: float = 0.05  # per-channel gain in [1 - c, 1 + c]
    flip: bool = True  # horizontal flip with probability 0.5
    shift_px: int = 0  # a random translation of up to this many pixels (crops vary by detector)


@dataclass
class Clip:
    clip_id: str
    faces: np.ndarray  # (N, S, S, 3) uint8, memory-mapped
    samples: np.ndarray  # (n,) float32 at 16 kHz

    @property
    def n_frames(self) -> int:
        """Frames that have both a face and a full mel window of audio."""
        mel_frames = 1 + self.samples.size // MEL.hop
        by_audio = int((mel_frames - MEL_WINDOW) * FPS / MEL_FRAMES_PER_SECOND) + 1
        return max(0, min(len(self.faces), by_audio))


def read_split(root: Path, split: str) -> list[str]:
    listing = root / f"{split}.txt"
    if not listing.is_file():
        raise ConfigError(f"{root} has no {split}.txt: is it a folder written by "
                          f"`python -m lipgan.preprocess VIDEOS --out {root}`?")
    ids = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    if not ids:
        raise ConfigError(f"{listing} lists no clips")
    return ids


class ClipStore:
    """Loads clips lazily and keeps the most recent ones (and their features) in memory."""

    def __init__(self, root: str | Path, split: str, cache_clips: int = 64) -> None:
        self.root = Path(root)
        self.clip_ids = read_split(self.root, split)
        self._cache: OrderedDict[str, Clip] = OrderedDict()
        self._features: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._cache_clips = cache_clips
        self.usable = [i for i, cid in enumerate(self.clip_ids)
                       if self._meta(cid).get("n_frames", 0) >= 3 * WINDOW]
        if not self.usable:
            raise ConfigError(f"no clip in {self.root}/{split}.txt has {3 * WINDOW}+ frames")

    def _meta(self, clip_id: str) -> dict:
        path = self.root / "clips" / clip_id / "meta.json"
        if not path.is_file():
            raise MediaError(f"{path} missing: rerun `python -m lipgan.preprocess` (it resumes)")
        return json.loads(path.read_text())

    def clip(self, clip_id: str) -> Clip:
        if clip_id in self._cache:
            self._cache.move_to_end(clip_id)
            return self._cache[clip_id]
        folder = self.root / "clips" / clip_id
        faces = np.load(folder / "faces.npy", mmap_mode="r")
        samples = Speech.load_wav(folder / "audio.wav").samples.astype(np.float32)
        clip = Clip(clip_id, faces, samples)
        self._cache[clip_id] = clip
        if len(self._cache) > self._cache_clips:
            self._cache.popitem(last=False)
        return clip

    def feature(self, clip: Clip, kind: str) -> np.ndarray:
        """The clip's mel (80, T) or MFCC (12, T), computed once and cached."""
        key = (clip.clip_id, kind)
        if key not in self._features:
            self._features[key] = melspectrogram(clip.samples) if kind == "mel" else mfcc(
                clip.samples)
            if len(self._features) > 2 * self._cache_clips:
                self._features.popitem(last=False)
        return self._features[key]


# ------------------------------------------------------------------------------ augmentations


def gain_mel(mel: np.ndarray, gain: float) -> np.ndarray:
    """The mel of the audio scaled by `gain`: a dB shift on the [-4, 4] scale; the floor stays."""
    shift = 2 * MEL.max_abs_value * 20 * np.log10(gain) / (-MEL.min_level_db)
    floor = -MEL.max_abs_value
    return np.where(mel <= floor, floor, np.clip(mel + shift, floor, MEL.max_abs_value)
                    ).astype(np.float32)


@dataclass(frozen=True)
class FaceTransform:
    """One colour shift and flip, applied alike to every frame of a sample."""

    brightness: float = 1.0
    channel_gain: tuple[float, float, float] = (1.0, 1.0, 1.0)
    flip: bool = False
    shift_px: tuple[int, int] = (0, 0)  # (down, right)

    @classmethod
    def draw(cls, rng: np.random.Generator, augment: Augment) -> FaceTransform:
        if not augment.enabled:
            return cls()
        b, c = augment.brightness, augment.colour
        shift = rng.integers(-augment.shift_px, augment.shift_px + 1, size=2)
        gains = rng.uniform(1 - c, 1 + c, size=3)
        return cls(float(rng.uniform(1 - b, 1 + b)),
                   (float(gains[0]), float(gains[1]), float(gains[2])),
                   bool(augment.flip and rng.random() < 0.5),
                   (int(shift[0]), int(shift[1])) if augment.shift_px else (0, 0))

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """uint8 (..., S, S, 3) -> float32 (..., S, S, 3) in [0, 1]."""
        out = frames.astype(np.float32) / 255.0
        out = out * (self.brightness * np.asarray(self.channel_gain, dtype=np.float32))
        if self.flip:
            out = out[..., :, ::-1, :]
        out = np.clip(out, 0.0, 1.0)
        if self.shift_px != (0, 0):  # the same small translation of every frame (edge pixels)
            dy, dx = self.shift_px
            size_y, size_x = out.shape[-3], out.shape[-2]
            pad = max(abs(dy), abs(dx))
            widths = [(0, 0)] * (out.ndim - 3) + [(pad, pad), (pad, pad), (0, 0)]
            out = np.pad(out, widths, mode="edge")[..., pad + dy:pad + dy + size_y,
                                                   pad + dx:pad + dx + size_x, :]
        return np.ascontiguousarray(out)


def _chw(frames: np.ndarray) -> torch.Tensor:
    """(T, S, S, 3) -> (3, T, S, S), or (S, S, 3) -> (3, S, S)."""
    if frames.ndim == 4:
        return torch.from_numpy(np.ascontiguousarray(frames.transpose(3, 0, 1, 2)))
    return torch.from_numpy(np.ascontiguousarray(frames.transpose(2, 0, 1)))


# ------------------------------------------------------------------------------ datasets


class _Windows(Dataset):
    """Shared sampling: clip, window start, an off-window start, augmentation, per index."""

    def __init__(self, root: str | Path, split: str = "train", seed: int = 0,
                 augment: Augment = Augment(), length: int = 1_000_000,
                 min_offset: int = WINDOW) -> None:
        self.store = ClipStore(root, split)
        self.seed, self.augment, self.length, self.min_offset = seed, augment, length, min_offset

    def __len__(self) -> int:
        return self.length

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, index])

    def _draw(self, rng: np.random.Generator) -> tuple[Clip, int, int]:
        """A clip, a window start and a start at least `min_offset` frames away."""
        clip = self.store.clip(self.store.clip_ids[int(rng.choice(self.store.usable))])
        last_start = clip.n_frames - WINDOW
        start = int(rng.integers(0, last_start + 1))
        far = [s for s in range(last_start + 1) if abs(s - start) >= self.min_offset]
        if not far:  # a short clip: take the farthest start
            far = [0 if start > last_start / 2 else last_start]
        return clip, start, int(rng.choice(far))

    def _gain(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(1 - self.augment.volume, 1 + self.augment.volume)
                     ) if self.augment.enabled else 1.0


class SyncDataset(_Windows):
    """SyncNet expert samples: lower halves of 5 frames vs a mel window, in sync or shifted.

    Half the samples are in sync (label 1); the others pair the faces with audio from a window
    at least `min_offset` frames away in the same clip (label 0). With `candidates` = K > 0 a
    sample also holds K + 1 audio windows of the same clip, the in-sync one first and then K
    others shifted by 1..max_shift frames: the hardest negatives, which teach the exact offset
    (SyncNet's multi-way matching) at the price of one face encoding.
    """

    def __init__(self, root: str | Path, split: str = "train", seed: int = 0,
                 augment: Augment = Augment(), length: int = 1_000_000,
                 min_offset: int = WINDOW, candidates: int = 0, max_shift: int = 15) -> None:
        super().__init__(root, split, seed, augment, length, min_offset)
        self.candidates, self.max_shift = candidates, max_shift

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        from lipgan.models.syncnet import expert_windows

        rng = self._rng(index)
        clip, start, other = self._draw(rng)
        synced = bool(rng.random() < 0.5)
        mel = gain_mel(self.store.feature(clip, "mel"), self._gain(rng))
        audio = mel_window_for_frame(mel, start if synced else other, FPS)
        faces = FaceTransform.draw(rng, self.augment)(clip.faces[start:start + WINDOW])
        sample = {"audio": torch.from_numpy(audio)[None],  # (1, 80, 16)
                  "faces": expert_windows(torch.from_numpy(faces))[0],  # (15, 48, 96)
                  "synced": torch.tensor(float(synced))}
        if self.candidates:
            last = clip.n_frames - WINDOW
            shifts = [s for s in range(-self.max_shift, self.max_shift + 1)
                      if s and 0 <= start + s <= last]
            picked = rng.choice(shifts, size=self.candidates, replace=len(shifts) <
                                self.candidates)
            windows = [mel_window_for_frame(mel, start + int(s), FPS) for s in (0, *picked)]
            sample["candidates"] = torch.from_numpy(np.stack(windows))[:, None]  # (K+1, 1, 80, 16)
        return sample


class SyncSegmentDataset(_Windows):
    """SyncNet expert samples as runs of `segment` consecutive windows of one clip: faces
    (L, 15, S/2, S) and the in-sync audio of each (L, 1, 80, 16). Window i's audio is the
    positive of face i, the other L - 1 are the same clip shifted by 1..L-1 frames: every face
    encoding meets L - 1 hard negatives for the price of one audio encoding."""

    def __init__(self, root: str | Path, split: str = "train", seed: int = 0,
                 augment: Augment = Augment(), length: int = 1_000_000,
                 min_offset: int = WINDOW, segment: int = 12) -> None:
        super().__init__(root, split, seed, augment, length, min_offset)
        self.segment = segment

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        from lipgan.models.syncnet import expert_windows

        rng = self._rng(index)
        clip = self.store.clip(self.store.clip_ids[int(rng.choice(self.store.usable))])
        count = min(self.segment, clip.n_frames - WINDOW + 1)
        start = int(rng.integers(0, clip.n_frames - WINDOW - count + 2))
        mel = gain_mel(self.store.feature(clip, "mel"), self._gain(rng))
        frames = clip.faces[start:start + count + WINDOW - 1]
        faces = expert_windows(torch.from_numpy(FaceTransform.draw(rng, self.augment)(frames)))
        audio = np.stack([mel_window_for_frame(mel, start + i, FPS) for i in range(count)])
        return {"faces": faces,  # (L, 15, 48, 96)
                "audio": torch.from_numpy(audio)[:, None]}  # (L, 1, 80, 16)


class Wav2LipDataset(_Windows):
    """Generator samples: 5 target frames, 5 reference frames from elsewhere, their mels."""

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = self._rng(index)
        clip, start, other = self._draw(rng)
        mel = gain_mel(self.store.feature(clip, "mel"), self._gain(rng))
        transform = FaceTransform.draw(rng, self.augment)
        target = _chw(transform(clip.faces[start:start + WINDOW]))  # (3, 5, S, S)
        reference = _chw(transform(clip.faces[other:other + WINDOW]))
        masked = mask_lower_half(target)
        per_frame = np.stack([mel_window_for_frame(mel, start + t, FPS) for t in range(WINDOW)])
        return {"faces": torch.cat((masked, reference), dim=0),  # (6, 5, S, S)
                "audio": torch.from_numpy(per_frame)[:, None],  # (5, 1, 80, 16)
                "sync_audio": torch.from_numpy(mel_window_for_frame(mel, start, FPS))[None],
                "target": target}


class LipGANDataset(_Windows):
    """LipGAN samples: the middle frame of a random window as target, with its MFCC heat-map;
    a reference identity frame and a real off-window frame (an unsynced negative) from outside
    the window."""

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = self._rng(index)
        clip, start, other = self._draw(rng)
        middle = start + WINDOW // 2
        outside = [f for f in range(clip.n_frames) if f < start or f >= start + WINDOW]
        negative = int(rng.choice(outside))
        transform = FaceTransform.draw(rng, self.augment)
        target = _chw(transform(clip.faces[middle]))  # (3, S, S)
        reference = _chw(transform(clip.faces[other + WINDOW // 2]))
        masked = mask_lower_half(target)
        heat_map = mfcc_window_for_frame(self.store.feature(clip, "mfcc"), middle, FPS)
        return {"faces": torch.cat((masked, reference), dim=0),  # (6, S, S)
                "audio": torch.from_numpy(heat_map)[None],  # (1, 12, 35)
                "target": target,
                "negative": _chw(transform(clip.faces[negative]))}


DATASETS: dict[str, type[_Windows]] = {"syncnet": SyncDataset, "wav2lip": Wav2LipDataset,
                                       "lipgan": LipGANDataset}
