"""CycleGAN-VC (Kaneko & Kameoka, 2018): networks, losses, one training loop, checkpoints.

Non-parallel voice conversion on normalised mel-cepstra: two 1D gated-CNN generators
(source->target, target->source) and two 2D gated-CNN discriminators, trained with a
least-squares adversarial loss, cycle-consistency and identity-mapping losses. The default
config is small enough to train in about a minute on two CPU cores; raise `channels`,
`residual_blocks` and `steps` on a GPU.

`residual=True` makes each generator `x + net(x)` with the last layer zero-initialised, so an
untrained model is the identity: with seconds of data (the per-speaker case) the networks only
refine an input that is already mapped (by statistics), and `stay_weight` keeps that refinement
small. `patience` stops training early once the (smoothed) generator loss has stopped
improving: on seconds of data, the discriminator then starts to memorise the speaker's frames
and further steps only chase it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from f2f.atomic import torch_save

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: residual generators, early stopping state


@dataclass(frozen=True)
class CycleGANConfig:
    mcep_dims: int = 24
    channels: int = 64  # the paper uses 128 (generator) with 6 residual blocks
    residual_blocks: int = 3
    disc_channels: int = 16
    segment_frames: int = 64  # 0.32 s crops at a 5 ms frame period
    batch_size: int = 4
    lr_generator: float = 2e-4
    lr_discriminator: float = 1e-4
    cycle_weight: float = 10.0
    identity_weight: float = 5.0
    identity_until_step: int = 10_000  # the paper drops identity loss after 10k iterations
    adversarial_weight: float = 1.0
    residual: bool = False  # generators learn a correction on top of their input
    stay_weight: float = 0.0  # L1 between a generator's output and its input (real data)
    patience: int = 0  # > 0: stop when the smoothed `early_stop_loss` has not improved so long
    early_stop_loss: str = "generator"  # the residual model's cycle loss starts at 0: no signal
    min_steps: int = 0  # no early stop before this step
    checkpoint_every: int = 50
    seed: int = 0


# ------------------------------------------------------------------------------ networks


class _GatedConv1d(nn.Module):
    """Conv1d -> instance norm -> GLU: the gated linear unit keeps sequential structure."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, norm: bool = True):
        super().__init__()
        self.conv = nn.Conv1d(cin, 2 * cout, kernel, stride, padding=kernel // 2)
        self.norm = nn.InstanceNorm1d(2 * cout, affine=True) if norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.glu(self.norm(self.conv(x)), dim=1)


class _Residual1d(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.gated = _GatedConv1d(channels, channels, 3)
        self.out = nn.Sequential(nn.Conv1d(channels, channels, 3, padding=1),
                                 nn.InstanceNorm1d(channels, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.out(self.gated(x))


class Generator(nn.Module):
    """(B, D, T) mel-cepstra -> (B, D, T); T must be even (one down/up-sampling step)."""

    def __init__(self, config: CycleGANConfig):
        super().__init__()
        c, d = config.channels, config.mcep_dims
        self.residual = config.residual
        last = nn.Conv1d(c, d, 15, padding=7)
        if self.residual:  # start as the identity: the correction grows only where it pays
            nn.init.zeros_(last.weight)
            assert last.bias is not None  # Conv1d has a bias unless bias=False
            nn.init.zeros_(last.bias)
        self.net = nn.Sequential(
            _GatedConv1d(d, c, 15, norm=False),
            _GatedConv1d(c, 2 * c, 5, stride=2),  # (B, 2C, T/2)
            *[_Residual1d(2 * c) for _ in range(config.residual_blocks)],
            nn.Upsample(scale_factor=2, mode="nearest"),
            _GatedConv1d(2 * c, c, 5),  # (B, C, T)
            last,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x) if self.residual else self.net(x)


class _GatedConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, stride: tuple[int, int], norm: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(cin, 2 * cout, 3, stride, padding=1)
        self.norm = nn.InstanceNorm2d(2 * cout, affine=True) if norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.glu(self.norm(self.conv(x)), dim=1)


class Discriminator(nn.Module):
    """(B, D, T) -> (B, 1, D', T') patch scores: a 2D CNN sees the cepstrum as an image."""

    def __init__(self, config: CycleGANConfig):
        super().__init__()
        c = config.disc_channels
        self.net = nn.Sequential(
            _GatedConv2d(1, c, (1, 2), norm=False),
            _GatedConv2d(c, 2 * c, (2, 2)),
            _GatedConv2d(2 * c, 4 * c, (2, 2)),
            nn.Conv2d(4 * c, 1, (1, 3), padding=(0, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.unsqueeze(1))


# ------------------------------------------------------------------------------ training


@dataclass
class CycleGAN:
    """Both directions with their optimisers; `step` counts finished training steps."""

    config: CycleGANConfig
    g_st: Generator
    g_ts: Generator
    d_s: Discriminator
    d_t: Discriminator
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    step: int = 0
    stopped_early: bool = False  # training converged before `steps`: do not train on
    history: list[dict[str, float]] = dataclasses.field(default_factory=list)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)  # e.g. voice statistics

    @classmethod
    def create(cls, config: CycleGANConfig, device: str = "cpu") -> CycleGAN:
        torch.manual_seed(config.seed)
        g_st, g_ts = Generator(config).to(device), Generator(config).to(device)
        d_s, d_t = Discriminator(config).to(device), Discriminator(config).to(device)
        opt_g = torch.optim.Adam([*g_st.parameters(), *g_ts.parameters()],
                                 lr=config.lr_generator, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam([*d_s.parameters(), *d_t.parameters()],
                                 lr=config.lr_discriminator, betas=(0.5, 0.999))
        return cls(config, g_st, g_ts, d_s, d_t, opt_g, opt_d)

    def modules(self) -> dict[str, nn.Module]:
        return {"g_st": self.g_st, "g_ts": self.g_ts, "d_s": self.d_s, "d_t": self.d_t}

    def save(self, path: Path) -> None:
        """Atomic: written beside `path`, then renamed, so an interrupted run can resume."""
        payload = {
            "format_version": FORMAT_VERSION, "config": dataclasses.asdict(self.config),
            "step": self.step, "stopped_early": self.stopped_early,
            "history": self.history, "extra": self.extra,
            "models": {k: m.state_dict() for k, m in self.modules().items()},
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
        }
        torch_save(payload, path)

    @property
    def device(self) -> torch.device:
        return next(self.g_st.parameters()).device

    @classmethod
    def load(cls, path: Path, device: str = "cpu") -> CycleGAN:
        payload = torch.load(path, map_location=device, weights_only=True)
        if payload.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: checkpoint format {payload.get('format_version')} "
                             f"!= {FORMAT_VERSION}")
        known = {f.name for f in dataclasses.fields(CycleGANConfig)}  # older files: `steps`
        config = CycleGANConfig(**{k: v for k, v in payload["config"].items() if k in known})
        model = cls.create(config, device)
        for key, module in model.modules().items():
            module.load_state_dict(payload["models"][key])
        model.opt_g.load_state_dict(payload["opt_g"])
        model.opt_d.load_state_dict(payload["opt_d"])
        model.step, model.history = int(payload["step"]), list(payload["history"])
        model.stopped_early = bool(payload["stopped_early"])
        model.extra = dict(payload["extra"])
        return model

    @torch.inference_mode()
    def convert(self, mcep: np.ndarray, direction: str = "st") -> np.ndarray:
        """(T, D) normalised mel-cepstra -> converted (T, D), any T."""
        generator = self.g_st if direction == "st" else self.g_ts
        generator.eval()
        frames = mcep.shape[0]
        padded = np.pad(mcep, ((0, (-frames) % 4), (0, 0)), mode="edge")
        x = torch.from_numpy(padded.T.astype(np.float32))[None].to(self.device)  # (1, D, T)
        return generator(x)[0].cpu().numpy().T[:frames].astype(np.float64)


def _crops(pool: np.ndarray, count: int, frames: int, rng: np.random.Generator,
           device: torch.device) -> torch.Tensor:
    """`count` random (D, frames) windows from a (T, D) pool (tiled when T is short)."""
    if pool.shape[0] < frames + 1:
        pool = np.tile(pool, (math.ceil((frames + 1) / max(pool.shape[0], 1)), 1))
    starts = rng.integers(0, pool.shape[0] - frames, size=count)
    batch = np.stack([pool[s: s + frames].T for s in starts]).astype(np.float32)
    return torch.from_numpy(batch).to(device)  # (B, D, frames)


def train(model: CycleGAN, source: np.ndarray, target: np.ndarray, steps: int,
          checkpoint: Path | None = None,
          on_step: Callable[[int, dict[str, float]], None] | None = None) -> CycleGAN:
    """Trains until `model.step == steps` (or an early stop) on (T, D) normalised pools of each
    voice; saves a checkpoint every `checkpoint_every` steps and at the end (so it resumes where
    it stopped)."""
    config = model.config
    rng = np.random.default_rng(config.seed + model.step)  # resumed runs draw new crops
    mse, l1 = nn.functional.mse_loss, nn.functional.l1_loss
    for module in model.modules().values():
        module.train()
    while model.step < steps and not model.stopped_early:
        real_s = _crops(source, config.batch_size, config.segment_frames, rng, model.device)
        real_t = _crops(target, config.batch_size, config.segment_frames, rng, model.device)
        # generators: fool the discriminators, survive the round trip, leave own voice alone
        fake_t, fake_s = model.g_st(real_s), model.g_ts(real_t)
        score_t, score_s = model.d_t(fake_t), model.d_s(fake_s)
        adversarial = mse(score_t, torch.ones_like(score_t)) + mse(score_s,
                                                                   torch.ones_like(score_s))
        cycle = l1(model.g_ts(fake_t), real_s) + l1(model.g_st(fake_s), real_t)
        identity_weight = config.identity_weight if model.step < config.identity_until_step \
            else 0.0
        identity = l1(model.g_st(real_t), real_t) + l1(model.g_ts(real_s), real_s)
        g_loss = config.adversarial_weight * adversarial + config.cycle_weight * cycle \
            + identity_weight * identity
        stay = l1(fake_t, real_s) + l1(fake_s, real_t)  # how far conversion moves its input
        if config.stay_weight:
            g_loss = g_loss + config.stay_weight * stay
        model.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        model.opt_g.step()
        # discriminators: real scores 1, fake scores 0 (least squares)
        d_loss = torch.zeros((), device=model.device)
        for disc, real, fake in ((model.d_t, real_t, fake_t), (model.d_s, real_s, fake_s)):
            real_score, fake_score = disc(real), disc(fake.detach())
            d_loss = d_loss + mse(real_score, torch.ones_like(real_score)) \
                + mse(fake_score, torch.zeros_like(fake_score))
        model.opt_d.zero_grad(set_to_none=True)
        (0.5 * d_loss).backward()
        model.opt_d.step()
        model.step += 1
        losses = {"step": model.step, "generator": g_loss.item(), "adversarial":
                  adversarial.item(), "cycle": cycle.item(), "identity": identity.item(),
                  "stay": stay.item(), "discriminator": d_loss.item()}
        model.history.append(losses)
        model.stopped_early = _converged(model.history, config)
        if on_step:
            on_step(model.step, losses)
        if checkpoint and (model.step % config.checkpoint_every == 0 or model.step == steps
                           or model.stopped_early):
            model.save(checkpoint)
    if model.stopped_early:
        log.info("cyclegan: stopped early at step %d (%s loss flat for %d steps)",
                 model.step, config.early_stop_loss, config.patience)
    return model


def _converged(history: list[dict[str, float]], config: CycleGANConfig,
               smoothing: float = 0.9, min_gain: float = 0.01) -> bool:
    """True when the smoothed `early_stop_loss` has not beaten its best by `min_gain` (relative)
    for `patience` steps: more steps on seconds of data would only memorise them."""
    if config.patience <= 0 or len(history) < max(config.min_steps, config.patience):
        return False
    key = config.early_stop_loss
    smooth, best, best_step = history[0][key], float("inf"), 0
    for index, losses in enumerate(history):
        smooth = smoothing * smooth + (1 - smoothing) * losses[key]
        if smooth < best * (1 - min_gain):
            best, best_step = smooth, index
    return len(history) - 1 - best_step >= config.patience
