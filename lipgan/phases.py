"""The three training phases: the SyncNet expert, LipGAN and Wav2Lip.

A phase holds its models and optimizers, takes one training step and scores a validation batch;
the loop (`lipgan.train`) is the same for all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import nullcontext
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lipgan.checkpoint import load_syncnet, read_checkpoint, unwrap
from lipgan.config import DEFAULT_BETAS, TrainConfig, learning_rate
from lipgan.quality import channel_last, psnr, ssim
from lipgan.runtime import Runtime, wrap

log = logging.getLogger(__name__)


class Phase:
    """A phase's models, optimizers, one training step and the validation pass."""

    score_name = "val/loss"  # lower is better; best.pt follows it

    def __init__(self, config: TrainConfig, runtime: Runtime) -> None:
        self.config, self.runtime = config, runtime
        self.models: dict[str, nn.Module] = {}  # name -> DDP-wrapped (or bare) model
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def _adam(self, model: nn.Module, lr: float) -> torch.optim.Optimizer:
        betas = DEFAULT_BETAS[self.config.phase]
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

        model = SyncNetColor(SyncNetConfig(width=config.width, compact=config.compact,
                                           motion=config.motion))
        self.add("syncnet", model, config.base_lr)

    def kinds(self) -> dict[str, str]:
        return {"syncnet": "syncnet"}

    def _forward(self, model: nn.Module, batch: dict[str, torch.Tensor]
                 ) -> dict[str, torch.Tensor]:
        """BCE of the sync probability; with candidates also the multi-way matching loss."""
        from lipgan.models.syncnet import multiway_loss, sync_loss, sync_probability

        if batch["faces"].ndim == 5:  # segments: (B, L, 15, 48, 96) and (B, L, 1, 80, 16)
            return self._forward_segments(model, batch)
        audio = batch["audio"]
        if "candidates" in batch:  # one face encoding for the pair and all K + 1 candidates
            audio = torch.cat((batch["candidates"], audio[:, None]), dim=1)
        with self.autocast():
            audio_embedding, face = model(audio, batch["faces"])
        pair = audio_embedding[:, -1] if "candidates" in batch else audio_embedding
        out = {"bce": sync_loss(pair, face, batch["synced"]),
               "probability": sync_probability(pair.float(), face.float())}
        out["loss"] = out["bce"]
        if "candidates" in batch:
            out["multiway"], out["matched"] = multiway_loss(audio_embedding[:, :-1], face,
                                                            self.config.temperature)
            out["loss"] = out["bce"] + self.config.multiway_weight * out["multiway"]
        return out

    def _forward_segments(self, model: nn.Module, batch: dict[str, torch.Tensor]
                          ) -> dict[str, torch.Tensor]:
        from lipgan.models.syncnet import segment_losses

        segments, length = batch["faces"].shape[:2]
        with self.autocast():
            audio, face = model(batch["audio"].flatten(0, 1), batch["faces"].flatten(0, 1))
        out = segment_losses(audio.unflatten(0, (segments, length)),
                             face.unflatten(0, (segments, length)), self.config.temperature,
                             self.config.min_offset)
        out["loss"] = out["bce"] + self.config.multiway_weight * out["multiway"]
        out["accuracy"] = (out["synced"] + out["offsync"]) / 2  # balanced
        return out

    def step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        out = self._forward(self.models["syncnet"], batch)
        self._update("syncnet", out["loss"])
        return {k: out[k].item() for k in ("loss", "bce", "multiway") if k in out}

    def evaluate_batch(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        out = self._forward(unwrap(self.models["syncnet"]), batch)
        if "accuracy" in out:
            correct = out["accuracy"]
        else:
            correct = ((out["probability"] > 0.5).float() == batch["synced"]).float().mean()
        metrics = {"loss": out["loss"].item(), "accuracy": correct.item()}
        if "matched" in out:
            metrics["matched"] = out["matched"].float().mean().item()
        return metrics


class LipGANPhase(Phase):
    """Generator: L1 + adv_weight * contrastive(D(gen), synced); D: contrastive over
    (generated, unsynced), (real, synced), (real off-window, unsynced), margin m."""

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
                "psnr": psnr(channel_last(fake), channel_last(batch["target"])),
                "ssim": ssim(channel_last(fake), channel_last(batch["target"])),
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
        self.expert_bgr = False  # the public lipsync_expert.pth was trained on BGR frames
        if config.expert:
            self.expert = load_syncnet(config.expert, runtime.device).requires_grad_(False)
            self.expert_bgr = read_checkpoint(config.expert).get("format") != "lipgan"
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
            frames = fake.flip(1) if self.expert_bgr else fake  # (B, 3, T, H, W), RGB -> BGR
            audio, face = self.expert(sync_audio, expert_input(frames))
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
                   "psnr": psnr(channel_last(fake.transpose(1, 2)),
                                channel_last(batch["target"].transpose(1, 2))),
                   "ssim": ssim(channel_last(fake.transpose(1, 2)),
                                channel_last(batch["target"].transpose(1, 2)))}
        if self.expert is not None:
            metrics["sync"] = self._sync_loss(fake, batch["sync_audio"]).item()
        return metrics


PHASE_TYPES: dict[str, type[Phase]] = {"syncnet": SyncNetPhase, "lipgan": LipGANPhase,
                                       "wav2lip": Wav2LipPhase}
