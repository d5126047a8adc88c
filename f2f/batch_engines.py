"""Where batch jobs run: a local process pool, or tasks on a Ray cluster.

Both call `f2f.batch.run_job` in worker processes that live for the whole batch, so each worker
loads its models once. A worker that dies (killed, out of memory, a lost node) costs its videos
an attempt; they are run again up to `max_retries` times, resuming from the shared cache.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from f2f.batch import run_job
from f2f.batch_jobs import BatchJob, ItemResult, attempts_of
from f2f.errors import ConfigError, MissingDependencyError
from f2f.stage import machine_cpus

log = logging.getLogger(__name__)

ENGINES = ("local", "ray")
LOCAL_OBJECT_STORE_BYTES = 128 * 1024**2  # jobs and rows are paths and numbers, never frames


def _lost(job: BatchJob, why: str) -> ItemResult:
    attempts = attempts_of(job)
    return ItemResult(job.item.name, str(job.item.input), "failed", str(job.output),
                      error=f"its worker was lost on each of {attempts} attempt(s) ({why}); "
                            f"finished stages are cached, rerun the batch to resume",
                      error_type="WorkerLostError", attempts=attempts)


def make_engine(name: str, workers: int | None = None, max_retries: int = 2,
                **ray_options: Any) -> Any:
    if name == "local":
        return LocalEngine(workers, max_retries)
    if name == "ray":
        return RayEngine(max_retries=max_retries, local_cpus=workers, **ray_options)
    raise ConfigError(f"unknown batch engine {name!r}; choose one of: {', '.join(ENGINES)}")


# ------------------------------------------------------------------------------ local


def _init_local_worker(threads: int) -> None:
    # before torch / CTranslate2 are imported, so each worker keeps to its share of the cores;
    # a count the user pinned wins (ASR timings shift slightly with the thread count, so
    # identical results across machines need one fixed count)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = os.environ.get("OMP_NUM_THREADS") or str(threads)


class LocalEngine:
    """A pool of worker processes on this machine (spawned: no state forked from the driver).

    Default size: one worker per two cores (each runs multi-threaded stages), at most one per
    video. The cores are split evenly between the workers.
    """

    name = "local"

    def __init__(self, workers: int | None = None, max_retries: int = 2) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        self.workers, self.max_retries = workers, max_retries

    def workers_for(self, jobs: list[BatchJob]) -> int:
        wanted = self.workers or max(1, machine_cpus() // 2)
        return max(1, min(wanted, len(jobs)))

    def run(self, jobs: list[BatchJob], on_result: Callable[[ItemResult], None]) -> None:
        pending = list(jobs)
        workers = self.workers_for(jobs)
        threads = max(1, machine_cpus() // workers)
        while pending:
            pending = self._run_pool(pending, workers, threads, on_result)

    def _run_pool(self, jobs: list[BatchJob], workers: int, threads: int,
                  on_result: Callable[[ItemResult], None]) -> list[BatchJob]:
        """Runs until done or until a worker dies; returns the jobs to run again."""
        broken = False
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                 initializer=_init_local_worker, initargs=(threads,)) as pool:
            futures = {pool.submit(run_job, job): job for job in jobs}
            remaining = set(futures)
            while remaining and not broken:
                done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        on_result(future.result())
                    except BrokenProcessPool:
                        broken = True
                        remaining.add(future)
        if not broken:
            return []
        retry = []
        for future in remaining:
            job = futures[future]
            if attempts_of(job) > self.max_retries:
                on_result(_lost(job, "a worker process died"))
            else:
                retry.append(job)
        log.warning("batch: a worker process died; running %d video(s) again", len(retry))
        return retry


# ------------------------------------------------------------------------------ ray


class RayEngine:
    """Each video one Ray task, with its CPU/GPU needs declared, retried on worker loss.

    `ray.init()` joins the cluster named by `address` or RAY_ADDRESS, else starts a local
    instance with `local_cpus` CPUs. Every node must see `--out` and `--workdir` at the same
    path (shared storage): workers write outputs and cache entries there directly.
    """

    name = "ray"

    def __init__(self, address: str | None = None, cpus_per_video: float = 1.0,
                 gpus_per_video: float | None = None, max_retries: int = 2,
                 local_cpus: int | None = None, init_options: dict[str, Any] | None = None,
                 ) -> None:
        self.address, self.cpus_per_video, self.gpus_per_video = address, cpus_per_video, \
            gpus_per_video
        self.max_retries, self.local_cpus = max_retries, local_cpus
        self.init_options = dict(init_options or {})
        self._workers = 0

    @staticmethod
    def _ray() -> Any:
        try:
            import ray
        except ImportError as exc:
            raise MissingDependencyError(
                "--engine ray needs the 'ray' package: pip install 'f2f[ray]' "
                "(or pick --engine local)") from exc
        return ray

    def workers_for(self, jobs: list[BatchJob]) -> int:
        return self._workers or self.local_cpus or 0

    def _init(self, ray: Any) -> bool:
        """Connects or starts Ray; True when this call started it (and must shut it down)."""
        if ray.is_initialized():
            return False
        address = self.address or os.environ.get("RAY_ADDRESS")
        options: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False}
        if address:
            options["address"] = address
        else:  # a private local instance, sized like the local engine
            options.update(address="local", num_cpus=self.local_cpus or machine_cpus(),
                           object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                           include_dashboard=False)
            # its workers must import the same f2f as this driver
            f2f_root = str(Path(__file__).resolve().parent.parent)
            path = os.pathsep.join(p for p in (f2f_root, os.environ.get("PYTHONPATH")) if p)
            options["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
        options.update(self.init_options)
        ray.init(**options)
        return True

    def _gpus(self, ray: Any, jobs: list[BatchJob]) -> float:
        if self.gpus_per_video is not None:
            return self.gpus_per_video
        wants_gpu = any(job.config.device != "cpu" for job in jobs)
        return 1.0 if wants_gpu and ray.cluster_resources().get("GPU", 0) > 0 else 0.0

    def run(self, jobs: list[BatchJob], on_result: Callable[[ItemResult], None]) -> None:
        ray = self._ray()
        started_here = self._init(ray)
        try:
            gpus = self._gpus(ray, jobs)
            cpus = ray.cluster_resources().get("CPU", 1)
            self._workers = max(1, int(cpus // self.cpus_per_video))
            if gpus:
                # a GPU task sees only its own device: CUDA_VISIBLE_DEVICES is set by Ray
                jobs = [replace(job, config=replace(job.config, device="cuda")) for job in jobs]
            task = ray.remote(run_job).options(num_cpus=self.cpus_per_video, num_gpus=gpus,
                                               max_retries=self.max_retries,
                                               retry_exceptions=False)
            refs = {task.remote(job): job for job in jobs}
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                for ref in done:
                    job = refs.pop(ref)
                    try:
                        row = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        why = " ".join(str(exc).split())[:200]
                        row = _lost(job, f"{type(exc).__name__}: {why}")
                    on_result(row)
        finally:
            if started_here:
                ray.shutdown()
