"""Coqui XTTS is optional: where it cannot import, it says why instead of crashing.

Each test checks something on this machine whether or not coqui-tts is installed; the other
states (missing, installed but broken) are made by replacing what the backend looks at.
"""

from __future__ import annotations

import importlib.util

import pytest

from f2f.artifacts import TranslatedSegment, Translation
from f2f.errors import ConfigError, MissingDependencyError
from f2f.registry import get_backend_class
from stages.tts import coqui

HINDI = Translation("en", "hi", (TranslatedSegment(0, "", "क", 0, 1),))


def test_availability_matches_what_imports_here() -> None:
    status = get_backend_class("tts", "coqui")().availability()
    importable = importlib.util.find_spec("TTS") is not None and coqui.import_error() == ""
    assert status.ok == importable, status.reason
    if not status.ok:
        assert "coqui" in status.reason.lower() or "TTS" in status.reason


def test_a_missing_package_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    cls = get_backend_class("tts", "coqui")
    monkeypatch.setattr(cls, "missing_modules", lambda self: ["TTS"])
    status = cls().availability()
    assert not status.ok and "f2f[coqui]" in status.reason
    with pytest.raises(MissingDependencyError, match="coqui"):
        cls().synthesize(HINDI, lambda f, m: None)


def test_installed_but_broken_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    cls = get_backend_class("tts", "coqui")
    monkeypatch.setattr(cls, "missing_modules", lambda self: [])
    monkeypatch.setattr(coqui, "import_error", lambda: "OSError: libtorchaudio.so: undefined")
    status = cls().availability()
    assert not status.ok and "cannot be imported" in status.reason and "torchaudio" in status.reason
    with pytest.raises(MissingDependencyError, match="libtorchaudio"):
        cls().synthesize(HINDI, lambda f, m: None)


def test_an_unsupported_language_is_refused_before_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    cls = get_backend_class("tts", "coqui")
    monkeypatch.setattr(cls, "missing_modules", lambda self: [])
    monkeypatch.setattr(coqui, "import_error", lambda: "")
    monkeypatch.setattr(cls, "_engine", lambda self: pytest.fail("loaded a model"))
    swahili = Translation("en", "sw", (TranslatedSegment(0, "", "habari", 0, 1),))
    with pytest.raises(ConfigError, match="cannot speak 'sw'"):
        cls().synthesize(swahili, lambda f, m: None)
