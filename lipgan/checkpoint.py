"""Saving and loading the models: our checkpoints and the public Wav2Lip files, one place.

Our format: {"format": "lipgan", "format_version", "kind", "model_config", "state_dict", ...}
(plus training state). The public Wav2Lip files are {"state_dict", "optimizer", "global_step"}
with keys prefixed `module.` (they were saved from DataParallel). Both load with
`weights_only=True`; a wrong file raises ConfigError naming what it looks like instead.
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from f2f.atomic import torch_save as atomic_save  # the one atomic writer; train.py uses it
from f2f.errors import ConfigError, WeightsNotFoundError
from f2f.weights import WeightsSpec, resolve
from lipgan.models.discriminator import QualityDiscriminator, QualityDiscriminatorConfig
from lipgan.models.lipgan import LipGANConfig, LipGANDiscriminator, LipGANGenerator
from lipgan.models.syncnet import SyncNetColor, SyncNetConfig
from lipgan.models.wav2lip import Wav2Lip, Wav2LipConfig
from lipgan.weights import LIPGAN_SPEC, SYNCNET_SPEC, WAV2LIP_GAN_SPEC, WAV2LIP_SPEC

log = logging.getLogger(__name__)

FORMAT_VERSION = 1

# A key unique to each model, to say what a wrong file is.
_SIGNATURES = {
    "face_decoder_blocks.0.0.conv_block.0.weight": "a Wav2Lip generator",
    "audio_encoder.13.conv_block.0.weight": "a SyncNet lip-sync expert",
    "binary_pred.0.weight": "a Wav2Lip visual quality discriminator",
    "face_decoder.0.0.conv_block.0.weight": "a LipGAN generator",
}

_KINDS: dict[str, tuple[type[nn.Module], type]] = {
    "wav2lip": (Wav2Lip, Wav2LipConfig),
    "syncnet": (SyncNetColor, SyncNetConfig),
    "quality_disc": (QualityDiscriminator, QualityDiscriminatorConfig),
    "lipgan": (LipGANGenerator, LipGANConfig),
    "lipgan_disc": (LipGANDiscriminator, LipGANConfig),
}

M = TypeVar("M", bound=nn.Module)


def unwrap(model: nn.Module) -> nn.Module:
    """The bare model inside DDP/DataParallel/torch.compile wrappers."""
    while hasattr(model, "module") or hasattr(model, "_orig_mod"):
        model = getattr(model, "module", None) or getattr(model, "_orig_mod")
    return model


def strip_prefix(state_dict: Mapping[str, torch.Tensor], prefix: str = "module."
                 ) -> dict[str, torch.Tensor]:
    return {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in state_dict.items()}


def model_record(kind: str, model: nn.Module) -> dict[str, Any]:
    """What a checkpoint stores per model: kind, config and an unprefixed state_dict."""
    bare = unwrap(model)
    config = getattr(bare, "config", None)
    return {"kind": kind,
            "model_config": dataclasses.asdict(config) if config is not None else {},
            "state_dict": {k: v.detach().cpu() for k, v in bare.state_dict().items()}}


def save_model(path: str | Path, kind: str, model: nn.Module, **extra: Any) -> Path:
    """Writes a loadable single-model checkpoint atomically (temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": "lipgan", "format_version": FORMAT_VERSION,
               **model_record(kind, model), **extra}
    atomic_save(payload, path)
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """torch.load(weights_only=True) with errors a user can act on."""
    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"checkpoint not found: {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError, KeyError,
            TypeError, IndexError) as exc:  # what torch.load raises on foreign bytes
        raise ConfigError(f"{path} is not a loadable PyTorch checkpoint "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
                          "expected a .pth/.pt file saved by Wav2Lip or lipgan") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} holds a {type(data).__name__}, not a checkpoint dict")
    return data


def state_dict_of(data: Mapping[str, Any], path: Path) -> dict[str, torch.Tensor]:
    """The model weights in either format, without the `module.` prefix."""
    if "state_dict" in data and isinstance(data["state_dict"], Mapping):
        state = data["state_dict"]
    elif data and all(isinstance(v, torch.Tensor) for v in data.values()):
        state = data  # a bare state_dict
    else:
        raise ConfigError(f"{path} has no 'state_dict' (keys: {', '.join(list(data)[:8])})")
    return strip_prefix(state)


def _describe(state: Mapping[str, torch.Tensor]) -> str:
    for key, what in _SIGNATURES.items():
        if key in state:
            return what
    return "an unknown model"


def _config_from(record: Mapping[str, Any], config_type: type, path: Path) -> Any:
    values = dict(record.get("model_config") or {})
    known = {f.name for f in dataclasses.fields(config_type)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{path}: model_config has unknown keys {unknown} for "
                          f"{config_type.__name__}; written by a newer lipgan?")
    return config_type(**values)


def load_model(kind: str, path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Builds the model of `kind` from a checkpoint (ours or public) in eval mode on `device`."""
    if kind not in _KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; choose from {', '.join(_KINDS)}")
    path = Path(path)
    return model_from_checkpoint(kind, read_checkpoint(path), path, device)


def model_from_checkpoint(kind: str, data: Mapping[str, Any], path: Path,
                          device: str | torch.device = "cpu") -> nn.Module:
    """`load_model` for a checkpoint already read with `read_checkpoint` (read once, use twice)."""
    if kind not in _KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; choose from {', '.join(_KINDS)}")
    model_type, config_type = _KINDS[kind]
    if data.get("format") == "lipgan" and data.get("kind") not in (None, kind):
        raise ConfigError(f"{path} holds a {data.get('kind')} model, not a {kind} model")
    state = state_dict_of(data, path)
    model = model_type(_config_from(data, config_type, path))
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong_shape = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or wrong_shape:
        raise ConfigError(
            f"{path} does not fit a {kind} model: it looks like {_describe(state)} "
            f"({len(missing)} keys missing, e.g. {missing[:2]}; {len(unexpected)} unexpected, "
            f"e.g. {unexpected[:2]}; {len(wrong_shape)} with other shapes, e.g. "
            f"{wrong_shape[:2]})")
    model.load_state_dict(state, strict=True)
    step = data.get("global_step", data.get("step"))
    log.info("lipgan: loaded %s from %s (step %s)", kind, path, step)
    return model.to(device).eval()


def _resolved(spec: WeightsSpec, path: str | Path | None) -> Path:
    return resolve(spec, path)


def _load_as(model_type: type[M], kind: str, path: Path, device: str | torch.device) -> M:
    model = load_model(kind, path, device)
    assert isinstance(model, model_type)  # _KINDS builds exactly this class for `kind`
    return model


def load_wav2lip(path: str | Path | None = None, device: str | torch.device = "cpu") -> Wav2Lip:
    """A Wav2Lip generator from `path` (public wav2lip.pth / wav2lip_gan.pth or ours).

    Without a path, looks for wav2lip_gan.pth then wav2lip.pth in the f2f weights folders.
    """
    if path is None:
        try:
            path = _resolved(WAV2LIP_GAN_SPEC, None)
        except WeightsNotFoundError:
            path = _resolved(WAV2LIP_SPEC, None)
    else:
        path = _resolved(WAV2LIP_SPEC, path)
    return _load_as(Wav2Lip, "wav2lip", path, device)


def load_syncnet(path: str | Path | None = None,
                 device: str | torch.device = "cpu") -> SyncNetColor:
    return _load_as(SyncNetColor, "syncnet", _resolved(SYNCNET_SPEC, path), device)


def load_lipgan(path: str | Path | None = None,
                device: str | torch.device = "cpu") -> LipGANGenerator:
    return _load_as(LipGANGenerator, "lipgan", _resolved(LIPGAN_SPEC, path), device)
