"""The one way f2f writes a file: beside its final path, then renamed onto it.

A crash never leaves half a file at the final path, and the finished file gets the permissions a
plain `open()` would give under the user's umask (mkstemp's private 0600 is dropped on success).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from f2f.errors import MediaError


def _umask() -> int:
    try:  # Linux reports it without changing it (no window for other threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere it can only be read by setting it: put it straight back
    os.umask(mask)
    return mask


def default_mode() -> int:
    """What `open(path, "w")` would create: 0666 less the umask."""
    return 0o666 & ~_umask()


@contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yields a temporary path beside `path`; renamed onto `path` only if the block succeeds."""
    path = Path(path)
    if not path.parent.is_dir():
        raise MediaError(f"output folder does not exist: {path.parent}")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix or path.suffix,
                                    dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():
            os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def torch_save(payload: object, path: str | Path) -> Path:
    """torch.save, atomically (checkpoints survive an interrupted save)."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)
