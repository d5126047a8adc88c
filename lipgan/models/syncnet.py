"""Wav2Lip's lip-sync expert `SyncNet_color`, laid out like the public `lipsync_expert.pth`.

Faces: the lower halves of 5 consecutive frames stacked on channels (B, 15, 48, 96); audio: the
0.2 s mel window starting at the first of them (B, 1, 80, 16). Both embeddings are ReLU'd and
L2-normalised; their cosine similarity is the probability that the pair is in sync.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lipgan.models.blocks import Conv2d, scaled, wav2lip_audio_encoder

SYNC_FRAMES = 5


@dataclass(frozen=True)
class SyncNetConfig:
    width: float = 1.0  # channel multiplier; 1.0 is the published expert (16.4 M parameters)


class SyncNetColor(nn.Module):
    def __init__(self, config: SyncNetConfig = SyncNetConfig()) -> None:
        super().__init__()
        self.config = config
        c32, c64, c128, c256, c512 = (scaled(c, config.width) for c in (32, 64, 128, 256, 512))
        self.face_encoder = nn.Sequential(
            Conv2d(3 * SYNC_FRAMES, c32, 7, 1, 3),  # 48 x 96
            Conv2d(c32, c64, 5, (1, 2), 1),  # 46 x 47
            Conv2d(c64, c64, 3, 1, 1, residual=True),
            Conv2d(c64, c64, 3, 1, 1, residual=True),
            Conv2d(c64, c128, 3, 2, 1),  # 23 x 24
            Conv2d(c128, c128, 3, 1, 1, residual=True),
            Conv2d(c128, c128, 3, 1, 1, residual=True),
            Conv2d(c128, c128, 3, 1, 1, residual=True),
            Conv2d(c128, c256, 3, 2, 1),  # 12 x 12
            Conv2d(c256, c256, 3, 1, 1, residual=True),
            Conv2d(c256, c256, 3, 1, 1, residual=True),
            Conv2d(c256, c512, 3, 2, 1),  # 6 x 6
            Conv2d(c512, c512, 3, 1, 1, residual=True),
            Conv2d(c512, c512, 3, 1, 1, residual=True),
            Conv2d(c512, c512, 3, 2, 1),  # 3 x 3
            Conv2d(c512, c512, 3, 1, 0),  # 1 x 1
            Conv2d(c512, c512, 1, 1, 0),
        )
        self.audio_encoder = wav2lip_audio_encoder(config.width, extra_256=True)

    def forward(self, audio: torch.Tensor, faces: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """audio (B, 1, 80, 16), faces (B, 15, 48, 96) -> unit embeddings (B, 512) each."""
        audio_embedding = self.audio_encoder(audio).flatten(1)
        face_embedding = self.face_encoder(faces).flatten(1)
        return F.normalize(audio_embedding, p=2, dim=1), F.normalize(face_embedding, p=2, dim=1)


def sync_probability(audio_embedding: torch.Tensor, face_embedding: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of unit, non-negative embeddings: in [0, 1], (B,)."""
    return F.cosine_similarity(audio_embedding, face_embedding).clamp(1e-7, 1 - 1e-7)


def sync_loss(audio_embedding: torch.Tensor, face_embedding: torch.Tensor,
              is_synced: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the sync probability against 1 (synced) / 0 (off-sync)."""
    # CUDA autocast refuses binary_cross_entropy: always fp32, whoever calls this
    with torch.autocast(audio_embedding.device.type, enabled=False):
        probability = sync_probability(audio_embedding.float(), face_embedding.float())
        return F.binary_cross_entropy(probability, is_synced.float())


def expert_input(frames: torch.Tensor) -> torch.Tensor:
    """Generator frames (B, 3, T, 96, 96) -> the expert's lower halves (B, 3T, 48, 96)."""
    lower = frames[:, :, :, frames.shape[-2] // 2:]
    return lower.transpose(1, 2).flatten(1, 2)
