"""The `knn` backend's independent pieces of work on several cores, in threads.

WORLD's analysis and synthesis (pyworld releases the GIL in them and keeps no state between
calls) and the speaker encoder's numpy products run outside the GIL, so threads share out what
one core did in turn. Every piece is a pure function of its inputs and results are taken in
the order they were asked for, so the output is the same for any number of workers (a test
compares 1 and 2). One BLAS thread meanwhile: the workers already fill the cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from types import TracebackType
from typing import Any, TypeVar

from f2f.blas_threads import one_blas_thread
from f2f.stage import machine_cpus

T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 4  # more idle than help on a 10 s dub, and each holds a clip's envelopes


def default_workers() -> int:
    """This process's cores, at most MAX_WORKERS; a pinned OMP_NUM_THREADS (a batch worker's
    share of the machine) wins."""
    pinned = os.environ.get("OMP_NUM_THREADS", "").strip()
    cores = int(pinned) if pinned.isdigit() and int(pinned) > 0 else machine_cpus()
    return max(1, min(cores, MAX_WORKERS))


class Workers:
    """A thread pool for one conversion (`with Workers(n) as pool:`); with one worker each
    piece runs in the caller's thread when its result is asked for, as before there were
    threads (a piece never asked for, such as the dub's analysis before a pass-through, never
    runs; a Ctrl-C stops at once)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: ThreadPoolExecutor | None = None
        self._stack = ExitStack()

    def __enter__(self) -> Workers:
        if self.workers > 1:
            self._stack.enter_context(one_blas_thread())
            self._executor = self._stack.enter_context(
                ThreadPoolExecutor(self.workers, thread_name_prefix="vc"))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._executor is not None:  # what has not started by now is not needed (an early
            # pass-through, an error): it never starts
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._stack.close()

    def submit(self, function: Callable[..., R], *args: Any) -> Future[R]:
        if self._executor is not None:
            return self._executor.submit(function, *args)
        return _Deferred(function, args)

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`function` of each item, in the items' order."""
        return [f.result() for f in [self.submit(function, item) for item in items]]


class _Deferred(Future[R]):
    """One worker's piece: run by the first `result()`, in the caller's thread."""

    def __init__(self, function: Callable[..., R], args: tuple[Any, ...]) -> None:
        super().__init__()
        self._call: tuple[Callable[..., R], tuple[Any, ...]] | None = (function, args)

    def result(self, timeout: float | None = None) -> R:
        if self._call is not None:
            function, args = self._call
            self._call = None
            try:
                self.set_result(function(*args))
            except BaseException as exc:  # kept for a later result(), as a thread's would be
                self.set_exception(exc)
                raise
        return super().result(timeout)
