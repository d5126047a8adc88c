"""A batch's unit of work and its result row, and the per-video markers that make a batch
resumable: what the driver (`f2f.batch`), the chunking (`f2f.batch_chunks`) and the engines
(`f2f.batch_engines`) share, so that none of them imports another in a circle.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from f2f.batch_inputs import BatchItem
from f2f.config import PipelineConfig
from f2f.media import atomic_output

DONE_MARKER = ".batch_done.json"  # per video folder: fingerprint + the row of the finished run
ATTEMPTS_LOG = ".batch_attempts"  # per video folder: one "host pid time" line per attempt


@dataclass(frozen=True)
class BatchJob:
    """Everything a worker needs for one video; small and picklable (paths, not data)."""

    item: BatchItem
    output: Path  # DIR/<name>/<name>.<lang>.mp4
    config: PipelineConfig  # the batch config with this video's own options applied
    fingerprint: str
    workdir: Path | None = None
    use_cache: bool = True
    refresh: tuple[str, ...] = ()
    quiet_workers: bool = True
    span: tuple[int, int] | None = None  # a chunk: frames [start, end) of item.input
    parent: str = ""  # a chunk: the name of the video it belongs to

    @property
    def folder(self) -> Path:
        return self.output.parent


@dataclass(frozen=True)
class ItemResult:
    """One row of the batch report."""

    name: str
    input: str
    status: str  # "done", "skipped" (finished by an earlier run) or "failed"
    output: str = ""
    error: str = ""  # one line
    error_type: str = ""
    wall_s: float = 0.0
    duration_s: float | None = None  # of the input video
    realtime_factor: float | None = None  # wall_s / duration_s: under 1 is faster than real time
    attempts: int = 0
    worker: str = ""  # host:pid of the last attempt
    warnings: tuple[str, ...] = ()


def finished_earlier(job: BatchJob) -> ItemResult | None:
    """The earlier run's row when this exact job already finished (the resume check)."""
    marker = job.folder / DONE_MARKER
    if job.refresh or not job.fingerprint or not marker.is_file() or not job.output.is_file():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        if data.get("fingerprint") != job.fingerprint:
            return None
        row = dict(data["row"])
        row["warnings"] = tuple(row.get("warnings", ()))
        return replace(ItemResult(**row), status="skipped")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # an unreadable marker (another version, edited by hand): the video runs


def attempts_of(job: BatchJob) -> int:
    path = job.folder / ATTEMPTS_LOG
    return len(path.read_text(encoding="utf-8").splitlines()) if path.is_file() else 0


def mark_done(job: BatchJob, row: ItemResult) -> None:
    if job.use_cache and job.fingerprint:
        with atomic_output(job.folder / DONE_MARKER) as tmp:
            tmp.write_text(json.dumps({"fingerprint": job.fingerprint, "row": asdict(row)},
                                      ensure_ascii=False, indent=1), encoding="utf-8")
