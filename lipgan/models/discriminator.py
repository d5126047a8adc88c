"""Wav2Lip's visual quality discriminator `Wav2Lip_disc_qual` (public `visual_quality_disc.pth`).

It looks at the lower half of a face (B, 3, 96, 96) and says how real it looks: (B, 1) in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lipgan.models.blocks import NoNormConv2d, scaled


@dataclass(frozen=True)
class QualityDiscriminatorConfig:
    width: float = 1.0  # 1.0 is the published discriminator (14.1 M parameters)


class QualityDiscriminator(nn.Module):
    def __init__(self, config: QualityDiscriminatorConfig = QualityDiscriminatorConfig()) -> None:
        super().__init__()
        self.config = config
        c32, c64, c128, c256, c512 = (scaled(c, config.width) for c in (32, 64, 128, 256, 512))
        self.face_encoder_blocks = nn.ModuleList([
            nn.Sequential(NoNormConv2d(3, c32, 7, 1, 3)),  # 48 x 96
            nn.Sequential(NoNormConv2d(c32, c64, 5, (1, 2), 2),  # 48 x 48
                          NoNormConv2d(c64, c64, 5, 1, 2)),
            nn.Sequential(NoNormConv2d(c64, c128, 5, 2, 2),  # 24
                          NoNormConv2d(c128, c128, 5, 1, 2)),
            nn.Sequential(NoNormConv2d(c128, c256, 5, 2, 2),  # 12
                          NoNormConv2d(c256, c256, 5, 1, 2)),
            nn.Sequential(NoNormConv2d(c256, c512, 3, 2, 1),  # 6
                          NoNormConv2d(c512, c512, 3, 1, 1)),
            nn.Sequential(NoNormConv2d(c512, c512, 3, 2, 1),  # 3
                          NoNormConv2d(c512, c512, 3, 1, 1)),
            nn.Sequential(NoNormConv2d(c512, c512, 3, 1, 0),  # 1
                          NoNormConv2d(c512, c512, 1, 1, 0)),
        ])
        self.binary_pred = nn.Sequential(nn.Conv2d(c512, 1, 1, 1, 0), nn.Sigmoid())

    def forward(self, faces: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """faces (B, 3, 96, 96) or (B, 3, T, 96, 96) -> probability of being real (B*T, 1).

        `logits=True` returns the value before the sigmoid: what training's loss takes, since a
        saturated bf16 sigmoid has no gradient left.
        """
        if faces.dim() == 5:
            faces = faces.transpose(1, 2).flatten(0, 1)
        x = faces[:, :, faces.shape[2] // 2:]  # lower half: (B, 3, 48, 96)
        for block in self.face_encoder_blocks:
            x = block(x)
        head = self.binary_pred[0] if logits else self.binary_pred
        return head(x).flatten(1)


def realness_loss(logits: torch.Tensor, is_real: bool) -> torch.Tensor:
    """Binary cross-entropy on the discriminator's logits (stable, and safe under autocast)."""
    target = torch.ones_like(logits) if is_real else torch.zeros_like(logits)
    with torch.autocast(logits.device.type, enabled=False):
        return F.binary_cross_entropy_with_logits(logits.float(), target.float())
