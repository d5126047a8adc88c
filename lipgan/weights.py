"""Where the lip-sync models' weights are looked for (torch-free, so stages import it cheaply)."""

from __future__ import annotations

from f2f.weights import WeightsSpec

_PUBLIC = ("download {file} from the official Wav2Lip release (github.com/Rudrabha/Wav2Lip, "
           "'Getting the weights') and place it in $F2F_HOME/weights/, or pass its path "
           "(for lip sync: --set lipsync.checkpoint=PATH)")

WAV2LIP_SPEC = WeightsSpec(name="wav2lip", filenames=("wav2lip.pth",),
                           how_to_get=_PUBLIC.format(file="wav2lip.pth"))
WAV2LIP_GAN_SPEC = WeightsSpec(name="wav2lip_gan", filenames=("wav2lip_gan.pth",),
                               how_to_get=_PUBLIC.format(file="wav2lip_gan.pth"))
SYNCNET_SPEC = WeightsSpec(name="lipsync_expert", filenames=("lipsync_expert.pth",),
                           how_to_get=_PUBLIC.format(file="lipsync_expert.pth"))
LIPGAN_SPEC = WeightsSpec(
    name="lipgan", filenames=("lipgan.pt",),
    how_to_get="train one with `python -m lipgan.train lipgan --data DATA --out RUN` and put "
               "RUN/best.pt into $F2F_HOME/weights/lipgan.pt, or pass "
               "--set lipsync.checkpoint=PATH (no public PyTorch LipGAN weights exist)")
