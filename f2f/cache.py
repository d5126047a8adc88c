"""A content-addressed on-disk cache of stage outputs.

An entry is a folder `<root>/<kind>/<key>/` holding the artifact's files, `metrics.json` and a
`.complete` marker. It is built in a temporary sibling folder and renamed into place, so a crash
never leaves half an entry behind.

Size: every use of an entry touches its marker, so the marker's mtime is its last use; `trim`
removes least-recently-used entries until the cache fits its cap. A running job holds a lease
(`_leases/<pid>.<n>`, the entries it has used, one per line): no entry named in the lease of a
live process is ever removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from f2f.weights import file_sha256

_COMPLETE = ".complete"
_LEASES = "_leases"
_STATE = "_state"
DEFAULT_MAX_GB = 5.0  # the default size cap (limits.cache_max_gb)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def make_key(**parts: Any) -> str:
    """A stable key from named parts (stage identity, config, upstream keys, input hashes)."""
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()[:32]


def hash_file(path: str | Path) -> str:
    """SHA-256 of a file's content (memoised per path, size and mtime within the process)."""
    return file_sha256(Path(path))


class Cache:
    """Stage outputs by (kind, key). `enabled=False` still builds entries, in a scratch folder."""

    def __init__(self, root: str | Path, enabled: bool = True) -> None:
        self.root = Path(root)
        self.enabled = enabled
        self._lease: Path | None = None

    def entry(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def lookup(self, kind: str, key: str) -> Path | None:
        path = self.entry(kind, key)
        if not (self.enabled and (path / _COMPLETE).is_file()):
            return None
        self._used(path)
        return path

    def invalidate(self, kind: str, key: str) -> None:
        shutil.rmtree(self.entry(kind, key), ignore_errors=True)

    def read_metrics(self, entry: Path) -> dict[str, Any]:
        path = entry / "metrics.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    @contextmanager
    def writing(self, kind: str, key: str, replace: bool = False) -> Iterator[Path]:
        """Yields a temporary folder; on success it becomes the entry, on error it vanishes.

        `replace=True` (a refresh) swaps out an existing entry. Otherwise an entry that another
        process completed meanwhile is kept, since it may be being read: deciding this from
        whether an entry exists when writing starts would race with that other process.
        """
        final = self.entry(kind, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        replacing = replace
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
        try:
            yield tmp
            (tmp / _COMPLETE).write_text("")
            self._install(tmp, final, replacing)
            self._used(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @staticmethod
    def _install(tmp: Path, final: Path, replacing: bool) -> None:
        """Renames a finished entry into place, safe against other processes doing the same.

        Same key means same content: when another process completed this entry while we
        computed it, theirs stays (they may be reading it) and ours is dropped.
        """
        if (final / _COMPLETE).is_file() and not replacing:
            shutil.rmtree(tmp, ignore_errors=True)
            return
        aside = final.with_name(f".{final.name}.old.{os.getpid()}.{time.monotonic_ns()}")
        if final.exists():  # move the old entry away in one rename, delete it afterwards
            try:
                os.replace(final, aside)
            except FileNotFoundError:
                pass
        try:
            os.replace(tmp, final)
        except OSError:  # another writer put a complete entry there in between
            if not (final / _COMPLETE).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(aside, ignore_errors=True)

    def write_metrics(self, entry_tmp: Path, metrics: dict[str, Any]) -> None:
        (entry_tmp / "metrics.json").write_text(
            json.dumps(metrics, ensure_ascii=False, indent=1, default=str), encoding="utf-8")

    def scratch(self, kind: str) -> Path:
        """A persistent per-kind folder backends may use (e.g. per-speaker VC models)."""
        path = self.root / "_state" / kind
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ---------------------------------------------------------------- use, leases, size cap

    def _used(self, entry: Path) -> None:
        try:
            os.utime(entry / _COMPLETE)  # the marker's mtime is the entry's last use
        except OSError:
            pass
        if self._lease is not None:
            with self._lease.open("a", encoding="utf-8") as out:
                out.write(f"{entry.relative_to(self.root)}\n")

    @contextmanager
    def leased(self) -> Iterator[Cache]:
        """While the block runs, no other process's `trim` removes an entry this one used."""
        folder = self.root / _LEASES
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"{os.getpid()}.", dir=folder)
        os.close(fd)
        self._lease = Path(name)
        try:
            yield self
        finally:
            self._lease.unlink(missing_ok=True)
            self._lease = None

    def _leased_entries(self) -> set[str]:
        held: set[str] = set()
        folder = self.root / _LEASES
        for lease in folder.glob("*") if folder.is_dir() else ():
            pid = lease.name.split(".", 1)[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                lease.unlink(missing_ok=True)  # its job is gone
                continue
            try:
                held.update(lease.read_text(encoding="utf-8").split())
            except OSError:
                continue
        return held

    def entries(self) -> list[CacheEntry]:
        """Every complete entry, least recently used first."""
        found = []
        for kind_dir in sorted(self.root.iterdir()) if self.root.is_dir() else ():
            if not kind_dir.is_dir() or kind_dir.name in (_LEASES, _STATE):
                continue
            for entry in kind_dir.iterdir():
                marker = entry / _COMPLETE
                if entry.name.startswith(".") or not marker.is_file():
                    continue
                found.append(CacheEntry(entry, kind_dir.name, _size(entry),
                                        marker.stat().st_mtime))
        return sorted(found, key=lambda e: e.last_used)

    def size_bytes(self) -> int:
        return _size(self.root) if self.root.is_dir() else 0

    def trim(self, max_bytes: float | None = None, older_than_s: float | None = None
             ) -> list[CacheEntry]:
        """Removes entries used longer than `older_than_s` ago, then least-recently-used ones
        until the cache holds at most `max_bytes`; never one a live job's lease names."""
        held = self._leased_entries()
        total = self.size_bytes()
        now = time.time()
        removed = []
        for entry in self.entries():
            too_old = older_than_s is not None and now - entry.last_used > older_than_s
            too_big = max_bytes is not None and total > max_bytes
            if not (too_old or too_big):
                continue
            if str(entry.path.relative_to(self.root)) in held:
                continue
            shutil.rmtree(entry.path, ignore_errors=True)
            total -= entry.size_bytes
            removed.append(entry)
        return removed


@dataclass(frozen=True)
class CacheEntry:
    path: Path
    kind: str
    size_bytes: int
    last_used: float  # Unix time


def _size(folder: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
