"""The command-line flags that build a PipelineConfig, shared by `translate` and `batch`.

Its own module so that `f2f.cli` and `f2f.batch_cli` both import it and not each other.
"""

from __future__ import annotations

import argparse
from typing import Any

STAGE_FLAGS = ("asr", "mt", "tts", "vc", "lipsync")


def add_config_flags(p: Any) -> None:
    """The flags that build a config (translate and batch share them)."""
    p.add_argument("--to", dest="target_language", default=None, metavar="LANG",
                   help="target language code (default: hi)")
    p.add_argument("--from", dest="source_language", default=None, metavar="LANG",
                   help="source language code (default: en); a multilingual asr model takes "
                        "any Whisper language, or 'auto' to detect it")
    for kind in STAGE_FLAGS:
        p.add_argument(f"--{kind}", metavar="BACKEND",
                       help=f"{kind} backend name, or 'none' to switch the stage off")
    p.add_argument("--translation", metavar="FILE",
                   help="manual translation: .txt (one line per segment) or .srt")
    p.add_argument("--dub-audio", metavar="FILE", help="manual dub: a target-language audio file")
    p.add_argument("--keep-background", action="store_true",
                   help="keep the original audio, quieter, under the dub")
    p.add_argument("--face", type=int, metavar="INDEX",
                   help="which face to lip-sync when several are visible (0 = largest)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or auto (default: cpu)")
    p.add_argument("--config", metavar="TOML", help="configuration file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. --set lipsync.checkpoint=wav2lip_gan.pth")
    p.add_argument("--workdir", help="cache and intermediate files (default: ~/.cache/f2f/cache)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor keep cached work")
    p.add_argument("--refresh", action="append", default=[], metavar="STAGE",
                   help="re-run this stage and everything after it")


def config_from_args(args: argparse.Namespace) -> Any:
    """The PipelineConfig that the flags of `add_config_flags` describe."""
    from f2f.config import load_config

    overrides: dict[str, Any] = {
        "target_language": args.target_language, "source_language": args.source_language,
        "device": args.device, "manual_translation": args.translation,
        "manual_dub_audio": args.dub_audio,
    }
    for kind in STAGE_FLAGS:
        if getattr(args, kind):
            overrides[kind] = getattr(args, kind)
    sets = list(args.set)
    if args.keep_background:
        sets.append("timing.keep_background=true")
    if args.face is not None:
        sets.append(f"lipsync.face_index={args.face}")
    return load_config(args.config, sets=sets, **overrides)
