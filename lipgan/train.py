"""One training loop for the three phases: the SyncNet expert, LipGAN, and Wav2Lip.

    python -m lipgan.train {syncnet,lipgan,wav2lip} --data DATA --out RUN [--config c.toml]
        [--set key=value ...]
    torchrun --nproc_per_node N -m lipgan.train syncnet --data DATA --out RUN   # DDP

RUN gets `config.json`, `log.csv` (step, split, name, value), TensorBoard events, `last.pt`
(everything needed to resume) and `best.pt` (best validation score). Running the same command
again resumes from `last.pt` exactly: batch k of step s is sample index (s * world + rank) *
batch_size + k of a dataset whose samples are a pure function of their index, so no sampler or
RNG state has to be saved. DDP uses gloo on CPU and nccl on GPU; bf16 autocast on GPU (`amp`).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import difflib
import json
import logging
import math
import os
import sys
import time
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from f2f.errors import ConfigError, F2FError, report_error
from lipgan.checkpoint import atomic_save, load_syncnet, model_record, read_checkpoint, unwrap

log = logging.getLogger(__name__)

PHASES = ("syncnet", "lipgan", "wav2lip")
_DEFAULT_LR = {"syncnet": 1e-3, "lipgan": 1e-3, "wav2lip": 1e-4}
_DEFAULT_BETAS = {"syncnet": (0.9, 0.999), "lipgan": (0.9, 0.999), "wav2lip": (0.5, 0.999)}
_MODEL_SHAPING = ("phase", "width", "embedding")  # must match a checkpoint being resumed


@dataclass(frozen=True)
class TrainConfig:
    phase: str = "syncnet"
    data: str = ""  # a folder written by `python -m lipgan.preprocess`
    out: str = "runs/lipgan"
    synthetic: bool = False  # random tensors instead of data (benchmarks, smoke tests)
    width: float = 1.0  # channel multiplier; 1.0 = the published models
    embedding: int = 256  # LipGAN's h
    batch_size: int = 16
    max_steps: int = 1000
    lr: float = 0.0  # 0: the phase's paper value (1e-3, 1e-3, 1e-4)
    lr_schedule: str = "constant"  # or "cosine" (to lr_min at max_steps)
    lr_min: float = 1e-5
    warmup_steps: int = 0
    weight_decay: float = 0.0
    grad_clip: float = 0.0  # 0 = off
    seed: int = 1337
    augment: bool = True
    min_offset: int = 5  # frames between an off-sync audio window and the faces
    num_workers: int = 0
    device: str = "auto"  # auto, cpu, cuda
    amp: bool = True  # bf16 autocast on CUDA (ignored on CPU)
    log_every: int = 10
    eval_every: int = 200
    eval_samples: int = 256
    save_every: int = 200
    tensorboard: bool = True
    # wav2lip
    expert: str = ""  # a trained SyncNet checkpoint (ours or lipsync_expert.pth)
    sync_weight: float = 0.03
    # Wav2Lip's schedule: the sync loss stays off until the expert's loss on generated validation
    # frames drops below this; None (`--set sync_loss_start_threshold=none`) = on from step 0
    sync_loss_start_threshold: float | None = 0.75
    disc_weight: float = 0.07  # visual quality discriminator; 0 = plain Wav2Lip
    disc_lr: float = 1e-4
    # lipgan
    margin: float = 2.0
    adv_weight: float = 0.01

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ConfigError(f"unknown phase {self.phase!r}; choose from {', '.join(PHASES)}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ConfigError("lr_schedule must be 'constant' or 'cosine'")
        if self.batch_size < 1 or self.max_steps < 0 or self.width <= 0:
            raise ConfigError("batch_size >= 1, max_steps >= 0 and width > 0 are required")

    @property
    def base_lr(self) -> float:
        return self.lr or _DEFAULT_LR[self.phase]


# ------------------------------------------------------------------------------ config


def _parse_value(text: str, kind: Any, key: str) -> Any:
    if isinstance(kind, str) and kind.endswith(" | None"):  # an optional field
        if text.strip().lower() in ("none", "null", ""):
            return None
        kind = kind.removesuffix(" | None")
    kind = {"bool": bool, "int": int, "float": float, "str": str}.get(kind, kind)
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key} takes true/false, not {text!r}")
    try:
        return kind(text)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}={text!r} is not a valid {getattr(kind, '__name__', kind)}"
                          ) from exc


def with_overrides(config: TrainConfig, values: Mapping[str, Any]) -> TrainConfig:
    """Applies key=value overrides (strings are parsed by field type); unknown keys are errors."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    changes = {}
    for key, value in values.items():
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown training option {key!r}{hint}")
        changes[key] = _parse_value(value, fields[key].type, key) if isinstance(value, str) \
            and fields[key].type not in ("str", str) else value
    return dataclasses.replace(config, **changes)


def parse_sets(items: Sequence[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set takes key=value, got {item!r}")
        key, value = item.split("=", 1)
        pairs[key.strip()] = value.strip()
    return pairs


# ------------------------------------------------------------------------------ schedule, DDP


def learning_rate(step: int, config: TrainConfig) -> float:
    """Linear warmup, then constant or cosine decay to lr_min (a pure function of step)."""
    base = config.base_lr
    if config.warmup_steps and step < config.warmup_steps:
        return base * (step + 1) / config.warmup_steps
    if config.lr_schedule == "constant":
        return base
    span = max(1, config.max_steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    return config.lr_min + 0.5 * (1 + math.cos(math.pi * progress)) * (base - config.lr_min)


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


# ------------------------------------------------------------------------------ data


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

    augment = Augment(enabled=config.augment and split == "train")
    return DATASETS[config.phase](config.data, split, seed=seed, augment=augment,
                                  min_offset=config.min_offset)


def read_split_size(root: Path, split: str) -> int:
    listing = root / f"{split}.txt"
    return len(listing.read_text().split()) if listing.is_file() else 0


def _to(batch: Mapping[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


# ------------------------------------------------------------------------------ phases


def psnr(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    mse = F.mse_loss(output.float(), target.float(), reduction="none").flatten(1).mean(1)
    return (10 * torch.log10(1.0 / mse.clamp_min(1e-10))).mean()


def ssim(output: torch.Tensor, target: torch.Tensor) -> float:
    """Mean SSIM over images (..., 3, H, W) in [0, 1], with scikit-image."""
    from skimage.metrics import structural_similarity

    out = output.float().movedim(-3, -1).reshape(-1, *output.shape[-2:], 3).cpu().numpy()
    ref = target.float().movedim(-3, -1).reshape(-1, *target.shape[-2:], 3).cpu().numpy()
    return float(sum(structural_similarity(a, b, channel_axis=-1, data_range=1.0)
                     for a, b in zip(out, ref, strict=True)) / len(out))


class Phase:
    """A phase's models, optimizers, one training step and the validation pass."""

    score_name = "val/loss"  # lower is better; best.pt follows it

    def __init__(self, config: TrainConfig, runtime: Runtime) -> None:
        self.config, self.runtime = config, runtime
        self.models: dict[str, nn.Module] = {}  # name -> DDP-wrapped (or bare) model
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def _adam(self, model: nn.Module, lr: float) -> torch.optim.Optimizer:
        betas = _DEFAULT_BETAS[self.config.phase]
        return torch.optim.AdamW(model.parameters(), lr=lr, betas=betas,
                                 weight_decay=self.config.weight_decay)

    def add(self, name: str, model: nn.Module, lr: float) -> None:
        model = model.to(self.runtime.device)
        self.optimizers[name] = self._adam(model, lr)
        self.models[name] = wrap(model, self.runtime)

    def autocast(self) -> Any:
        if self.runtime.amp and self.config.amp:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def set_lr(self, step: int) -> float:
        lr = learning_rate(step, self.config)
        for name, optimizer in self.optimizers.items():
            scale = 1.0 if name == "generator" or len(self.optimizers) == 1 else (
                self._side_lr() / self.config.base_lr)
            for group in optimizer.param_groups:
                group["lr"] = lr * scale
        return lr

    def _side_lr(self) -> float:
        return self.config.base_lr

    def _update(self, name: str, loss: torch.Tensor) -> None:
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip:
            nn.utils.clip_grad_norm_(self.models[name].parameters(), self.config.grad_clip)
        optimizer.step()

    def train(self, mode: bool = True) -> None:
        for model in self.models.values():
            model.train(mode)

    def step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        raise NotImplementedError

    def schedule_state(self) -> dict[str, Any]:
        """Loss-schedule state that depends on past validation (saved in checkpoints)."""
        return {}

    def load_schedule_state(self, state: Mapping[str, Any]) -> None:
        pass

    def observe_validation(self, step: int, metrics: Mapping[str, float]) -> None:
        """Called on rank 0 after each validation pass."""

    def share_schedule(self) -> None:
        """DDP: copies rank 0's schedule state to every rank (called at each validation step)."""

    def evaluate_batch(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        raise NotImplementedError

    def kinds(self) -> dict[str, str]:
        """Model name -> checkpoint kind (see lipgan.checkpoint)."""
        raise NotImplementedError


class SyncNetPhase(Phase):
    def __init__(self, config: TrainConfig, runtime: Runtime) -> None:
        super().__init__(config, runtime)
        from lipgan.models.syncnet import SyncNetColor, SyncNetConfig

        self.add("syncnet", SyncNetColor(SyncNetConfig(width=config.width)), config.base_lr)

    def kinds(self) -> dict[str, str]:
        return {"syncnet": "syncnet"}

    def _forward(self, model: nn.Module, batch: dict[str, torch.Tensor]
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        from lipgan.models.syncnet import sync_loss, sync_probability

        with self.autocast():
            audio, face = model(batch["audio"], batch["faces"])
        return sync_loss(audio, face, batch["synced"]), sync_probability(audio.float(),
                                                                          face.float())

    def step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        loss, _ = self._forward(self.models["syncnet"], batch)
        self._update("syncnet", loss)
        return {"loss": loss.item()}

    def evaluate_batch(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        loss, probability = self._forward(unwrap(self.models["syncnet"]), batch)
        correct = ((probability > 0.5).float() == batch["synced"]).float().mean()
        return {"loss": loss.item(), "accuracy": correct.item()}


class LipGANPhase(Phase):
    """Generator: L1 + adv_weight * contrastive(D(gen), synced); D: contrastive over
    (generated, unsynced), (real, synced), (real off-window, unsynced), margin 2."""

    score_name = "val/l1"

    def __init__(self, config: TrainConfig, runtime: Runtime) -> None:
        super().__init__(config, runtime)
        from lipgan.models.lipgan import LipGANConfig, LipGANDiscriminator, LipGANGenerator

        model_config = LipGANConfig(width=config.width, embedding=config.embedding,
                                    margin=config.margin)
        self.add("generator", LipGANGenerator(model_config), config.base_lr)
        self.add("discriminator", LipGANDiscriminator(model_config), config.base_lr)

    def kinds(self) -> dict[str, str]:
        return {"generator": "lipgan", "discriminator": "lipgan_disc"}

    def step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        from lipgan.models.lipgan import contrastive_loss

        generator, discriminator = self.models["generator"], self.models["discriminator"]
        bare_disc = unwrap(discriminator)
        margin = self.config.margin
        with self.autocast():
            fake = generator(batch["audio"], batch["faces"])  # (B, 3, 96, 96)
        l1 = F.l1_loss(fake.float(), batch["target"])
        bare_disc.requires_grad_(False)
        with self.autocast():
            fooled = bare_disc(batch["audio"], fake)
        adversarial = contrastive_loss(fooled, torch.ones_like(fooled), margin)
        bare_disc.requires_grad_(True)
        self._update("generator", l1 + self.config.adv_weight * adversarial)

        batch_size = fake.shape[0]
        faces = torch.cat((fake.detach(), batch["target"], batch["negative"]))
        labels = torch.cat((torch.zeros(batch_size), torch.ones(batch_size),
                            torch.zeros(batch_size))).to(fake.device)
        with self.autocast():
            distance = discriminator(batch["audio"].repeat(3, 1, 1, 1), faces)
        disc_loss = contrastive_loss(distance, labels, margin)
        self._update("discriminator", disc_loss)
        return {"l1": l1.item(), "adversarial": adversarial.item(), "disc": disc_loss.item(),
                "loss": l1.item() + self.config.adv_weight * adversarial.item()}

    def evaluate_batch(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        generator = unwrap(self.models["generator"])
        discriminator = unwrap(self.models["discriminator"])
        with self.autocast():
            fake = generator(batch["audio"], batch["faces"])
            real = discriminator(batch["audio"], batch["target"]).float()
            off = discriminator(batch["audio"], batch["negative"]).float()
        threshold = self.config.margin / 2
        accuracy = torch.cat(((real < threshold).float(), (off >= threshold).float())).mean()
        return {"l1": F.l1_loss(fake.float(), batch["target"]).item(),
                "psnr": psnr(fake, batch["target"]).item(), "ssim": ssim(fake, batch["target"]),
                "disc_sync_accuracy": accuracy.item()}


class Wav2LipPhase(Phase):
    """Generator: (1 - s - d) L1 + s * expert sync loss + d * quality-disc adversarial loss."""

    score_name = "val/l1"

    def __init__(self, config: TrainConfig, runtime: Runtime) -> None:
        super().__init__(config, runtime)
        from lipgan.models.discriminator import QualityDiscriminator, QualityDiscriminatorConfig
        from lipgan.models.wav2lip import Wav2Lip, Wav2LipConfig

        self.add("generator", Wav2Lip(Wav2LipConfig(width=config.width)), config.base_lr)
        if config.disc_weight > 0:
            self.add("discriminator",
                     QualityDiscriminator(QualityDiscriminatorConfig(width=config.width)),
                     config.disc_lr)
        self.expert: nn.Module | None = None
        if config.expert:
            self.expert = load_syncnet(config.expert, runtime.device).requires_grad_(False)
            log.info("lipgan.train: frozen SyncNet expert from %s", config.expert)
        elif config.sync_weight > 0:
            log.warning("lipgan.train: no expert given (--set expert=PATH): training without "
                        "the sync loss, which is what makes Wav2Lip's lips match the audio")
        # switched on (for good) by observe_validation; restored from checkpoints
        self.sync_started_at: int | None = 0 if config.sync_loss_start_threshold is None \
            else None

    def schedule_state(self) -> dict[str, Any]:
        return {"sync_started_at": self.sync_started_at}

    def load_schedule_state(self, state: Mapping[str, Any]) -> None:
        self.sync_started_at = state.get("sync_started_at")

    def observe_validation(self, step: int, metrics: Mapping[str, float]) -> None:
        threshold = self.config.sync_loss_start_threshold
        if self.sync_started_at is not None or threshold is None or "sync" not in metrics:
            return
        if metrics["sync"] < threshold:
            self.sync_started_at = step
            log.info("lipgan.train: validation sync loss %.4f < %g at step %d: sync loss on "
                     "(weight %g)", metrics["sync"], threshold, step, self.config.sync_weight)

    def share_schedule(self) -> None:
        import torch.distributed as dist

        started = torch.tensor([-1 if self.sync_started_at is None else self.sync_started_at],
                               device=self.runtime.device)
        dist.broadcast(started, src=0)
        self.sync_started_at = None if int(started) < 0 else int(started)

    def _side_lr(self) -> float:
        return self.config.disc_lr

    def kinds(self) -> dict[str, str]:
        return {"generator": "wav2lip", "discriminator": "quality_disc"}

    def _weights(self) -> tuple[float, float]:
        sync_on = self.expert is not None and self.sync_started_at is not None
        sync = self.config.sync_weight if sync_on else 0.0
        disc = self.config.disc_weight if "discriminator" in self.models else 0.0
        return sync, disc

    def _sync_loss(self, fake: torch.Tensor, sync_audio: torch.Tensor) -> torch.Tensor:
        from lipgan.models.syncnet import expert_input, sync_loss

        assert self.expert is not None
        with self.autocast():
            audio, face = self.expert(sync_audio, expert_input(fake))
        return sync_loss(audio, face, torch.ones(fake.shape[0], device=fake.device))

    def step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        from lipgan.models.discriminator import realness_loss

        sync_weight, disc_weight = self._weights()
        with self.autocast():
            fake = self.models["generator"](batch["audio"], batch["faces"])  # (B, 3, 5, 96, 96)
        l1 = F.l1_loss(fake.float(), batch["target"])
        zero = torch.zeros((), device=fake.device)
        sync = self._sync_loss(fake, batch["sync_audio"]) if sync_weight else zero
        adversarial = zero
        if disc_weight:
            bare_disc = unwrap(self.models["discriminator"]).requires_grad_(False)
            with self.autocast():
                adversarial = realness_loss(bare_disc(fake, logits=True), is_real=True)
            bare_disc.requires_grad_(True)
        loss = (1 - sync_weight - disc_weight) * l1 + sync_weight * sync \
            + disc_weight * adversarial
        self._update("generator", loss)
        metrics = {"loss": loss.item(), "l1": l1.item(), "sync": sync.item(),
                   "adversarial": adversarial.item(), "sync_weight": sync_weight}
        if disc_weight:
            frames = fake.shape[0] * fake.shape[2]
            with self.autocast():
                realness = self.models["discriminator"](
                    torch.cat((batch["target"], fake.detach())), logits=True)
            disc_loss = (realness_loss(realness[:frames], True)
                         + realness_loss(realness[frames:], False)) / 2
            self._update("discriminator", disc_loss)
            metrics["disc"] = disc_loss.item()
        return metrics

    def evaluate_batch(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        with self.autocast():
            fake = unwrap(self.models["generator"])(batch["audio"], batch["faces"])
        metrics = {"l1": F.l1_loss(fake.float(), batch["target"]).item(),
                   "psnr": psnr(fake.transpose(1, 2), batch["target"].transpose(1, 2)).item(),
                   "ssim": ssim(fake.transpose(1, 2), batch["target"].transpose(1, 2))}
        if self.expert is not None:
            metrics["sync"] = self._sync_loss(fake, batch["sync_audio"]).item()
        return metrics


PHASE_TYPES: dict[str, type[Phase]] = {"syncnet": SyncNetPhase, "lipgan": LipGANPhase,
                                       "wav2lip": Wav2LipPhase}


# ------------------------------------------------------------------------------ the loop


@dataclass
class RunLog:
    """CSV (step, split, name, value) + TensorBoard, written by rank 0 only."""

    out: Path
    tensorboard: bool
    _writer: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.path = self.out / "log.csv"
        if not self.path.exists():
            self.path.write_text("step,split,name,value\n")
        if self.tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._writer = SummaryWriter(str(self.out / "tb"))
            except ImportError:
                log.info("tensorboard not installed: CSV log only")

    def write(self, step: int, split: str, metrics: Mapping[str, float]) -> None:
        with self.path.open("a", newline="") as handle:
            writer = csv.writer(handle)
            for name, value in metrics.items():
                writer.writerow([step, split, name, repr(float(value))])
                if self._writer is not None:
                    self._writer.add_scalar(f"{split}/{name}", value, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def checkpoint_payload(phase: Phase, step: int, best: float) -> dict[str, Any]:
    kinds = phase.kinds()
    return {"format": "lipgan", "format_version": 1, "train_config": dataclasses.asdict(
        phase.config), "step": step, "best": best,
        "models": {name: model_record(kinds[name], model) for name, model in phase.models.items()},
        "optimizers": {name: opt.state_dict() for name, opt in phase.optimizers.items()},
        "schedule": phase.schedule_state(),
        # the main model at the top level, so load_model/load_wav2lip read train checkpoints
        **model_record(kinds[_main_name(phase)], phase.models[_main_name(phase)])}


def _main_name(phase: Phase) -> str:
    return "syncnet" if "syncnet" in phase.models else "generator"


def restore(phase: Phase, data: Mapping[str, Any]) -> tuple[int, float]:
    for name, model in phase.models.items():
        unwrap(model).load_state_dict(data["models"][name]["state_dict"])
        phase.optimizers[name].load_state_dict(data["optimizers"][name])
    if "schedule" in data:
        phase.load_schedule_state(data["schedule"])
    else:  # written before the sync-loss schedule existed: its sync weight was always on
        phase.load_schedule_state({"sync_started_at": 0})
    return int(data["step"]), float(data["best"])


def evaluate(phase: Phase, config: TrainConfig, dataset: torch.utils.data.Dataset
             ) -> dict[str, float]:
    phase.train(False)
    totals: dict[str, float] = {}
    batches = 0
    with torch.no_grad():
        for first in range(0, config.eval_samples, config.batch_size):
            indices = range(first, min(first + config.batch_size, config.eval_samples))
            batch = torch.utils.data.default_collate([dataset[i] for i in indices])
            for name, value in phase.evaluate_batch(_to(batch, phase.runtime.device)).items():
                totals[name] = totals.get(name, 0.0) + value
            batches += 1
    phase.train(True)
    return {name: value / max(batches, 1) for name, value in totals.items()}


def train(config: TrainConfig) -> dict[str, float]:
    """Runs (or resumes) training; returns the last validation metrics."""
    if not config.synthetic and not config.data:
        raise ConfigError("no --data folder given (or --set synthetic=true)")
    runtime = setup_runtime(config)
    out = Path(config.out)
    resume_path = out / "last.pt"
    resumed = None
    if resume_path.is_file():
        resumed = read_checkpoint(resume_path)
        saved = resumed.get("train_config", {})
        for key in _MODEL_SHAPING:
            if key in saved and saved[key] != getattr(config, key):
                raise ConfigError(f"{resume_path} was trained with {key}={saved[key]!r}, not "
                                  f"{getattr(config, key)!r}: use another --out or the same "
                                  "setting")
    torch.manual_seed(config.seed)
    phase = PHASE_TYPES[config.phase](config, runtime)
    start, best = (restore(phase, resumed) if resumed else (0, math.inf))
    if runtime.main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=1))
        log.info("lipgan.train: %s on %s (world %d), %s from step %d", config.phase,
                 runtime.device, runtime.world, "resuming" if resumed else "starting", start)
    run_log = RunLog(out, config.tensorboard) if runtime.main else None
    train_set = make_dataset(config, "train")
    val_set = None
    if runtime.main and config.eval_every:
        if config.synthetic or read_split_size(Path(config.data), "val"):
            val_set = make_dataset(config, "val")
        else:
            log.warning("lipgan.train: %s has no validation clips: no validation pass",
                        config.data)
    if runtime.main and val_set is None and phase.schedule_state().get("sync_started_at", 0) \
            is None and config.expert:
        log.warning("lipgan.train: the sync loss waits for a validation sync loss below %s, but "
                    "there is no validation pass: it stays off (set sync_loss_start_threshold="
                    "none to train with it from the start)", config.sync_loss_start_threshold)
    loader = torch.utils.data.DataLoader(
        train_set, batch_sampler=StepBatches(start, config.max_steps, config.batch_size, runtime),
        num_workers=config.num_workers, pin_memory=runtime.device.type == "cuda")
    progress = None
    if runtime.main:
        try:
            from tqdm import tqdm

            progress = tqdm(total=config.max_steps, initial=start, desc=config.phase,
                            unit="step", disable=None)
        except ImportError:  # a bare GPU box: the CSV log still shows progress
            pass
    metrics: dict[str, float] = {}
    step = start
    phase.train(True)
    started = time.perf_counter()
    for batch in loader:
        lr = phase.set_lr(step)
        losses = phase.step(_to(batch, runtime.device))
        step += 1
        if run_log is not None and (step % config.log_every == 0 or step == start + 1):
            run_log.write(step, "train", {**losses, "lr": lr})
        if progress is not None:
            progress.update(1)
            progress.set_postfix({k: f"{v:.4f}" for k, v in list(losses.items())[:3]})
        last = step == config.max_steps
        validation_step = bool(config.eval_every) and (step % config.eval_every == 0 or last)
        if val_set is not None and validation_step:
            metrics = evaluate(phase, config, val_set)
            phase.observe_validation(step, metrics)
            assert run_log is not None
            run_log.write(step, "val", metrics)
            score = metrics.get(phase.score_name.split("/")[1], math.inf)
            if score < best:
                best = score
                atomic_save(checkpoint_payload(phase, step, best), out / "best.pt")
        if runtime.distributed and validation_step:
            phase.share_schedule()
        if runtime.main and (step % config.save_every == 0 or last):
            atomic_save(checkpoint_payload(phase, step, best), resume_path)
    if progress is not None:
        progress.close()
    if run_log is not None:
        run_log.write(step, "time", {"seconds": time.perf_counter() - started})
        run_log.close()
    if runtime.distributed:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()
    return metrics


def load_config(phase: str, data: str | None, out: str | None, config_file: str | None,
                sets: Sequence[str]) -> TrainConfig:
    """Defaults, then a TOML file, then --set pairs; --data/--out flags win over both."""
    values: dict[str, Any] = {}
    if config_file:
        try:
            values.update(tomllib.loads(Path(config_file).read_text()))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from exc
    values.update(parse_sets(sets))
    values.update({k: v for k, v in (("data", data), ("out", out)) if v})
    values.setdefault("out", f"runs/{phase}")
    return with_overrides(TrainConfig(phase=phase), values)


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lipgan.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=PHASES)
    parser.add_argument("--data", help="folder from `python -m lipgan.preprocess`")
    parser.add_argument("--out", help="run folder (resumes when it holds last.pt)")
    parser.add_argument("--config", help="TOML file of TrainConfig keys")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.phase, args.data, args.out, args.config, args.set)
        metrics = train(config)
    except F2FError as exc:
        return report_error(exc, args.debug)
    if metrics and int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps({"val": metrics}))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
