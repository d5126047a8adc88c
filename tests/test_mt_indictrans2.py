"""IndicTrans2 code path (IndicProcessor in and out) and n-best slot re-ranking, on a tiny
Marian model trained here on IndicTrans2-style tagged inputs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from f2f.artifacts import Segment, Transcript
from f2f.errors import WeightsNotFoundError
from f2f.registry import get_backend_class
from tests._mt_helpers import build_tiny_marian

if importlib.util.find_spec("IndicTransToolkit") is None:  # installed but broken fails instead
    pytest.skip("indictranstoolkit is not installed", allow_module_level=True)
TAGGED = [("eng_Latn hin_Deva hello world", "नमस्ते दुनिया"),
          ("eng_Latn hin_Deva good morning friend", "सुप्रभात दोस्त")]


def _no_progress(fraction: float, message: str = "") -> None:
    pass


def _transcript(texts: list[str], slot_s: float = 0.8) -> Transcript:
    segments = tuple(Segment(i, t, 1.0 * i, 1.0 * i + slot_s) for i, t in enumerate(texts))
    return Transcript("en", segments, "test")


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_marian(tmp_path_factory.mktemp("tiny_indictrans2"), TAGGED)


def test_indictrans2_tags_inputs_and_translates(tiny_dir: Path) -> None:
    cls = get_backend_class("mt", "indictrans2")
    backend = cls(cls.Config(model=str(tiny_dir), beam_size=2))
    assert backend.preprocess(["hello world"], "hi") == ["eng_Latn hin_Deva hello world"]
    translation = backend.translate(_transcript(["hello world", "", "good morning friend"]),
                                    "hi", _no_progress)
    assert [s.text for s in translation.segments] == ["नमस्ते दुनिया", "", "सुप्रभात दोस्त"]
    assert translation.backend == "indictrans2"


def test_missing_indictrans2_weights_say_where_and_how(tmp_path: Path) -> None:
    backend = get_backend_class("mt", "indictrans2")()
    assert not backend.availability().ok
    with pytest.raises(WeightsNotFoundError, match="looked in.*indictrans2"):
        backend.translate(_transcript(["hello"]), "hi", _no_progress)


def test_n_best_is_reranked_by_spoken_duration(tiny_dir: Path) -> None:
    cls = get_backend_class("mt", "indictrans2")
    backend = cls(cls.Config(model=str(tiny_dir), beam_size=4))
    assert backend.fit_to_tts("espeak", {"rate_wpm": 165}) > 0
    n_best = backend.translate_n_best(["hello world"], "hi", None, 4)[0]
    assert n_best[0] == "नमस्ते दुनिया" and len(n_best) >= 2
    translation = backend.translate(_transcript(["hello world"], slot_s=0.3), "hi",
                                    _no_progress)
    choice = backend.metrics["slot_fit"][0]
    assert len(choice["estimates_s"]) == len(n_best)
    chosen = translation.segments[0].text
    assert choice["estimates_s"][choice["chosen"]] == min(choice["estimates_s"])
    assert chosen == n_best[choice["chosen"]]
