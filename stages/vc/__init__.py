"""vc backends: one module per backend; each registers itself."""

from f2f.commands import SubCommand
from f2f.errors import ConfigError

COMMAND = SubCommand("vc", "voice conversion tools: `vc train SOURCE_DIR TARGET_DIR --out DIR`",
                     "stages.vc:vc_command")


def vc_command(argv: list[str]) -> int:
    """`python -m f2f vc train ...`: the voice conversion tools (training CycleGAN-VC)."""
    if not argv or argv[0] != "train":
        raise ConfigError("usage: python -m f2f vc train SOURCE_DIR TARGET_DIR --out DIR")
    from stages.vc.cyclegan import train_cli

    return train_cli(argv[1:])
