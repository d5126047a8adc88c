"""One BLAS thread while any holder needs it, shared by every thread of the process.

threadpoolctl's limit is process-wide and each `threadpool_limits` restores what it found when
it ends: two overlapping holders in different threads (two app runs, a VC stage and a
diarization) end in either order, so the first to end lifted the other's limit and the last
left the whole process on one BLAS thread for good. Here the first holder sets the limit and
the last one out restores the original.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()
_holders = 0
_limiter: Any = None  # threadpoolctl's limiter while some holder is in


@contextmanager
def one_blas_thread() -> Iterator[None]:
    global _holders, _limiter
    with _LOCK:
        if _holders == 0:
            from threadpoolctl import threadpool_limits

            _limiter = threadpool_limits(1, user_api="blas")
        _holders += 1
    try:
        yield
    finally:
        with _LOCK:
            _holders -= 1
            if _holders == 0:
                _limiter.restore_original_limits()
                _limiter = None
