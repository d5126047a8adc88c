"""Manual MT: a user's Hindi .txt or .srt mapped onto the English segments."""

from __future__ import annotations

from pathlib import Path

import pytest

from f2f.artifacts import Segment, Transcript
from f2f.errors import ConfigError
from f2f.registry import get_backend_class

TRANSCRIPT = Transcript("en", (Segment(0, "Hello there.", 0.0, 1.5),
                               Segment(1, "How are you?", 2.0, 3.5),
                               Segment(2, "Goodbye.", 5.0, 6.0)), "test")


def _no_progress(fraction: float, message: str = "") -> None:
    pass


def _backend(path: Path | str):
    cls = get_backend_class("mt", "manual")
    return cls(cls.Config(path=str(path)))


def test_text_file_one_line_per_segment(tmp_path: Path) -> None:
    path = tmp_path / "hi.txt"
    path.write_text("नमस्ते।\n\nआप कैसे हैं?\nअलविदा।\n", encoding="utf-8")
    translation = _backend(path).translate(TRANSCRIPT, "hi", _no_progress)
    assert [s.text for s in translation.segments] == ["नमस्ते।", "आप कैसे हैं?", "अलविदा।"]
    assert [(s.id, s.start_s, s.end_s) for s in translation.segments] == [
        (0, 0.0, 1.5), (1, 2.0, 3.5), (2, 5.0, 6.0)]
    assert translation.segments[1].source_text == "How are you?"


def test_line_count_mismatch_is_a_clear_config_error(tmp_path: Path) -> None:
    path = tmp_path / "hi.txt"
    path.write_text("नमस्ते।\nअलविदा।\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="2 non-empty lines but the transcript has 3 segments"):
        _backend(path).translate(TRANSCRIPT, "hi", _no_progress)


def test_srt_cues_map_onto_segments_by_overlap(tmp_path: Path) -> None:
    path = tmp_path / "hi.srt"
    path.write_text(
        "1\n00:00:00,100 --> 00:00:01,400\nनमस्ते।\n\n"
        "2\n00:00:01,900 --> 00:00:02,600\nआप\n\n"
        "3\n00:00:02,700 --> 00:00:03,600\nकैसे हैं?\n\n"
        "4\n00:00:04,900 --> 00:00:06,100\nअलविदा।\n", encoding="utf-8")
    backend = _backend(path)
    translation = backend.translate(TRANSCRIPT, "hi", _no_progress)
    assert [s.text for s in translation.segments] == ["नमस्ते।", "आप कैसे हैं?", "अलविदा।"]
    assert backend.metrics["segments_without_cue"] == 0


def test_srt_without_transcript_becomes_the_segments(tmp_path: Path) -> None:
    path = tmp_path / "hi.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,500\nनमस्ते।\n\n"
                    "2\n00:00:03,000 --> 00:00:04,000\nअलविदा।\n", encoding="utf-8")
    translation = _backend(path).translate(Transcript("en", ()), "hi", _no_progress)
    assert [(s.id, s.text, s.start_s, s.end_s) for s in translation.segments] == [
        (0, "नमस्ते।", 1.0, 2.5), (1, "अलविदा।", 3.0, 4.0)]


def test_missing_or_unset_file(tmp_path: Path) -> None:
    assert not _backend("").availability().ok
    with pytest.raises(ConfigError, match="needs a file"):
        _backend("").translate(TRANSCRIPT, "hi", _no_progress)
    with pytest.raises(ConfigError, match="not found"):
        _backend(tmp_path / "nope.txt").translate(TRANSCRIPT, "hi", _no_progress)
    binary = tmp_path / "hi.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="UTF-8"):
        _backend(binary).translate(TRANSCRIPT, "hi", _no_progress)
