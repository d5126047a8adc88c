"""Subtitle layout: at most two lines of about 42 characters, long cues split at clause ends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from f2f.subtitles import Cue, layout_cues, read_subtitles, write_subtitles

LONG = ("So the question we have to ask ourselves, as a country and as a people, is whether we "
        "are willing to do what it takes; and I believe that we are, because we always have been.")


def _blocks(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8").strip()
    return [[line for line in block.splitlines() if "-->" not in line and
             not line.isdigit() and line != "WEBVTT"]
            for block in re.split(r"\n\s*\n", text) if "-->" in block]


@pytest.mark.parametrize("suffix", [".srt", ".vtt"])
def test_written_cues_have_two_short_lines_at_most(tmp_path: Path, suffix: str) -> None:
    path = write_subtitles([Cue(0.0, 10.0, LONG), Cue(10.0, 11.0, "Thank you.")],
                           tmp_path / f"s{suffix}")
    blocks = _blocks(path)
    assert len(blocks) >= 3  # 167 characters do not fit one two-line cue
    for lines in blocks:
        assert 1 <= len(lines) <= 2 and all(len(line) <= 42 for line in lines), lines
    assert " ".join(" ".join(b) for b in blocks) == LONG + " Thank you."  # no word lost


def test_long_cues_split_at_clause_ends_and_share_the_time() -> None:
    cues = layout_cues([Cue(2.0, 12.0, LONG)])
    assert all(c.text.endswith((",", ";", ".")) for c in cues), [c.text for c in cues]
    assert cues[0].start_s == 2.0 and cues[-1].end_s == 12.0
    assert all(a.end_s == pytest.approx(b.start_s) for a, b in zip(cues, cues[1:]))
    assert all(c.end_s > c.start_s for c in cues)


def test_short_text_stays_one_line_and_round_trips(tmp_path: Path) -> None:
    path = write_subtitles([Cue(0.0, 1.0, "नमस्ते दोस्तों")], tmp_path / "hi.srt")
    assert _blocks(path) == [["नमस्ते दोस्तों"]]
    assert read_subtitles(path)[0].text == "नमस्ते दोस्तों"


def test_a_word_longer_than_a_line_is_still_kept_within_the_limit() -> None:
    url = "https://example.org/" + "a" * 60
    for cue in layout_cues([Cue(0.0, 2.0, f"see {url}")]):
        assert all(len(line) <= 42 for line in cue.text.splitlines())
