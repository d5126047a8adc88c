"""f2f: face-to-face speech translation (LipGAN / Wav2Lip style).

Public API:
    from f2f import translate_video, load_config
    report = translate_video("talk.mp4", "talk.hi.mp4", load_config(target_language="hi"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_config", "translate_video"]

if TYPE_CHECKING:
    from f2f.config import load_config
    from f2f.pipeline import translate_video


def __getattr__(name: str) -> Any:  # lazy: importing f2f stays cheap
    if name == "load_config":
        from f2f.config import load_config

        return load_config
    if name == "translate_video":
        from f2f.pipeline import translate_video

        return translate_video
    raise AttributeError(name)
