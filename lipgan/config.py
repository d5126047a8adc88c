"""Training options: one frozen dataclass, overridden by a TOML file and `--set key=value`."""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from f2f.errors import ConfigError

PHASES = ("syncnet", "lipgan", "wav2lip")
DEFAULT_LR = {"syncnet": 1e-3, "lipgan": 1e-3, "wav2lip": 1e-4}
DEFAULT_BETAS = {"syncnet": (0.9, 0.999), "lipgan": (0.9, 0.999), "wav2lip": (0.5, 0.999)}
# a resumed checkpoint must have been trained with the same
MODEL_SHAPING = ("phase", "width", "embedding", "compact", "motion")


@dataclass(frozen=True)
class TrainConfig:
    phase: str = "syncnet"
    data: str = ""  # a folder written by `python -m lipgan.preprocess`
    out: str = "runs/lipgan"
    synthetic: bool = False  # random tensors instead of data (benchmarks, smoke tests)
    width: float = 1.0  # channel multiplier; 1.0 = the published models
    embedding: int = 256  # LipGAN's h
    compact: bool = False  # syncnet: the half-resolution expert (lipgan.models.syncnet)
    motion: bool = False  # syncnet, compact: the encoder sees each window minus its mean frame
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
    shift_px: int = 0  # augmentation: random translation of the face crops, pixels
    # syncnet: K audio windows shifted 1..max_shift frames per face window, matched against the
    # in-sync one by softmax(cosine / temperature); 0 = Wav2Lip's plain BCE
    candidates: int = 0
    # syncnet: > 0 = samples are runs of this many consecutive windows of one clip, each face
    # matched against the run's audio windows (lipgan.data.SyncSegmentDataset); batch_size counts
    # runs
    segment: int = 0
    max_shift: int = 15
    temperature: float = 0.1
    multiway_weight: float = 1.0
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
    margin: float = 1.0  # <= sqrt 2, see lipgan.models.lipgan.LipGANConfig
    adv_weight: float = 0.01

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ConfigError(f"unknown phase {self.phase!r}; choose from {', '.join(PHASES)}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ConfigError("lr_schedule must be 'constant' or 'cosine'")
        if self.phase == "lipgan" and not 0 < self.margin <= math.sqrt(2):
            raise ConfigError(f"margin={self.margin}: LipGAN's ReLU'd unit embeddings are never "
                              "farther apart than sqrt 2, so the margin must lie in (0, 1.414]")
        if self.batch_size < 1 or self.max_steps < 0 or self.width <= 0:
            raise ConfigError("batch_size >= 1, max_steps >= 0 and width > 0 are required")

    @property
    def base_lr(self) -> float:
        return self.lr or DEFAULT_LR[self.phase]


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
