"""The cache's size cap: least recently used entries go first, never one a running job uses;
`python -m f2f cache` shows where and how big, and trims on request."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from f2f.cache import Cache
from f2f.config import load_config
from f2f.pipeline import BackendPool, translate_video
from mediafactory import make_video
from test_pipeline import TEST_STAGES  # importing it registers the in-test backends

REPO = Path(__file__).resolve().parent.parent


def _entry(cache: Cache, kind: str, key: str, size: int, used_s_ago: float) -> Path:
    with cache.writing(kind, key) as tmp:
        (tmp / "data.bin").write_bytes(b"x" * size)
    entry = cache.entry(kind, key)
    used = time.time() - used_s_ago
    os.utime(entry / ".complete", (used, used))
    return entry


def test_trim_removes_least_recently_used_first(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    oldest = _entry(cache, "asr", "a", 1000, 300)
    middle = _entry(cache, "mt", "b", 1000, 200)
    newest = _entry(cache, "tts", "c", 1000, 100)
    cache.lookup("asr", "a")  # a lookup is a use: "a" is now the newest
    removed = cache.trim(max_bytes=2500)
    assert [e.path for e in removed] == [middle]
    assert oldest.exists() and newest.exists() and cache.size_bytes() <= 2500


def test_trim_never_removes_an_entry_a_running_job_reads(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    _entry(cache, "asr", "a", 1000, 300)
    _entry(cache, "mt", "b", 1000, 200)
    job = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from f2f.cache import Cache\n"
        f"c = Cache({str(tmp_path)!r})\n"
        "with c.leased():\n"
        "    c.lookup('asr', 'a')\n"
        "    print('reading', flush=True)\n"
        "    time.sleep(60)\n")], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert job.stdout is not None and job.stdout.readline().strip() == "reading"
        removed = Cache(tmp_path).trim(max_bytes=0)  # another process: clear everything
        assert [e.kind for e in removed] == ["mt"]
        assert cache.lookup("asr", "a") is not None
    finally:
        job.kill()
        job.wait()
    assert Cache(tmp_path).trim(max_bytes=0)  # the job is gone: its lease no longer holds


def test_a_run_keeps_the_cache_under_its_cap(tmp_path: Path) -> None:
    clip = make_video(tmp_path / "talk.mp4", seconds=2.0, audio="noise")
    work = tmp_path / "w"
    cache = Cache(work)
    stale = _entry(cache, "lipsync", "stale", 3_000_000, 3600)
    config = load_config(sets=[*TEST_STAGES, "limits.cache_max_gb=0.002"])  # 2 MB
    translate_video(clip, tmp_path / "o.mp4", config, workdir=work, pool=BackendPool())
    assert not stale.exists() and cache.size_bytes() <= 2_000_000
    assert cache.lookup("asr", next(p.name for p in (work / "asr").iterdir()))


def f2f(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "f2f", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def test_cache_command_shows_clears_and_ages(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    _entry(cache, "asr", "old", 2_000_000, 10 * 86400)
    _entry(cache, "mt", "new", 1_000_000, 60)
    shown = f2f("cache", "--workdir", str(cache.root))
    assert shown.returncode == 0, shown.stderr
    assert str(cache.root) in shown.stdout and "3.0 MB in 2 entries" in shown.stdout
    aged = f2f("cache", "--workdir", str(cache.root), "--older-than", "7d")
    assert "removed 1 entries" in aged.stdout and "1.0 MB in 1 entries" in aged.stdout
    assert cache.lookup("mt", "new") and not cache.lookup("asr", "old")
    cleared = f2f("cache", "--workdir", str(cache.root), "--clear")
    assert cleared.returncode == 0 and "0 entries" in cleared.stdout
    bad = f2f("cache", "--workdir", str(cache.root), "--older-than", "soon")
    assert bad.returncode == 2 and "error: --older-than" in bad.stderr
