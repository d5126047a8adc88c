"""The packages pass mypy with the settings in pyproject.toml ([tool.mypy]): CI runs it here."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_errors() -> None:
    if importlib.util.find_spec("mypy") is None:
        # the CI environment (scripts/install.sh --test) installs mypy: missing there is a bug
        assert Path(sys.prefix).resolve() != (REPO / ".venv").resolve(), \
            "mypy is missing from .venv; scripts/install.sh --test installs it"
        pytest.skip("mypy is not installed (pip install -e '.[test]')")
    # the files and flags come from pyproject.toml; a cache per interpreter makes reruns fast
    # (one written by another environment names modules this one lacks: false errors)
    cache = REPO / ".mypy_cache" / hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache)], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
