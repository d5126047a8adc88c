"""Where training runs: the device, torchrun's DDP process group, the per-step batches."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from f2f.errors import ConfigError
from lipgan.config import TrainConfig

@dataclass(frozen=True)
class Runtime:
    device: torch.device
    rank: int = 0
    world: int = 1
    distributed: bool = False

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def amp(self) -> bool:
        return self.device.type == "cuda"


def setup_runtime(config: TrainConfig) -> Runtime:
    """Reads torchrun's environment; starts the process group (nccl on GPU, gloo on CPU)."""
    cuda = torch.cuda.is_available() and config.device in ("auto", "cuda")
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device=cuda but no CUDA GPU is visible")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if "LOCAL_RANK" not in os.environ:
        return Runtime(torch.device("cuda" if cuda else "cpu"))
    import torch.distributed as dist

    local_rank = int(os.environ["LOCAL_RANK"])
    device = torch.device(f"cuda:{local_rank}") if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        if cuda:
            dist.init_process_group("nccl", device_id=device)
        else:
            dist.init_process_group("gloo")
    return Runtime(device, dist.get_rank(), world, True)


def wrap(model: nn.Module, runtime: Runtime) -> nn.Module:
    if not runtime.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [runtime.device.index] if runtime.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


class StepBatches(torch.utils.data.Sampler[list[int]]):
    """The sample indices of each step for this rank, from `start` to `stop`."""

    def __init__(self, start: int, stop: int, batch_size: int, runtime: Runtime) -> None:
        self.start, self.stop, self.batch_size, self.runtime = start, stop, batch_size, runtime

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start, self.stop):
            first = (step * self.runtime.world + self.runtime.rank) * self.batch_size
            yield list(range(first, first + self.batch_size))

    def __len__(self) -> int:
        return max(0, self.stop - self.start)


class SyntheticDataset(torch.utils.data.Dataset):
    """Random tensors of each phase's shapes, a pure function of the index (for benchmarks)."""

    def __init__(self, phase: str, seed: int, length: int = 1_000_000) -> None:
        self.phase, self.seed, self.length = phase, seed, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        if self.phase == "syncnet":
            return {"audio": torch.randn(1, 80, 16, generator=g),
                    "faces": torch.rand(15, 48, 96, generator=g),
                    "synced": torch.randint(0, 2, (), generator=g).float()}
        if self.phase == "wav2lip":
            return {"faces": torch.rand(6, 5, 96, 96, generator=g),
                    "audio": torch.randn(5, 1, 80, 16, generator=g),
                    "sync_audio": torch.randn(1, 80, 16, generator=g),
                    "target": torch.rand(3, 5, 96, 96, generator=g)}
        return {"faces": torch.rand(6, 96, 96, generator=g),
                "audio": torch.randn(1, 12, 35, generator=g),
                "target": torch.rand(3, 96, 96, generator=g),
                "negative": torch.rand(3, 96, 96, generator=g)}


def make_dataset(config: TrainConfig, split: str) -> torch.utils.data.Dataset:
    seed = config.seed if split == "train" else config.seed + 7919
    if config.synthetic:
        return SyntheticDataset(config.phase, seed)
    from lipgan.data import DATASETS, Augment

    augment = Augment(enabled=config.augment and split == "train", shift_px=config.shift_px)
    if config.phase == "syncnet" and config.segment:
        from lipgan.data import SyncSegmentDataset

        return SyncSegmentDataset(config.data, split, seed=seed, augment=augment,
                                  min_offset=config.min_offset, segment=config.segment)
    extra = {"candidates": config.candidates, "max_shift": config.max_shift} \
        if config.phase == "syncnet" else {}
    return DATASETS[config.phase](config.data, split, seed=seed, augment=augment,
                                  min_offset=config.min_offset, **extra)


def read_split_size(root: Path, split: str) -> int:
    listing = root / f"{split}.txt"
    return len(listing.read_text().split()) if listing.is_file() else 0


def to_device(batch: Mapping[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}
