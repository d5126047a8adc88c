"""Wav2Lip's lip-sync expert `SyncNet_color`, laid out like the public `lipsync_expert.pth`.

Faces: the lower halves of 5 consecutive frames stacked on channels (B, 15, 48, 96); audio: the
0.2 s mel window starting at the first of them (B, 1, 80, 16). Both embeddings are ReLU'd and
L2-normalised; their cosine similarity is the probability that the pair is in sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lipgan.models.blocks import Conv2d, scaled, wav2lip_audio_encoder

SYNC_FRAMES = 5


@dataclass(frozen=True)
class SyncNetConfig:
    width: float = 1.0  # channel multiplier; 1.0 is the published expert (16.4 M parameters)
    # compact: both encoders see half-resolution inputs through five strided convolutions, about
    # 30x cheaper per sample than the published layout, so a judge trains on a CPU in an hour
    compact: bool = False
    # motion (compact only): the faces minus their 5-frame mean, so the encoder sees how the
    # mouth moves, not whose it is; a judge trained on few speakers then generalises to others
    motion: bool = False


class WindowMotion(nn.Module):
    """(B, 3T, H, W) frame-major stacks -> the same minus the mean frame of the window."""

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        frames = faces.unflatten(1, (SYNC_FRAMES, -1))  # (B, T, 3, H, W)
        return (frames - frames.mean(dim=1, keepdim=True)).flatten(1, 2)


def _compact_face_encoder(width: float, motion: bool = False) -> nn.Sequential:
    """(B, 15, 48, 96) -> (B, C, 1, 1): the lower halves at 24 x 48, frames on channels."""
    c32, c64, c128, c256 = (scaled(c, width) for c in (32, 64, 128, 256))
    return nn.Sequential(
        *([WindowMotion()] if motion else []),
        nn.AvgPool2d(2),  # 24 x 48: lips are still ~10 px wide, 4x fewer pixels to convolve
        Conv2d(3 * SYNC_FRAMES, c32, 3, 1, 1),
        Conv2d(c32, c64, 3, 2, 1),  # 12 x 24
        Conv2d(c64, c64, 3, 1, 1, residual=True),
        Conv2d(c64, c128, 3, 2, 1),  # 6 x 12
        Conv2d(c128, c128, 3, 1, 1, residual=True),
        Conv2d(c128, c256, 3, 2, 1),  # 3 x 6
        Conv2d(c256, c256, (3, 6), 1, 0),  # 1 x 1
        Conv2d(c256, c256, 1, 1, 0))


def _compact_audio_encoder(width: float) -> nn.Sequential:
    """(B, 1, 80, 16) -> (B, C, 1, 1)."""
    c32, c64, c128, c256 = (scaled(c, width) for c in (32, 64, 128, 256))
    return nn.Sequential(
        Conv2d(1, c32, 3, (2, 1), 1),  # 40 x 16
        Conv2d(c32, c64, 3, 2, 1),  # 20 x 8
        Conv2d(c64, c128, 3, 2, 1),  # 10 x 4
        Conv2d(c128, c128, 3, 1, 1, residual=True),
        Conv2d(c128, c256, 3, 2, 1),  # 5 x 2
        Conv2d(c256, c256, (5, 2), 1, 0),  # 1 x 1
        Conv2d(c256, c256, 1, 1, 0))


class SyncNetColor(nn.Module):
    def __init__(self, config: SyncNetConfig = SyncNetConfig()) -> None:
        super().__init__()
        self.config = config
        if config.compact:
            self.face_encoder = _compact_face_encoder(config.width, config.motion)
            self.audio_encoder = _compact_audio_encoder(config.width)
            return
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
        """audio (B, 1, 80, 16), faces (B, 15, 48, 96) -> unit embeddings (B, 512) each.

        Audio may also be (B, K, 1, 80, 16), K windows per face window (the multi-way
        training): its embeddings are then (B, K, 512), the faces encoded once.
        """
        leading = audio.shape[:-3]
        audio_embedding = self.audio_encoder(audio.flatten(0, -4)).flatten(1)
        face_embedding = self.face_encoder(faces).flatten(1)
        audio_embedding = F.normalize(audio_embedding, p=2, dim=1)
        return audio_embedding.unflatten(0, leading), F.normalize(face_embedding, p=2, dim=1)


def sync_probability(audio_embedding: torch.Tensor, face_embedding: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of unit, non-negative embeddings: in [0, 1], (B,)."""
    return F.cosine_similarity(audio_embedding, face_embedding).clamp(1e-7, 1 - 1e-7)


def segment_losses(audio_embedding: torch.Tensor, face_embedding: torch.Tensor,
                   temperature: float, min_offset: int = 5) -> dict[str, torch.Tensor]:
    """Losses of L consecutive windows of one clip, embeddings (B, L, D) each.

    `multiway`: cross-entropy of finding each face's own audio among the clip's L windows, and
    each audio's face (both directions); `bce`: the sync probability of the in-sync pairs
    against 1 and of pairs >= min_offset frames apart against 0, the two classes weighted alike.
    Also returned: `synced`/`offsync` hits at 0.5 and `matched` (the argmax is the own window).
    """
    with torch.autocast(audio_embedding.device.type, enabled=False):
        cosine = torch.einsum("bid,bjd->bij", face_embedding.float(), audio_embedding.float())
        length = cosine.shape[-1]
        target = torch.arange(length, device=cosine.device).expand(cosine.shape[0], -1)
        logits = cosine / temperature
        multiway = (F.cross_entropy(logits.flatten(0, 1), target.flatten())
                    + F.cross_entropy(logits.transpose(1, 2).flatten(0, 1), target.flatten())) / 2
        probability = cosine.clamp(1e-7, 1 - 1e-7)
        gap = (target[:, :, None] - target[:, None, :]).abs()  # (B, L, L) frames apart
        positive = probability.diagonal(dim1=1, dim2=2)
        negative = probability[gap >= min_offset]
        bce = -(positive.log().mean() + (1 - negative).log().mean()) / 2
        return {"multiway": multiway, "bce": bce,
                "synced": (positive > 0.5).float().mean(),
                "offsync": (negative <= 0.5).float().mean(),
                "matched": (cosine.argmax(-1) == target).float().mean()}


def multiway_loss(candidates: torch.Tensor, face_embedding: torch.Tensor,
                  temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of picking the in-sync window (index 0) among K audio embeddings
    (B, K, D) by cosine / temperature; and whether it was picked, (B,) bool."""
    with torch.autocast(candidates.device.type, enabled=False):
        cosine = torch.einsum("bkd,bd->bk", candidates.float(), face_embedding.float())
        target = torch.zeros(len(cosine), dtype=torch.long, device=cosine.device)
        return F.cross_entropy(cosine / temperature, target), cosine.argmax(1) == 0


def sync_loss(audio_embedding: torch.Tensor, face_embedding: torch.Tensor,
              is_synced: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the sync probability against 1 (synced) / 0 (off-sync)."""
    # CUDA autocast refuses binary_cross_entropy: always fp32, whoever calls this
    with torch.autocast(audio_embedding.device.type, enabled=False):
        probability = sync_probability(audio_embedding.float(), face_embedding.float())
        return F.binary_cross_entropy(probability, is_synced.float())


def expert_input(frames: torch.Tensor) -> torch.Tensor:
    """Faces (B, 3, T, S, S) RGB in [0, 1] -> the expert's lower halves (B, 3T, S/2, S).

    The one place that stacks frames for the expert (training data, the Wav2Lip sync loss and
    LSE all call it): channels are frame-major, [f0 R, f0 G, f0 B, f1 R, ...].
    """
    lower = frames[:, :, :, frames.shape[-2] // 2:]
    return lower.transpose(1, 2).flatten(1, 2)


def expert_windows(faces: torch.Tensor, starts: Sequence[int] | None = None) -> torch.Tensor:
    """Channel-last faces (T, S, S, 3) in [0, 1] -> the expert's input for the 5-frame window
    starting at each of `starts` (default: every frame with 5 frames left), (N, 15, S/2, S)."""
    if starts is None:
        starts = range(len(faces) - SYNC_FRAMES + 1)
    windows = torch.stack([faces[s:s + SYNC_FRAMES] for s in starts])  # (N, 5, S, S, 3)
    return expert_input(windows.permute(0, 4, 1, 2, 3))
