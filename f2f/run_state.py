"""What one translate_video call carries through the graph: its backends, its cache steps
and its result. Split from the graph so that each step reads as one method there."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar, overload

from f2f.artifacts import (
    DubTrack,
    SpeechSegments,
    Transcript,
    Translation,
)
from f2f.cache import Cache, make_key
from f2f.config import PipelineConfig, StageChoice, backend_config
from f2f.errors import (
    F2FError,
    StageError,
)
from f2f.memory import release_free_memory
from f2f.progress import ProgressEvent, ProgressFn
from f2f.registry import get_backend_class
from f2f.report import RunReport, StepRecord
from f2f.stage import (
    ASRBackend,
    Backend,
    LipSyncBackend,
    MTBackend,
    TTSBackend,
    VCBackend,
    resolve_device,
)

log = logging.getLogger(__name__)

A = TypeVar("A")

# ------------------------------------------------------------------------------ backends


class BackendPool:
    """Instantiated backends, reused across runs so models load once per process (the app)."""

    def __init__(self) -> None:
        self._backends: dict[str, Backend] = {}

    def get(self, kind: str, choice: StageChoice, device: str, language: str = "") -> Backend:
        config = backend_config(kind, choice)
        cls = get_backend_class(kind, choice.backend)
        ident = make_key(kind=kind, name=choice.backend, config=dataclasses.asdict(config),
                         device=device, language=language)
        if ident not in self._backends:
            self._backends[ident] = cls(config, device=device, language=language)
        return self._backends[ident]


_DEFAULT_POOL = BackendPool()


# ------------------------------------------------------------------------------ results


@dataclass
class RunResult:
    """What a run produced: the report plus the artifacts the app shows."""

    report: RunReport
    transcript: Transcript | None = None
    translation: Translation | None = None
    tts: SpeechSegments | None = None
    vc: SpeechSegments | None = None
    track: DubTrack | None = None
    outputs: dict[str, Path] = field(default_factory=dict)


# ------------------------------------------------------------------------------ the run


class Run:
    """State of one translate_video call; each method is one step of the graph."""

    def __init__(self, config: PipelineConfig, cache: Cache, refresh: set[str],
                 progress: ProgressFn, pool: BackendPool, report: RunReport) -> None:
        self.config, self.cache, self.refresh = config, cache, refresh
        self.progress, self.pool, self.report = progress, pool, report
        self.device = resolve_device(config.device)
        self._refreshing = False

    # the registry checks that a backend of each kind subclasses that kind's base (BASES)
    @overload
    def backend(self, kind: Literal["asr"]) -> ASRBackend: ...
    @overload
    def backend(self, kind: Literal["mt"]) -> MTBackend: ...
    @overload
    def backend(self, kind: Literal["tts"]) -> TTSBackend: ...
    @overload
    def backend(self, kind: Literal["vc"]) -> VCBackend: ...
    @overload
    def backend(self, kind: Literal["lipsync"]) -> LipSyncBackend: ...
    @overload
    def backend(self, kind: str) -> Backend: ...

    def backend(self, kind: str) -> Backend:
        return self.pool.get(kind, self.config.stage(kind), self.device,
                             stage_language(self.config, kind))

    def cached_step(self, stage: str, backend_name: str, key: str,
                    load: Callable[[Path], A], compute: Callable[[Path], A],
                    backend: Backend | None = None) -> A:
        """Loads `stage` from the cache or computes it into a new entry; records the step."""
        if stage in self.refresh:
            self._refreshing = True  # a refreshed stage re-runs everything after it too
        record = StepRecord(stage=stage, backend=backend_name, key=key)
        if backend is not None:
            record.weights = backend.weights_description()
            record.note = backend.quality_note
        started = time.perf_counter()
        entry = None if self._refreshing else self.cache.lookup(stage, key)
        if entry is not None:
            try:
                artifact = load(entry)
                record.cached = True
                record.metrics = self.cache.read_metrics(entry)
            except (OSError, ValueError, KeyError) as exc:  # a damaged entry: rebuild it
                log.warning("cache entry %s/%s unreadable (%s); recomputing", stage, key, exc)
                self.cache.invalidate(stage, key)
                entry = None
        if entry is None:
            log.info("%s: running %s%s", stage, backend_name,
                     f" (weights: {record.weights})" if record.weights else "")
            if record.note:
                log.warning("%s: %s", stage, record.note)
            if backend is not None:
                backend.metrics = {}
            with self.cache.writing(stage, key, replace=self._refreshing) as tmp:
                try:
                    artifact = compute(tmp)
                except F2FError:
                    raise
                except Exception as exc:
                    raise StageError(f"{stage} backend '{backend_name}' failed: "
                                     f"{type(exc).__name__}: {exc} (earlier stages are cached; "
                                     f"rerun with --debug for the traceback)") from exc
                if backend is not None:
                    record.metrics = dict(backend.metrics)
                self.cache.write_metrics(tmp, record.metrics)
            # reload from the final entry: artifacts may hold paths into the renamed folder
            artifact = load(self.cache.entry(stage, key))
            release_free_memory()  # the stage's temporaries: the next stages start lower
        else:
            log.info("%s: %s from cache", stage, backend_name)
        record.wall_s = round(time.perf_counter() - started, 3)
        self.report.steps.append(record)
        self.progress(ProgressEvent(stage, 1.0, "cached" if record.cached else "done"))
        return artifact

    def skip(self, stage: str, why: str = "") -> None:
        self.report.steps.append(StepRecord(stage=stage, backend="none", note=why))
        self.progress(ProgressEvent(stage, 1.0, "off"))


def stage_language(config: PipelineConfig, kind: str) -> str:
    return config.source_language if kind == "asr" else config.target_language
