"""A content-addressed on-disk cache of stage outputs.

An entry is a folder `<root>/<kind>/<key>/` holding the artifact's files, `metrics.json` and a
`.complete` marker. It is built in a temporary sibling folder and renamed into place, so a crash
never leaves half an entry behind.
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
from pathlib import Path
from typing import Any

from f2f.weights import file_sha256

_COMPLETE = ".complete"


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

    def entry(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def lookup(self, kind: str, key: str) -> Path | None:
        path = self.entry(kind, key)
        return path if self.enabled and (path / _COMPLETE).is_file() else None

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
