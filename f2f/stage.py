"""The stage protocol: one abstract class per kind, backends registered by (kind, name).

A backend module lives in `stages/<kind>/<name>.py`, subclasses the kind's base class and
decorates itself with `@register`. Importing a backend module must stay cheap: heavy libraries
are imported inside `load()` or the run method, never at module level.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from f2f.errors import ConfigError, MissingDependencyError, WeightsNotFoundError
from f2f.weights import fingerprint

if TYPE_CHECKING:
    from f2f.artifacts import DubTrack, Speech, SpeechSegments, Transcript, Translation, VideoRef
    from f2f.face_track import FaceSettings
    from f2f.progress import StageProgress
    from f2f.speaker_voices import SpeakerVoice
    from f2f.weights import WeightsSpec

KINDS = ("asr", "mt", "tts", "vc", "lipsync")


def machine_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which containers narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'; any other name is returned as is."""
    if device != "auto":
        return device
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run on this machine, and if not, why."""

    ok: bool
    reason: str = ""
    weights: str = ""  # where its weights were found ("" when it needs none)


@dataclass(frozen=True)
class EmptyConfig:
    """For backends without options."""


class Backend(ABC):
    """Common base of every stage backend."""

    kind: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str] = "1"  # bump when outputs change, so caches are invalidated
    Config: ClassVar[type] = EmptyConfig
    requires: ClassVar[tuple[str, ...]] = ()  # importable module names
    install_hint: ClassVar[str] = ""
    quality_note: ClassVar[str] = ""  # e.g. "low quality: lexicon MT" (logged and reported)
    languages: ClassVar[frozenset[str] | None] = None  # target languages; None = any

    def __init__(self, config: Any | None = None, device: str = "cpu",
                 language: str = "") -> None:
        self.config = config if config is not None else self.Config()
        self.device = device
        # The language this backend produces (the target; the source for ASR): backends whose
        # weights depend on it (MMS-TTS) must know it before running, for availability and
        # cache fingerprints.
        self.language = language
        self.metrics: dict[str, Any] = {}  # quality figures of the last run, for the report

    # ---- what the graph asks of every backend

    @classmethod
    def weights_specs(cls) -> tuple[WeightsSpec, ...]:
        """Weights this backend can use (for `f2f download` and `f2f backends`)."""
        return ()

    @classmethod
    def missing_modules(cls) -> list[str]:
        return [m for m in cls.requires if importlib.util.find_spec(m) is None]

    def weights_path(self) -> Path | None:
        """The weights file or folder this backend will use; None when it needs none.

        Raises WeightsNotFoundError (ConfigError for a bad option) when they cannot be found.
        """
        return None

    def availability(self) -> Availability:
        """Cheap check: dependencies importable and weights found."""
        missing = self.missing_modules()
        if missing:
            hint = f" ({self.install_hint})" if self.install_hint else ""
            return Availability(False, f"missing Python package(s): {', '.join(missing)}{hint}")
        try:
            path = self.weights_path()
        except (WeightsNotFoundError, ConfigError) as exc:
            return Availability(False, str(exc))
        return Availability(True, weights=str(path) if path is not None else "")

    def ensure_dependencies(self) -> None:
        missing = self.missing_modules()
        if missing:
            hint = self.install_hint or f"pip install {' '.join(missing)}"
            raise MissingDependencyError(
                f"{self.kind} backend '{self.name}' needs {', '.join(missing)}: {hint}")

    def weights_fingerprint(self) -> str:
        """Identifies the weights in use (goes into the cache key). '' when weights-free."""
        path = self.weights_path()
        return fingerprint(path) if path is not None else ""

    def weights_description(self) -> str:
        """Human-readable: which weights file(s) this backend uses (logs and report)."""
        return ""

    def warm_up(self) -> None:
        """Loads what the stage will need (models, parsers) ahead of its turn; the graph calls
        it in a background thread while earlier stages run, so it must be safe to call twice
        and concurrently with the stage itself. Errors are left for the stage to raise."""

    def config_dict(self) -> dict[str, Any]:
        config = self.config
        is_instance = dataclasses.is_dataclass(config) and not isinstance(config, type)
        return dataclasses.asdict(config) if is_instance else {}

    def cache_identity(self) -> dict[str, Any]:
        """Everything about this backend that changes its output."""
        return {"kind": self.kind, "backend": self.name, "version": self.version,
                "config": self.config_dict(), "weights": self.weights_fingerprint()}


class ASRBackend(Backend):
    kind = "asr"

    @abstractmethod
    def transcribe(self, audio: Speech, language: str, progress: StageProgress) -> Transcript:
        """`audio` is 16 kHz mono. Returns sentence segments with word timings."""


class MTBackend(Backend):
    kind = "mt"

    @abstractmethod
    def translate(self, transcript: Transcript, target_language: str,
                  progress: StageProgress) -> Translation:
        """One translated segment per source segment, same ids and time slots."""


class TTSBackend(Backend):
    kind = "tts"
    speaks_per_speaker: ClassVar[bool] = False  # has voices for `speaker_voices` to choose

    @abstractmethod
    def synthesize(self, translation: Translation, progress: StageProgress,
                   voices: Mapping[int, str] | None = None) -> SpeechSegments:
        """One clip per segment, with phoneme timings when the engine knows them.

        `voices`: segment id -> a voice from `speaker_voices` (others: the configured voice).
        """

    def chooses_voices(self) -> bool:
        """Whether `speaker_voices` may choose (False when the config forces one voice): the
        speakers' pitch is measured only then."""
        return self.speaks_per_speaker

    def speaker_voices(self, median_f0_hz: Mapping[str, float]) -> dict[str, SpeakerVoice]:
        """Speaker -> the voice their segments are spoken in, from each speaker's median F0;
        empty: one voice for everyone (this backend has no choice, or the config forces one)."""
        return {}


class VCBackend(Backend):
    kind = "vc"

    @abstractmethod
    def convert(self, speech: SpeechSegments, reference: Speech, cache_dir: Path,
                progress: StageProgress) -> SpeechSegments:
        """Re-voices each clip as the speaker heard in `reference` (the input's 16 kHz audio).

        `cache_dir` is a persistent folder this backend may use for per-speaker models.
        """


class LipSyncBackend(Backend):
    kind = "lipsync"

    @abstractmethod
    def sync(self, video: VideoRef, track: DubTrack, out_path: Path,
             progress: StageProgress) -> VideoRef:
        """Writes a silent H.264 video at `out_path` whose mouths follow `track`.

        Same fps and size as `video`, frame count = video frames + `track.extensions`.
        """

    def face_settings(self) -> FaceSettings | None:
        """The face track `sync` follows in the source video (f2f.face_track), so the graph
        can compute it ahead, beside the audio stages; None: no face tracking to share."""
        return None


BASES: dict[str, type[Backend]] = {
    "asr": ASRBackend, "mt": MTBackend, "tts": TTSBackend, "vc": VCBackend,
    "lipsync": LipSyncBackend,
}
