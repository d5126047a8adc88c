"""The Wav2Lip generator (Prajwal et al. 2020), laid out like the public `wav2lip*.pth` files.

Input: a mel window per frame (B, 1, 80, 16) and faces (B, 6, 96, 96): the target frame with its
lower half zeroed, concatenated on channels with a reference frame of the same person. Output:
the target frame with lips that match the audio, (B, 3, 96, 96) in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lipgan.models.blocks import Conv2d, ConvTranspose2d, scaled, wav2lip_audio_encoder

FACE_SIZE = 96


@dataclass(frozen=True)
class Wav2LipConfig:
    width: float = 1.0  # channel multiplier; 1.0 is the published model (36.3 M parameters)


class Wav2Lip(nn.Module):
    def __init__(self, config: Wav2LipConfig = Wav2LipConfig()) -> None:
        super().__init__()
        self.config = config
        w = config.width
        e16, e32, e64, e128, e256, e512 = (scaled(c, w) for c in (16, 32, 64, 128, 256, 512))
        self.face_encoder_blocks = nn.ModuleList([
            nn.Sequential(Conv2d(6, e16, 7, 1, 3)),  # 96
            nn.Sequential(Conv2d(e16, e32, 3, 2, 1),  # 48
                          Conv2d(e32, e32, 3, 1, 1, residual=True),
                          Conv2d(e32, e32, 3, 1, 1, residual=True)),
            nn.Sequential(Conv2d(e32, e64, 3, 2, 1),  # 24
                          Conv2d(e64, e64, 3, 1, 1, residual=True),
                          Conv2d(e64, e64, 3, 1, 1, residual=True),
                          Conv2d(e64, e64, 3, 1, 1, residual=True)),
            nn.Sequential(Conv2d(e64, e128, 3, 2, 1),  # 12
                          Conv2d(e128, e128, 3, 1, 1, residual=True),
                          Conv2d(e128, e128, 3, 1, 1, residual=True)),
            nn.Sequential(Conv2d(e128, e256, 3, 2, 1),  # 6
                          Conv2d(e256, e256, 3, 1, 1, residual=True),
                          Conv2d(e256, e256, 3, 1, 1, residual=True)),
            nn.Sequential(Conv2d(e256, e512, 3, 2, 1),  # 3
                          Conv2d(e512, e512, 3, 1, 1, residual=True)),
            nn.Sequential(Conv2d(e512, e512, 3, 1, 0),  # 1
                          Conv2d(e512, e512, 1, 1, 0)),
        ])
        self.audio_encoder = wav2lip_audio_encoder(w)
        d64, d128, d256, d384 = (scaled(c, w) for c in (64, 128, 256, 384))

        def up(cin: int, cout: int, n_residual: int) -> nn.Sequential:
            blocks: list[nn.Module] = [ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1)]
            blocks += [Conv2d(cout, cout, 3, 1, 1, residual=True) for _ in range(n_residual)]
            return nn.Sequential(*blocks)

        # every decoder output is concatenated with the encoder feature of the same size
        self.face_decoder_blocks = nn.ModuleList([
            nn.Sequential(Conv2d(e512, e512, 1, 1, 0)),  # 1
            nn.Sequential(ConvTranspose2d(2 * e512, e512, 3, 1, 0),  # 3
                          Conv2d(e512, e512, 3, 1, 1, residual=True)),
            up(2 * e512, e512, 2),  # 6
            up(e512 + e256, d384, 2),  # 12
            up(d384 + e128, d256, 2),  # 24
            up(d256 + e64, d128, 2),  # 48
            up(d128 + e32, d64, 2),  # 96
        ])
        self.output_block = nn.Sequential(Conv2d(d64 + e16, e32, 3, 1, 1),
                                          nn.Conv2d(e32, 3, 1, 1, 0), nn.Sigmoid())

    def forward(self, audio: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        """audio (B, 1, 80, 16), faces (B, 6, 96, 96) -> (B, 3, 96, 96) in [0, 1].

        5-D inputs (B, T, 1, 80, 16) and (B, 6, T, 96, 96), as Wav2Lip trains, are accepted and
        give (B, 3, T, 96, 96).
        """
        frames = None
        if audio.dim() == 5:
            frames = audio.shape[1]
            audio = audio.flatten(0, 1)  # (B*T, 1, 80, 16)
            faces = faces.transpose(1, 2).flatten(0, 1)  # (B*T, 6, 96, 96)
        embedding = self.audio_encoder(audio)  # (B, 512, 1, 1)
        skips = []
        x = faces
        for block in self.face_encoder_blocks:
            x = block(x)
            skips.append(x)
        x = embedding
        for block in self.face_decoder_blocks:
            x = torch.cat((block(x), skips.pop()), dim=1)
        out = self.output_block(x)  # (B, 3, 96, 96)
        if frames is not None:
            out = out.unflatten(0, (-1, frames)).transpose(1, 2)  # (B, 3, T, 96, 96)
        return out

