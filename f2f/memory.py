"""Giving freed memory back to the system between stages.

glibc keeps freed heap memory for reuse, and after a stage that allocated many mid-sized arrays
(WORLD envelopes, distance blocks) its raised mmap threshold leaves hundreds of MB of free but
resident pages in the heap. The next stages (the lip sync runs for as long as the video) then
start from that plateau. `malloc_trim(0)` returns those pages; elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim  # glibc only: musl and macOS have none
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Returns the allocator's free pages to the system; False where that is not possible."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
