"""What the web app needs beyond the library: run folders, safe upload names, limits, a pool
that many request threads can share, and one call that runs a request and gathers its results.

Gradio stays out of this module (app.py adapts it to the page), so all of it is testable without
a server. Nothing here builds a shell command: uploaded names are sanitised before they become
paths, and every path is checked to stay inside its run folder.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from f2f.artifacts import Speech, SpeechSegments
from f2f.config import PipelineConfig, StageChoice, load_config
from f2f.errors import ConfigError, F2FError, MediaError
from f2f.pipeline import STEPS, BackendPool, RunResult, translate_video
from f2f.progress import ProgressEvent
from f2f.stage import KINDS, Backend

log = logging.getLogger(__name__)

OFF = "none"  # the backend name that switches a stage off
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME_CHARS = 80
GAP_BETWEEN_SEGMENTS_S = 0.3  # silence between segments in the preview audio players


@dataclass(frozen=True)
class AppOptions:
    """Server settings; `python app.py --help` exposes each one."""

    host: str = "127.0.0.1"  # loopback only unless asked
    port: int = 7860
    concurrency: int = 1  # requests running at once; the rest wait in Gradio's queue
    queue_size: int = 16
    max_upload_mb: float = 200.0
    max_duration_s: float = 600.0
    runs_root: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "f2f-app-runs")
    keep_runs_hours: float = 24.0  # older run folders are deleted when a new run starts
    examples_dir: Path | None = None  # GRID clips offered as examples, when present
    defaults: dict[str, str] = field(default_factory=dict)  # kind -> backend preselected


@dataclass(frozen=True)
class RunRequest:
    """One translation asked for in the page (or through the API)."""

    video: Path
    target_language: str = "hi"
    backends: dict[str, str] = field(default_factory=dict)  # kind -> name or "none"
    manual_translation: Path | None = None
    manual_dub_audio: Path | None = None


@dataclass(frozen=True)
class RunOutcome:
    """Everything the page shows after a run; also the state a "re-run from here" starts from."""

    request: RunRequest  # with paths already copied into the run folder
    run_dir: Path
    video: Path
    transcript_text: str
    translation_text: str
    tts_audio: Path | None
    vc_audio: Path | None
    downloads: tuple[Path, ...]
    report: dict[str, Any]
    summary: str
    edits: int = 0  # how many re-runs with an edited translation followed


# ------------------------------------------------------------------------------ names and folders


def safe_filename(name: str, default: str = "input") -> str:
    """A file name that is only letters, digits, '.', '_' and '-', with no folder part.

    '../../etc/passwd' -> 'passwd', 'my talk; rm -rf ~.mp4' -> 'my_talk_rm_-rf_.mp4'.
    """
    base = re.split(r"[\\/]", str(name))[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE_CHARS.sub("_", stem).strip("._-") or default
    suffix = _UNSAFE_CHARS.sub("", suffix).lower()[:10]
    stem = stem[: _MAX_NAME_CHARS - len(suffix) - 1]
    return f"{stem}.{suffix}" if suffix else stem


def inside(folder: Path, path: Path) -> bool:
    """Whether `path` (after resolving links and '..') lies within `folder`."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def new_run_folder(root: Path) -> Path:
    """A fresh folder with an unguessable name for one request's inputs, cache and outputs."""
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="run-", dir=root))


def prune_runs(root: Path, older_than_s: float, now: float | None = None) -> int:
    """Deletes run folders not touched for `older_than_s`; returns how many went."""
    if not root.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for folder in root.glob("run-*"):
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > older_than_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:  # another worker removed it first
            continue
    return removed


def stage_upload(upload: Path, run_dir: Path, what: str, max_mb: float) -> Path:
    """Copies an uploaded file into the run folder under a sanitised name, checking its size."""
    upload = Path(upload)
    if not upload.is_file():
        raise MediaError(f"{what}: the uploaded file is missing ({upload.name}); upload it again")
    size_mb = upload.stat().st_size / 1e6
    if size_mb > max_mb:
        raise MediaError(f"{what}: {upload.name} is {size_mb:.0f} MB, over the upload limit of "
                         f"{max_mb:.0f} MB (the server's --max-upload-mb)")
    folder = run_dir / "inputs"
    folder.mkdir(exist_ok=True)
    target = folder / safe_filename(upload.name)
    if target.exists():  # two uploads with the same name (e.g. video and dub audio)
        target = folder / f"{what}-{target.name}"
    if not inside(run_dir, target):
        raise MediaError(f"{what}: refused file name {upload.name!r}")
    shutil.copyfile(upload, target)
    return target


def playable_examples(source_dir: Path, cache_dir: Path, limit: int = 6) -> list[Path]:
    """H.264 MP4 copies of example clips (GRID is MPEG-1, which browsers cannot play)."""
    from f2f.media import atomic_output, run_ffmpeg

    cache_dir.mkdir(parents=True, exist_ok=True)
    examples = []
    for clip in sorted(source_dir.glob("*.mpg"))[:limit]:
        target = cache_dir / f"{clip.stem}.mp4"
        if not target.is_file():
            with atomic_output(target) as tmp:
                run_ffmpeg(["-i", str(clip), "-c:v", "libx264", "-preset", "veryfast",
                            "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "aac",
                            "-movflags", "+faststart", "-f", "mp4", str(tmp)],
                           f"making a playable copy of example {clip.name}")
        examples.append(target)
    return examples


# ------------------------------------------------------------------------------ backends


def backend_choices() -> dict[str, list[tuple[str, str]]]:
    """Per stage kind: (label, name) pairs of registered backends, plus ("off", "none")."""
    from f2f.registry import all_backends

    choices: dict[str, list[tuple[str, str]]] = {kind: [] for kind in KINDS}
    for cls in all_backends():
        if cls.kind == "mt" and cls.name == "manual":  # chosen by uploading a translation
            continue
        try:
            status = cls().availability()
            label = cls.name if status.ok else f"{cls.name} (unavailable here)"
        except Exception as exc:  # a backend that cannot even be built is listed as unavailable
            log.warning("backend %s/%s: %s", cls.kind, cls.name, exc)
            label = f"{cls.name} (unavailable here)"
        choices[cls.kind].append((label, cls.name))
    for kind in KINDS:
        choices[kind].append(("off", OFF))
    return choices


def target_languages() -> list[str]:
    """Languages some MT backend declares, Hindi first (the project's target)."""
    from f2f.registry import all_backends

    found = {"hi"}
    for cls in all_backends():
        if cls.kind == "mt" and cls.languages:
            found |= set(cls.languages)
    return ["hi", *sorted(found - {"hi"})]


class _SerialBackend:
    """One run's view of a shared backend: its run method is entered by one thread at a time.

    Models (and libraries such as espeak-ng) are not safe to call from several threads at once,
    and `metrics` must belong to the run that produced them, so each run gets its own copy.
    """

    _RUN_METHODS = frozenset({"transcribe", "translate", "synthesize", "convert", "sync"})

    def __init__(self, shared: Backend, lock: threading.Lock) -> None:
        self._shared = shared
        self._lock = lock
        self.metrics: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._shared, name)
        if name not in self._RUN_METHODS:
            return value

        def serialised(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self._shared.metrics = {}
                result = value(*args, **kwargs)
                self.metrics = dict(self._shared.metrics)
            return result

        return serialised


class SharedPool(BackendPool):
    """The app's one pool: models load once per process, runs on many threads share them."""

    def __init__(self) -> None:
        super().__init__()
        self._pool_lock = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}

    def get(self, kind: str, choice: StageChoice, device: str, language: str = "") -> Backend:
        with self._pool_lock:  # two first requests must not build the same model twice
            shared = super().get(kind, choice, device, language)
            lock = self._locks.setdefault(id(shared), threading.Lock())
        return _SerialBackend(shared, lock)  # type: ignore[return-value]


# ------------------------------------------------------------------------------ progress


def overall_progress(event: ProgressEvent) -> tuple[float, str]:
    """Maps a stage's own fraction onto the whole run (0..1) and a label for the page."""
    index = STEPS.index(event.stage) if event.stage in STEPS else len(STEPS) - 1
    fraction = (index + min(max(event.fraction, 0.0), 1.0)) / len(STEPS)
    label = f"{event.stage}: {event.message}" if event.message else event.stage
    return fraction, label


# ------------------------------------------------------------------------------ running


def build_config(request: RunRequest, options: AppOptions) -> PipelineConfig:
    """The same config the CLI would build for these choices, with the server's limits."""
    overrides: dict[str, Any] = {"target_language": request.target_language}
    for kind, name in request.backends.items():
        if kind not in KINDS:
            raise ConfigError(f"unknown stage {kind!r}; stages are: {', '.join(KINDS)}")
        overrides[kind] = name
    if request.manual_translation:
        overrides["manual_translation"] = str(request.manual_translation)
    if request.manual_dub_audio:
        overrides["manual_dub_audio"] = str(request.manual_dub_audio)
    sets = [f"limits.max_duration_s={options.max_duration_s}",
            f"limits.max_file_mb={options.max_upload_mb}"]
    return load_config(sets=sets, **overrides)


def _joined_audio(segments: SpeechSegments | None, path: Path) -> Path | None:
    """All segments one after another (short gaps between), for an audio player."""
    if segments is None or not segments.segments:
        return None
    rate = segments.segments[0].speech.sample_rate
    gap = np.zeros(int(GAP_BETWEEN_SEGMENTS_S * rate), np.float32)
    parts: list[np.ndarray] = []
    for seg in segments.segments:
        if seg.speech.sample_rate != rate:  # not expected; skip rather than play it wrong
            log.warning("segment %d has rate %d, not %d; left out of the preview", seg.id,
                        seg.speech.sample_rate, rate)
            continue
        parts += [seg.speech.samples.astype(np.float32), gap]
    Speech(np.concatenate(parts) if parts else gap, rate).save_wav(path)
    return path


def _summary(result: RunResult) -> str:
    rows = ["| stage | backend | time |", "|---|---|---|"]
    for step in result.report.steps:
        state = ("off" if step.backend == "none" else "cached" if step.cached
                 else f"{step.wall_s:.1f} s")
        rows.append(f"| {step.stage} | {step.backend} | {state} |")
    lines = [f"Done in {result.report.total_wall_s:.1f} s.", "", *rows]
    lines += [f"\n**warning:** {w}" for w in result.report.warnings]
    return "\n".join(lines)


def _outcome(request: RunRequest, run_dir: Path, result: RunResult, edits: int) -> RunOutcome:
    transcript = result.transcript.segments if result.transcript else ()
    translation = result.translation.segments if result.translation else ()
    previews = run_dir / "previews"
    previews.mkdir(exist_ok=True)
    downloads = tuple(path for key, path in result.outputs.items()
                      if key != "video" and path.is_file())
    return RunOutcome(
        request=request, run_dir=run_dir, video=result.outputs["video"],
        transcript_text="\n".join(s.text for s in transcript),
        translation_text="\n".join(s.text for s in translation),
        tts_audio=_joined_audio(result.tts, previews / f"tts-{edits}.wav"),
        vc_audio=_joined_audio(result.vc, previews / f"vc-{edits}.wav"),
        downloads=downloads, report=json.loads(json.dumps(result.report.to_dict(), default=str)),
        summary=_summary(result), edits=edits)


def run_request(request: RunRequest, options: AppOptions, pool: BackendPool,
                progress: Callable[[ProgressEvent], None]) -> RunOutcome:
    """Copies the uploads into a new run folder and runs the library on them there."""
    prune_runs(options.runs_root, options.keep_runs_hours * 3600)
    run_dir = new_run_folder(options.runs_root)
    log.info("app run in %s", run_dir)
    staged = RunRequest(
        video=stage_upload(request.video, run_dir, "video", options.max_upload_mb),
        target_language=request.target_language, backends=dict(request.backends),
        manual_translation=(stage_upload(request.manual_translation, run_dir, "translation",
                                         options.max_upload_mb)
                            if request.manual_translation else None),
        manual_dub_audio=(stage_upload(request.manual_dub_audio, run_dir, "dub-audio",
                                       options.max_upload_mb)
                          if request.manual_dub_audio else None))
    return _run_in(staged, run_dir, options, pool, progress, edits=0)


def rerun_with_translation(previous: RunOutcome, edited_translation: str, options: AppOptions,
                           pool: BackendPool, progress: Callable[[ProgressEvent], None]
                           ) -> RunOutcome:
    """Re-runs from MT on with the user's edited text; earlier stages come from the run's cache."""
    lines = [line.strip() for line in edited_translation.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    expected = len(previous.translation_text.splitlines())
    if len(lines) != expected:
        raise ConfigError(f"the edited translation has {len(lines)} lines but the video has "
                          f"{expected} segments; keep one line per segment")
    blank = [str(i + 1) for i, line in enumerate(lines) if not line]
    if blank:  # the manual MT skips blank lines, which would shift every later segment
        raise ConfigError(f"line(s) {', '.join(blank)} of the edited translation are empty; "
                          "write some text for every segment")
    if not (previous.run_dir / "inputs").is_dir():
        raise MediaError(f"this run's files were cleaned up (runs are kept "
                         f"{options.keep_runs_hours:g} h); translate the video again")
    edits = previous.edits + 1
    text_file = previous.run_dir / "inputs" / f"edited-translation-{edits}.txt"
    text_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    request = dataclasses.replace(previous.request, manual_translation=text_file)
    return _run_in(request, previous.run_dir, options, pool, progress, edits)


def _without_server_paths(exc: F2FError, run_dir: Path) -> F2FError:
    """The same error with the run folder's location cut out of its message (for the page)."""
    message = str(exc).replace(f"{run_dir}/inputs/", "").replace(f"{run_dir}/", "")
    try:
        return type(exc)(message)
    except TypeError:  # an error type with a different constructor: keep it as it is
        return exc


def _run_in(request: RunRequest, run_dir: Path, options: AppOptions, pool: BackendPool,
            progress: Callable[[ProgressEvent], None], edits: int) -> RunOutcome:
    config = build_config(request, options)
    out_dir = run_dir / "outputs"
    out_dir.mkdir(exist_ok=True)
    stem = request.video.stem if edits == 0 else f"{request.video.stem}-edit{edits}"
    output = out_dir / f"{stem}.{config.target_language}.mp4"
    os.utime(run_dir)  # in use: a prune started by another request must not delete it now
    try:
        result = translate_video(request.video, output, config, workdir=run_dir / "cache",
                                 pool=pool, progress=progress)
    except F2FError as exc:
        raise _without_server_paths(exc, run_dir) from exc
    os.utime(run_dir)  # a used run folder is not pruned under its user
    return _outcome(request, run_dir, result, edits)
