"""Batch translation: many videos, one config, one output folder each, on an engine's workers.

    from f2f.batch import run_batch
    from f2f.batch_engines import LocalEngine
    summary = run_batch(["talks/"], "out/", load_config(target_language="hi"), LocalEngine())

Each video is one `translate_video` call in a worker. Every stage goes through the shared
content-addressed cache (`workdir`), and a finished video leaves a marker holding a fingerprint
of its input and config, so a rerun skips it outright and a changed config reuses what it can.
A failing video becomes one row with its one-line error; the others go on.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol

from f2f import __version__
from f2f.batch_chunks import chunk_source, join_chunks, plan_chunks
from f2f.batch_inputs import BatchItem, collect_items
from f2f.batch_jobs import (
    ATTEMPTS_LOG,
    BatchJob,
    ItemResult,
    finished_earlier,
    mark_done,
)
from f2f.cache import hash_file, make_key
from f2f.config import PipelineConfig, with_settings
from f2f.errors import ConfigError, F2FError
from f2f.media import atomic_output
from f2f.progress import ProgressEvent, ProgressFn, silent

log = logging.getLogger(__name__)

REPORT_NAME = "batch_report"


@dataclass
class BatchSummary:
    rows: list[ItemResult]
    engine: str
    workers: int
    wall_s: float
    report_paths: dict[str, Path] = field(default_factory=dict)

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.rows if r.status == "failed"]


class Engine(Protocol):
    """Runs jobs on workers and calls `on_result` in the driver as each one finishes."""

    name: str

    def workers_for(self, jobs: list[BatchJob]) -> int: ...

    def run(self, jobs: list[BatchJob], on_result: Callable[[ItemResult], None]) -> None: ...


# ------------------------------------------------------------------------------ planning


def item_config(config: PipelineConfig, item: BatchItem) -> PipelineConfig:
    """The batch config with one video's manifest options on top (the batch's is untouched)."""
    settings: dict[str, Any] = {}
    if item.translation is not None:
        settings["manual_translation"] = str(item.translation)
    if item.dub_audio is not None:
        settings["manual_dub_audio"] = str(item.dub_audio)
    if item.face is not None:
        settings["lipsync"] = {"face_index": item.face}
    return with_settings(config, settings)


def _fingerprint(item: BatchItem, config: PipelineConfig) -> str:
    """Same input content, options and config -> same fingerprint; else the video runs again."""
    def content(path: Path | None) -> str:
        return hash_file(path) if path is not None and path.is_file() else str(path)

    return make_key(input=content(item.input), translation=content(item.translation),
                    dub_audio=content(item.dub_audio), config=config.to_dict(),
                    version=__version__)


def plan_jobs(items: list[BatchItem], out_dir: Path, config: PipelineConfig,
              workdir: Path | None, use_cache: bool = True, refresh: tuple[str, ...] = (),
              quiet_workers: bool = True, chunk_s: float | None = None) -> list[BatchJob]:
    jobs = []
    for item in items:
        own = item_config(config, item)
        try:
            fingerprint = _fingerprint(item, own)
            if chunk_s:  # a chunked output is another output
                fingerprint = make_key(whole=fingerprint, chunk_s=chunk_s)
        except OSError:  # unreadable input: it fails alone when it runs
            fingerprint = ""
        output = out_dir / item.name / f"{item.name}.{own.target_language}.mp4"
        jobs.append(BatchJob(item, output, own, fingerprint, workdir, use_cache, refresh,
                             quiet_workers))
    return jobs


# ------------------------------------------------------------------------------ in a worker


_WORKER_POOL: Any = None  # this process's BackendPool: models load once per worker


def _worker_pool() -> Any:
    global _WORKER_POOL
    if _WORKER_POOL is None:
        from f2f.pipeline import BackendPool

        _WORKER_POOL = BackendPool()
    return _WORKER_POOL


def _record_attempt(folder: Path) -> tuple[int, str]:
    worker = f"{socket.gethostname()}:{os.getpid()}"
    with open(folder / ATTEMPTS_LOG, "a", encoding="utf-8") as log_file:
        log_file.write(f"{worker} {time.time():.3f}\n")
    return len((folder / ATTEMPTS_LOG).read_text(encoding="utf-8").splitlines()), worker


def run_job(job: BatchJob) -> ItemResult:
    """One video in a worker process; every error becomes a row, never an exception."""
    from f2f.pipeline import translate_video

    if job.quiet_workers:  # quality notes would repeat per video; they go into the row instead
        for name in ("f2f", "stages", "lipgan"):
            logging.getLogger(name).setLevel(logging.ERROR)
    row = ItemResult(job.item.name, str(job.item.input), "failed", str(job.output))
    if not job.folder.is_dir() or (job.workdir is not None and not job.workdir.is_dir()):
        missing = job.folder if not job.folder.is_dir() else job.workdir
        return replace(row, error_type="ConfigError", worker=socket.gethostname(), error=(
            f"{missing} is not visible on worker {socket.gethostname()}: --out and --workdir "
            f"must be on shared storage that every worker mounts at the same path"))
    attempt, worker = _record_attempt(job.folder)
    row = replace(row, attempts=attempt, worker=worker)
    started = time.perf_counter()
    try:
        source = job.item.input if job.span is None else chunk_source(job)
        result = translate_video(source, job.output, job.config, workdir=job.workdir,
                                 use_cache=job.use_cache, refresh=job.refresh,
                                 pool=_worker_pool())
    except Exception as exc:  # one bad video fails alone; a bug keeps its traceback in the log
        if not isinstance(exc, F2FError):
            log.error("%s: unexpected error", job.item.input, exc_info=True)
        message = " ".join(str(exc).split()) or type(exc).__name__
        return replace(row, error=message, error_type=type(exc).__name__,
                       wall_s=round(time.perf_counter() - started, 3))
    wall_s = round(time.perf_counter() - started, 3)
    duration_s = float(result.report.media.get("duration_s") or 0.0) or None
    row = replace(row, status="done", wall_s=wall_s, duration_s=duration_s,
                  realtime_factor=round(wall_s / duration_s, 3) if duration_s else None,
                  warnings=tuple(result.report.warnings))
    mark_done(job, row)
    return row


# ------------------------------------------------------------------------------ the batch


def run_batch(inputs: list[str | Path], out_dir: str | Path, config: PipelineConfig,
              engine: Engine, *, workdir: str | Path | None = None, use_cache: bool = True,
              refresh: tuple[str, ...] = (), progress: ProgressFn = silent,
              quiet_workers: bool = True, chunk_s: float | None = None) -> BatchSummary:
    """Translates every input into OUT/<name>/ and writes OUT/batch_report.json and .csv.

    With `chunk_s`, videos longer than 1.5 chunks are cut at silences about every `chunk_s`
    seconds; the chunks run as separate jobs and are joined when the last one finishes.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    if not out_dir.parent.exists():
        raise ConfigError(f"batch: the folder above --out does not exist: {out_dir.parent}")
    items = collect_items(list(inputs))
    if workdir is None and use_cache:
        from f2f.pipeline import default_workdir

        workdir = default_workdir()
    workdir = Path(workdir).resolve() if workdir is not None else None
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    jobs = plan_jobs(items, out_dir.resolve(), config, workdir, use_cache, refresh,
                     quiet_workers, chunk_s)
    rows: dict[str, ItemResult] = {}

    def finish(row: ItemResult) -> None:
        rows[row.name] = row
        progress(ProgressEvent("batch", len(rows) / len(jobs),
                               f"{len(rows)}/{len(jobs)} {row.name}: {row.status}"))

    progress(ProgressEvent("batch", 0.0, f"0/{len(jobs)}"))
    to_run = []
    for job in jobs:
        job.folder.mkdir(parents=True, exist_ok=True)
        earlier = finished_earlier(job)
        if earlier is not None:
            finish(earlier)
        else:
            (job.folder / ATTEMPTS_LOG).unlink(missing_ok=True)  # attempts count per batch run
            to_run.append(job)
    if chunk_s:
        to_run, on_row = _chunked(to_run, chunk_s, finish)
    else:
        on_row = finish
    workers = engine.workers_for(to_run) if to_run else 0
    if to_run:
        log.info("batch: %d job(s) to run, %d video(s) done earlier; engine %s, %d worker(s)",
                 len(to_run), len(rows), engine.name, workers)
        engine.run(to_run, on_row)
    ordered = [rows[job.item.name] for job in jobs]
    summary = BatchSummary(ordered, engine.name, workers,
                           round(time.perf_counter() - started, 3))
    summary.report_paths = write_report(summary, out_dir)
    return summary


def _chunked(jobs: list[BatchJob], chunk_s: float, finish: Callable[[ItemResult], None]
             ) -> tuple[list[BatchJob], Callable[[ItemResult], None]]:
    """Long videos' jobs replaced by their chunks; rows of chunks are joined into one row."""
    expanded: list[BatchJob] = []
    chunked: dict[str, tuple[BatchJob, list[BatchJob]]] = {}
    arrived: dict[str, dict[str, ItemResult]] = {}

    def on_row(row: ItemResult) -> None:
        parent_name = row.name.rpartition("#")[0]
        if parent_name not in chunked:
            finish(row)
            return
        arrived[parent_name][row.name] = row
        parent, chunks = chunked[parent_name]
        if len(arrived[parent_name]) == len(chunks):
            finish(_joined(parent, chunks, arrived[parent_name], join_chunks))

    for job in jobs:
        chunks = plan_chunks(job, chunk_s)
        if not chunks:
            expanded.append(job)
            continue
        chunked[job.item.name], arrived[job.item.name] = (job, chunks), {}
        for chunk in chunks:  # an interrupted video resumes from its finished chunks
            earlier = finished_earlier(chunk)
            if earlier is None:
                (chunk.folder / ATTEMPTS_LOG).unlink(missing_ok=True)
                expanded.append(chunk)
            else:
                on_row(earlier)
    return expanded, on_row


def _joined(parent: BatchJob, chunks: list[BatchJob], rows: dict[str, ItemResult],
            join: Callable[[BatchJob, list[BatchJob]], None]) -> ItemResult:
    ordered = [rows[c.item.name] for c in chunks]
    base = ItemResult(parent.item.name, str(parent.item.input), "failed", str(parent.output),
                      wall_s=round(sum(r.wall_s for r in ordered), 3),
                      attempts=max(r.attempts for r in ordered),
                      worker=" ".join(sorted({r.worker for r in ordered})),
                      warnings=tuple(w for r in ordered for w in r.warnings))
    failed = next((r for r in ordered if r.status == "failed"), None)
    if failed is not None:
        return replace(base, error=f"chunk {failed.name}: {failed.error}",
                       error_type=failed.error_type)
    try:
        join(parent, chunks)
    except F2FError as exc:
        return replace(base, error=f"joining its chunks: {exc}", error_type=type(exc).__name__)
    duration_s = sum(r.duration_s or 0.0 for r in ordered) or None
    row = replace(base, status="done", duration_s=duration_s, realtime_factor=round(
        base.wall_s / duration_s, 3) if duration_s else None)
    mark_done(parent, row)
    return row


def write_report(summary: BatchSummary, out_dir: Path) -> dict[str, Path]:
    paths = {"json": out_dir / f"{REPORT_NAME}.json", "csv": out_dir / f"{REPORT_NAME}.csv"}
    counts = {s: sum(r.status == s for r in summary.rows) for s in ("done", "skipped", "failed")}
    data = {"f2f_version": __version__, "engine": summary.engine, "workers": summary.workers,
            "wall_s": summary.wall_s, "counts": counts,
            "videos": [asdict(row) for row in summary.rows]}
    with atomic_output(paths["json"]) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    columns = [f.name for f in fields(ItemResult)]
    with atomic_output(paths["csv"]) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            for row in summary.rows:
                writer.writerow(asdict(row) | {"warnings": " | ".join(row.warnings)})
    return paths
