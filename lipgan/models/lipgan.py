"""LipGAN (Prajwal et al. 2019, "Towards Automatic Face-to-Face Translation").

Generator: a face encoder (residual blocks with downsampling) on a 96 x 96 x 6 input (target
frame with its lower half masked + a reference identity frame) gives an embedding of size h; an
audio encoder (plain CNN) on a 12 x 35 MFCC heat-map gives another; the concatenation (2h) is
decoded by transposed convolutions and residual blocks with a skip connection from the encoder
after each of the 6 upsamplings; a 1x1 convolution with 3 filters and a sigmoid gives the face.

Discriminator: the same kind of face and audio encoders; the L2 distance between the two
(normalised) embeddings is small for in-sync pairs. It is trained with the contrastive loss with
margin m on generated (unsynced), real synced and real off-window (unsynced) frames.
"""

from __future__ import annotations

import math

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lipgan.models.blocks import Conv2d, ConvTranspose2d, scaled

MFCC_SHAPE = (12, 35)  # 13 MFCCs minus the first, 350 ms at 100 Hz


MAX_DISTANCE = math.sqrt(2)  # between two non-negative unit vectors


@dataclass(frozen=True)
class LipGANConfig:
    width: float = 1.0  # channel multiplier
    embedding: int = 256  # h, the size of each encoder's embedding (before width scaling)
    # contrastive loss margin m: the embeddings are ReLU'd and unit-length, so two of them are at
    # most sqrt(2) apart (orthogonal); the paper's m = 2 could never be reached by an unsynced
    # pair, whose loss then never reaches zero. 1.0 is reachable with room to spare.
    # (checked when training, `lipgan.config`; old checkpoints saying 2.0 still load)
    margin: float = 1.0


def _face_encoder(cin: int, width: float, embedding: int) -> nn.ModuleList:
    """96 -> 48 -> 24 -> 12 -> 6 -> 3 -> 1, one stage per resolution (kept for skips)."""
    c = [scaled(n, width) for n in (32, 64, 128, 256, 512)]
    h = scaled(embedding, width)

    def down(a: int, b: int, n_residual: int) -> nn.Sequential:
        return nn.Sequential(Conv2d(a, b, 3, 2, 1),
                             *[Conv2d(b, b, 3, 1, 1, residual=True) for _ in range(n_residual)])

    return nn.ModuleList([
        nn.Sequential(Conv2d(cin, c[0], 7, 1, 3)),  # 96
        down(c[0], c[1], 1),  # 48
        down(c[1], c[2], 2),  # 24
        down(c[2], c[3], 2),  # 12
        down(c[3], c[4], 1),  # 6
        down(c[4], c[4], 1),  # 3
        nn.Sequential(Conv2d(c[4], h, 3, 1, 0), Conv2d(h, h, 1, 1, 0)),  # 1
    ])


def _audio_encoder(width: float, embedding: int) -> nn.Sequential:
    """A plain CNN on the MFCC heat-map: (B, 1, 12, 35) -> (B, h, 1, 1)."""
    c = [scaled(n, width) for n in (32, 64, 128, 256)]
    h = scaled(embedding, width)
    return nn.Sequential(
        Conv2d(1, c[0], 3, 1, 1), Conv2d(c[0], c[0], 3, 1, 1),  # 12 x 35
        Conv2d(c[0], c[1], 3, (1, 2), 1), Conv2d(c[1], c[1], 3, 1, 1),  # 12 x 18
        Conv2d(c[1], c[2], 3, 2, 1), Conv2d(c[2], c[2], 3, 1, 1),  # 6 x 9
        Conv2d(c[2], c[3], 3, (2, 3), 1), Conv2d(c[3], c[3], 3, 1, 1),  # 3 x 3
        Conv2d(c[3], h, 3, 1, 0), Conv2d(h, h, 1, 1, 0),  # 1 x 1
    )


def _run_encoder(blocks: nn.ModuleList, x: torch.Tensor) -> list[torch.Tensor]:
    features = []
    for block in blocks:
        x = block(x)
        features.append(x)
    return features


class LipGANGenerator(nn.Module):
    def __init__(self, config: LipGANConfig = LipGANConfig()) -> None:
        super().__init__()
        self.config = config
        w = config.width
        h = scaled(config.embedding, w)
        c = [scaled(n, w) for n in (32, 64, 128, 256, 512)]
        self.face_encoder = _face_encoder(6, w, config.embedding)
        self.audio_encoder = _audio_encoder(w, config.embedding)

        def up(cin: int, cout: int, stride: int, padding: int, output_padding: int
               ) -> nn.Sequential:
            return nn.Sequential(
                ConvTranspose2d(cin, cout, 3, stride, padding, output_padding),
                Conv2d(cout, cout, 3, 1, 1, residual=True))

        # 6 upsamplings, each followed by concatenation with the encoder feature of its size
        self.face_decoder = nn.ModuleList([
            up(2 * h, c[4], 1, 0, 0),  # 1 -> 3, + c[4]
            up(2 * c[4], c[4], 2, 1, 1),  # 6, + c[4]
            up(2 * c[4], c[3], 2, 1, 1),  # 12, + c[3]
            up(2 * c[3], c[2], 2, 1, 1),  # 24, + c[2]
            up(2 * c[2], c[1], 2, 1, 1),  # 48, + c[1]
            up(2 * c[1], c[0], 2, 1, 1),  # 96, + c[0]
        ])
        self.output_block = nn.Sequential(nn.Conv2d(2 * c[0], 3, 1, 1, 0), nn.Sigmoid())

    def forward(self, audio: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        """audio (B, 1, 12, 35) MFCC heat-map, faces (B, 6, 96, 96) -> (B, 3, 96, 96)."""
        skips = _run_encoder(self.face_encoder, faces)
        x = torch.cat((skips.pop(), self.audio_encoder(audio)), dim=1)  # (B, 2h, 1, 1)
        for block in self.face_decoder:
            x = torch.cat((block(x), skips.pop()), dim=1)
        return self.output_block(x)


class LipGANDiscriminator(nn.Module):
    def __init__(self, config: LipGANConfig = LipGANConfig()) -> None:
        super().__init__()
        self.config = config
        self.face_encoder = _face_encoder(3, config.width, config.embedding)
        self.audio_encoder = _audio_encoder(config.width, config.embedding)

    def forward(self, audio: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        """audio (B, 1, 12, 35), faces (B, 3, 96, 96) -> L2 distance of unit embeddings (B,)."""
        face = F.normalize(_run_encoder(self.face_encoder, faces)[-1].flatten(1), dim=1)
        voice = F.normalize(self.audio_encoder(audio).flatten(1), dim=1)
        return (face - voice).pow(2).sum(dim=1).clamp_min(1e-12).sqrt()


def contrastive_loss(distance: torch.Tensor, is_synced: torch.Tensor,
                     margin: float) -> torch.Tensor:
    """y d^2 + (1 - y) max(0, m - d)^2, averaged: pulls synced pairs together, pushes others."""
    distance = distance.float()
    y = is_synced.float()
    return (y * distance.pow(2) + (1 - y) * F.relu(margin - distance).pow(2)).mean()
