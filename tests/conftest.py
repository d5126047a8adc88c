"""Shared fixtures: the clips shipped in tests/data, the larger real data in ../shared (tests
that need it skip when it is absent)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REPO_DATA = REPO / "tests" / "data"  # small clips that ship with the repository


def shared_root() -> Path:
    return Path(os.environ.get("F2F_SHARED") or REPO.parent / "shared").resolve()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    root = shared_root()
    if not (root / "data").is_dir():
        pytest.skip(f"shared data not found at {root} (set F2F_SHARED)")
    return root / "data"


def data_path(relative: str) -> Path:
    """A data file or folder: the repository's copy in tests/data when it ships one, else
    ../shared/data (F2F_SHARED); skips the test when neither has it (large data only)."""
    for root in (REPO_DATA, shared_root() / "data"):
        if (root / relative).exists():
            return root / relative
    pytest.skip(f"{relative} is not in tests/data nor in {shared_root() / 'data'} "
                f"(set F2F_SHARED)")


@pytest.fixture(scope="session")
def data_file() -> Callable[[str], Path]:
    return data_path


@pytest.fixture(scope="session")
def grid_dir() -> Path:
    """Four real 3 s GRID clips and their transcripts.tsv, shipped in tests/data/grid."""
    folder = REPO_DATA / "grid"
    assert (folder / "bbaf2n.mpg").is_file(), f"the repository's test clips are missing: {folder}"
    return folder


@pytest.fixture(scope="session")
def grid_clip(grid_dir: Path) -> Path:
    """A real 3 s GRID talking-face clip: 'bin blue at f two now'."""
    return grid_dir / "bbaf2n.mpg"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Tests never read or write the user's real caches."""
    home = tmp_path_factory.getbasetemp() / "f2f_home"
    monkeypatch.setenv("F2F_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    yield
