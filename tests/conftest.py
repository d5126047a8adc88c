"""Shared fixtures: the real data in ../shared (skipped when absent) and small media makers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_root() -> Path:
    return Path(os.environ.get("F2F_SHARED") or REPO.parent / "shared").resolve()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    root = shared_root()
    if not (root / "data").is_dir():
        pytest.skip(f"shared data not found at {root} (set F2F_SHARED)")
    return root / "data"


@pytest.fixture(scope="session")
def grid_clip(shared_dir: Path) -> Path:
    """A real 3 s GRID talking-face clip: 'bin blue at f two now'."""
    return shared_dir / "grid" / "bbaf2n.mpg"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Tests never read or write the user's real caches."""
    home = tmp_path_factory.getbasetemp() / "f2f_home"
    monkeypatch.setenv("F2F_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    yield
