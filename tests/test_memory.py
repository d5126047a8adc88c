"""Freed memory goes back to the system between stages (f2f.memory, called by the graph).

The pattern is the one a VC stage leaves: after one larger array is freed, glibc serves
mid-sized arrays from its heap; when most are freed but a few stay, the free pages stay
resident until malloc_trim gives them back.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

_SCRIPT = """
import numpy as np
from f2f.memory import release_free_memory

def resident_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

first = np.ones(1_000_000); del first  # freeing an 8 MB mapping raises glibc's mmap threshold
arrays = [np.ones((400, 513)) for _ in range(400)]  # 1.6 MB each: now from the heap
kept = arrays[49::50]
del arrays
before = resident_mb()
released = release_free_memory()
print(released, before, resident_mb())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmRSS and glibc: Linux only")
def test_freed_heap_memory_is_returned_to_the_system() -> None:
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                          check=True)
    released, before, after = done.stdout.split()
    if released == "False":
        pytest.skip("no malloc_trim in this C library (not glibc)")
    assert float(before) > 400, before  # the pattern did leave freed pages resident
    assert float(after) < 0.3 * float(before), (before, after)
