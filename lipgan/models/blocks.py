"""Convolution blocks shared by every model; their attribute names fix the checkpoint keys.

`conv_block.0` is the convolution and `conv_block.1` the batch norm, as in the public Wav2Lip
checkpoints, so their state_dicts load key for key.
"""

from __future__ import annotations

import torch
from torch import nn


def scaled(channels: int, width: float) -> int:
    """Channel count of a model built at `width` times the published size (tests use ~1/8)."""
    return max(1, int(round(channels * width)))


class Conv2d(nn.Module):
    """Conv + BatchNorm + ReLU, optionally residual (input added before the activation)."""

    def __init__(self, cin: int, cout: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int], padding: int, residual: bool = False) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, padding),
                                        nn.BatchNorm2d(cout))
        self.act = nn.ReLU()
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_block(x)
        if self.residual:
            out = out + x
        return self.act(out)


class NoNormConv2d(nn.Module):
    """Conv + LeakyReLU(0.01), no normalisation: the visual quality discriminator's block."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int | tuple[int, int],
                 padding: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, padding))
        self.act = nn.LeakyReLU(0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv_block(x))


class ConvTranspose2d(nn.Module):
    """Transposed conv + BatchNorm + ReLU: one upsampling step of a face decoder."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int, padding: int,
                 output_padding: int = 0) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ConvTranspose2d(cin, cout, kernel_size, stride, padding, output_padding),
            nn.BatchNorm2d(cout))
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv_block(x))


def wav2lip_audio_encoder(width: float, final_channels: int = 512,
                          extra_256: bool = False) -> nn.Sequential:
    """The mel-window encoder of Wav2Lip and its expert: (B, 1, 80, 16) -> (B, C, 1, 1).

    The expert has one more residual 256-channel block than the generator (`extra_256`).
    """
    c32, c64, c128, c256 = (scaled(c, width) for c in (32, 64, 128, 256))
    c512 = scaled(final_channels, width)
    layers: list[nn.Module] = [
        Conv2d(1, c32, 3, 1, 1),
        Conv2d(c32, c32, 3, 1, 1, residual=True),
        Conv2d(c32, c32, 3, 1, 1, residual=True),
        Conv2d(c32, c64, 3, (3, 1), 1),
        Conv2d(c64, c64, 3, 1, 1, residual=True),
        Conv2d(c64, c64, 3, 1, 1, residual=True),
        Conv2d(c64, c128, 3, 3, 1),
        Conv2d(c128, c128, 3, 1, 1, residual=True),
        Conv2d(c128, c128, 3, 1, 1, residual=True),
        Conv2d(c128, c256, 3, (3, 2), 1),
        Conv2d(c256, c256, 3, 1, 1, residual=True),
    ]
    if extra_256:
        layers.append(Conv2d(c256, c256, 3, 1, 1, residual=True))
    layers += [Conv2d(c256, c512, 3, 1, 0), Conv2d(c512, c512, 1, 1, 0)]
    return nn.Sequential(*layers)
