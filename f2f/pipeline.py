"""The stage graph: ASR -> MT -> TTS -> VC -> timing fit -> lip sync -> mux, with a cache.

`translate_video` is the one library call the CLI, the app and the evaluation use. Every step's
output is a cache entry keyed by its backend identity and its upstream keys, so a second identical
run executes nothing and changing one stage re-runs only that stage and what follows.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from f2f import __version__, media
from f2f.cache import DEFAULT_MAX_GB, Cache
from f2f.config import PipelineConfig, StageChoice, validate
from f2f.errors import (
    ConfigError,
    MediaError,
    StageError,
    UnsupportedLanguageError,
)
from f2f.graph import Graph
from f2f.subtitles import LANGUAGE_TAGS
from f2f.media_info import MediaInfo
from f2f.outputs import StagedOutputs, check_outputs
from f2f.progress import ProgressFn, silent
from f2f.registry import get_backend_class
from f2f.report import RunReport, note_media
from f2f.run_state import _DEFAULT_POOL, BackendPool, Run, RunResult, stage_language
from f2f.weights import f2f_home

__all__ = ["LANGUAGE_TAGS", "STEPS", "BackendPool", "RunResult", "default_workdir", "output_paths",
           "translate_video"]

log = logging.getLogger(__name__)

STEPS = ("audio", "asr", "mt", "tts", "vc", "fit", "lipsync", "mux")

A = TypeVar("A")


def default_workdir() -> Path:
    return f2f_home() / "cache"


def output_paths(output: Path, config: PipelineConfig) -> dict[str, Path]:
    """OUT.mp4 -> OUT.en.srt, OUT.hi.srt (+ .vtt), OUT.report.json, OUT.config.toml.

    An output already named for the target language (talk.hi.mp4) gives talk.en.srt and
    talk.hi.srt rather than talk.hi.hi.srt.
    """
    stem = output.with_suffix("")
    paths = {"video": output, "report": Path(f"{stem}.report.json"),
             "config": Path(f"{stem}.config.toml")}
    if config.speakers:  # who spoke when, as NIST RTTM
        paths["rttm"] = Path(f"{stem}.rttm")
    base = str(stem).removesuffix(f".{config.target_language}")  # talk.hi.mp4 -> talk.hi.srt
    for fmt in config.subtitles:
        for language in (config.source_language, config.target_language):
            paths[f"{language}.{fmt}"] = Path(f"{base}.{language}.{fmt}")
    return paths


def _check_input(path: Path, config: PipelineConfig) -> MediaInfo:
    info = media.probe(path)
    if not info.has_video:
        raise MediaError(f"no video stream in {path}: f2f needs a video of a person speaking")
    if info.frame_count <= 0:
        raise MediaError(f"the video stream of {path} holds no frames")
    if info.duration_s > config.limits.max_duration_s:
        raise MediaError(
            f"{path} lasts {info.duration_s / 60:.1f} min, over the limit of "
            f"{config.limits.max_duration_s / 60:.0f} min; cut it, or raise the limit with "
            f"--set limits.max_duration_s=SECONDS")
    size_mb = path.stat().st_size / 1e6
    if size_mb > config.limits.max_file_mb:
        raise MediaError(f"{path} is {size_mb:.0f} MB, over the limit of "
                         f"{config.limits.max_file_mb:.0f} MB (--set limits.max_file_mb=...)")
    return info


def _check_languages(config: PipelineConfig) -> None:
    target = config.target_language
    for kind in ("mt", "tts"):
        if not config.enabled(kind) or (kind == "mt" and config.manual_translation):
            continue
        cls = get_backend_class(kind, config.stage(kind).backend)
        if cls.languages is not None and target not in cls.languages:
            raise UnsupportedLanguageError(
                f"target language '{target}' is not supported by {kind} backend "
                f"'{cls.name}' (it supports: {', '.join(sorted(cls.languages))}); "
                f"choose another --{kind} backend or --to language")


def _check_available(config: PipelineConfig, pool: BackendPool, device: str) -> None:
    """Fails before any work when a chosen backend cannot run here."""
    for kind in ("asr", "mt", "tts", "vc", "lipsync"):
        if not config.enabled(kind):
            continue
        backend = pool.get(kind, config.stage(kind), device, stage_language(config, kind))
        backend.ensure_dependencies()  # MissingDependencyError names the package to install
        backend.weights_path()  # WeightsNotFoundError names the file, where and how to get it
        status = backend.availability()
        if not status.ok:
            raise StageError(f"{kind} backend '{backend.name}' cannot run: {status.reason}")

@contextmanager
def _cache_for(workdir: Path | None, use_cache: bool, max_gb: float = DEFAULT_MAX_GB
               ) -> Iterator[Cache]:
    if use_cache:
        root = Path(workdir) if workdir else default_workdir()
        root.mkdir(parents=True, exist_ok=True)
        cache = Cache(root)
        with cache.leased():  # no other job's trim removes what this run reads
            yield cache
        removed = cache.trim(max_bytes=max_gb * 1e9)
        if removed:
            log.info("cache: removed %d least recently used entries (over %.1f GB)",
                     len(removed), max_gb)
    else:
        with tempfile.TemporaryDirectory(prefix="f2f-nocache-") as tmp:
            yield Cache(tmp, enabled=False)


def translate_video(input_path: str | Path, output_path: str | Path,
                    config: PipelineConfig | None = None, *, workdir: str | Path | None = None,
                    use_cache: bool = True, refresh: tuple[str, ...] = (),
                    progress: ProgressFn = silent, pool: BackendPool | None = None,
                    protect: tuple[str | Path, ...] = ()) -> RunResult:
    """Runs the whole graph on one video and writes OUT.mp4, subtitles, report and config.

    No output may be an input (the video, manual translation and dub, or any `protect`ed file).
    """
    config = config or PipelineConfig()
    started = time.perf_counter()
    input_path, output_path = Path(input_path), Path(output_path)
    unknown = set(refresh) - set(STEPS)
    if unknown:
        raise ConfigError(f"--refresh takes stage names ({', '.join(STEPS)}), got "
                          f"{', '.join(sorted(unknown))}")
    if output_path.is_dir():
        raise MediaError(f"-o {output_path} is an existing folder; give a file name such as "
                         f"{output_path / (input_path.stem + '.mp4')}")
    if output_path.suffix.lower() != ".mp4":
        raise ConfigError(f"output must be an .mp4 file, got {output_path}")
    if not output_path.parent.exists():
        raise MediaError(f"output folder does not exist: {output_path.parent}")
    if config.manual_translation:
        config = dataclasses.replace(
            config, mt=StageChoice("manual", {"path": str(config.manual_translation)}))
    validate(config)
    _check_languages(config)
    paths = output_paths(output_path, config)
    check_outputs(paths, (input_path, config.manual_translation, config.manual_dub_audio,
                          *protect))
    info = _check_input(input_path, config)
    pool = pool or _DEFAULT_POOL
    report = RunReport(input=str(input_path), output=str(output_path), f2f_version=__version__,
                       config=config.to_dict(), media=info.to_dict(),
                       outputs={k: str(v) for k, v in paths.items()})
    note_media(info, report)
    staging = StagedOutputs(paths)  # also proves the output folder writable, before any stage
    try:
        with _cache_for(Path(workdir) if workdir else None, use_cache,
                        config.limits.cache_max_gb) as cache:
            run = Run(config, cache, set(refresh), progress, pool, report)
            _check_available(config, pool, run.device)
            result = _execute(run, input_path, info, staging.staged)
        report.total_wall_s = round(time.perf_counter() - started, 3)
        report.save(staging.staged["report"])
        result.outputs = staging.commit()  # every output appears now, together
    finally:
        staging.discard()
    log.debug("wrote %s (%.1f s)", output_path, report.total_wall_s)  # the CLI says it once
    return result


def _execute(run: Run, input_path: Path, info: MediaInfo, paths: dict[str, Path]) -> RunResult:
    return Graph(run, input_path, info, paths).execute()
