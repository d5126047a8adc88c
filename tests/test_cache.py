"""The stage cache: stable keys, atomic entries, nothing half-written after a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from f2f.cache import Cache, hash_file, make_key


def test_keys_are_stable_and_order_free() -> None:
    assert make_key(a=1, b={"x": [1, 2]}) == make_key(b={"x": [1, 2]}, a=1)
    assert make_key(a=1) != make_key(a=2)


def test_entry_appears_only_when_complete(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    with pytest.raises(RuntimeError):
        with cache.writing("asr", "k1") as tmp:
            (tmp / "artifact.json").write_text("{}")
            raise RuntimeError("killed mid-stage")
    assert cache.lookup("asr", "k1") is None
    assert not any((tmp_path / "asr").iterdir())  # no temp folder left behind
    with cache.writing("asr", "k1") as tmp:
        (tmp / "artifact.json").write_text("{}")
        cache.write_metrics(tmp, {"wer": 0.1})
    entry = cache.lookup("asr", "k1")
    assert entry is not None and cache.read_metrics(entry) == {"wer": 0.1}


def test_disabled_cache_never_hits(tmp_path: Path) -> None:
    cache = Cache(tmp_path, enabled=False)
    with cache.writing("mt", "k") as tmp:
        (tmp / "x").write_text("1")
    assert cache.lookup("mt", "k") is None


def test_file_hash_follows_content(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    first = hash_file(path)
    path.write_bytes(b"abcd")
    assert hash_file(path) != first


def test_an_entry_finished_by_another_process_meanwhile_is_kept(tmp_path: Path) -> None:
    """Same key, same content: the first finisher's entry stays (others may be reading it),
    unless the caller asked for a refresh."""
    cache = Cache(tmp_path)
    with cache.writing("tts", "k") as ours:
        with cache.writing("tts", "k") as theirs:  # another process, finishing first
            (theirs / "who").write_text("theirs")
        (ours / "who").write_text("ours")
    entry = cache.lookup("tts", "k")
    assert entry is not None and (entry / "who").read_text() == "theirs"
    with cache.writing("tts", "k", replace=True) as refreshed:
        (refreshed / "who").write_text("refreshed")
    assert (cache.lookup("tts", "k") / "who").read_text() == "refreshed"
    assert sorted(p.name for p in (tmp_path / "tts").iterdir()) == ["k"]  # nothing left over


def test_weights_hashes_are_remembered_across_processes_and_redone_when_the_file_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from f2f import weights

    model = tmp_path / "model.bin"
    model.write_bytes(b"weights " * 1000)
    first = weights.file_sha256(model, remember=True)
    assert (weights.f2f_home() / weights.MEMO_FILE).is_file()
    monkeypatch.setattr(weights, "_FINGERPRINTS", {})  # a new process: only the memo file
    hashed: list[Path] = []
    real_open = Path.open

    def counting_open(self: Path, *args: object, **kwargs: object) -> object:
        if self == model:
            hashed.append(self)
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(Path, "open", counting_open)
    assert weights.file_sha256(model, remember=True) == first and hashed == []
    # same size, new content and mtime: hashed again
    model.write_bytes(b"WEIGHTS " * 1000)
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 10**9))
    hashed.clear()  # (write_bytes opens it too)
    second = weights.file_sha256(model, remember=True)
    assert second != first and hashed == [model]
    # an input (remember=False) never reads or writes the memo
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"video")
    weights.file_sha256(clip)
    assert str(clip) not in (weights.f2f_home() / weights.MEMO_FILE).read_text()
