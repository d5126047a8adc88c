"""Long inputs made in the test from real clips keep the words their pieces give one by one.

The default faster-whisper model on a ~60 s loop of the demo talk and on GRID clips joined with
pauses: the long transcript must hold (nearly) the words of the pieces, spread over the whole
input, cover the VAD's speech, and be the same on a second run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from eval.text import normalize_english, wer
from f2f.artifacts import Speech, Transcript
from f2f.media import read_audio
from f2f.registry import get_backend_class

RATE = 16000


def _quiet(fraction: float, message: str = "") -> None:
    pass


@pytest.fixture(scope="module")
def asr():
    pytest.importorskip("faster_whisper")
    cls = get_backend_class("asr", "faster-whisper")
    backend = cls(cls.Config(cpu_threads=2))
    if not backend.availability().ok:
        pytest.skip(f"default ASR model not available: {backend.availability().reason}")
    return backend


def _words(transcript: Transcript) -> list[str]:
    return normalize_english(transcript.text).split()


def test_a_minute_of_the_looped_demo_keeps_every_copy(asr, shared_dir: Path) -> None:
    demo = read_audio(shared_dir / "talks" / "obama_weekly_address_10s.mp4", RATE)
    one = len(_words(asr.transcribe(demo, "en", _quiet)))
    copies = 6
    looped = asr.transcribe(Speech(np.tile(demo.samples, copies), RATE), "en", _quiet)
    words = [w for s in looped.segments for w in s.words]
    print(f"one copy {one} words; {copies} copies {len(words)} words; {asr.metrics}")
    assert len(words) >= 0.9 * copies * one
    assert len(words) <= 1.15 * copies * one  # no hallucinated loops either
    for i in range(copies):  # speech is carried over the whole length, copy by copy
        start, end = i * demo.duration_s, (i + 1) * demo.duration_s
        inside = [w for w in words if start <= (w.start_s + w.end_s) / 2 < end]
        assert len(inside) >= 0.7 * one, f"copy {i} ({start:.0f}-{end:.0f} s) lost its words"
    assert asr.metrics["speech_coverage"] >= 0.95
    assert asr.metrics["longest_uncovered_s"] < 3.0
    assert asr.metrics["vad_speech_s"] > 0.8 * copies * demo.duration_s


def _grid_clips(shared_dir: Path, count: int) -> list[tuple[Path, str]]:
    """One clip per speaker folder in turn (speakers change, as in a conversation)."""
    with (shared_dir / "grid" / "INDEX.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    by_speaker: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_speaker.setdefault(row["speaker"], []).append(row)
    mixed = [r for group in zip(*by_speaker.values(), strict=False) for r in group]
    return [(shared_dir / "grid" / r["path"], r["transcript"]) for r in mixed[-count:]]


def test_joined_grid_clips_keep_the_words_of_the_clips_and_rerun_the_same(
        asr, shared_dir: Path) -> None:
    clips = _grid_clips(shared_dir, 8)
    pieces = [read_audio(path, RATE) for path, _ in clips]
    one_by_one = [_words(asr.transcribe(p, "en", _quiet)) for p in pieces]
    pause = np.zeros(int(0.6 * RATE), np.float32)
    joined = Speech(np.concatenate([x for p in pieces for x in (p.samples, pause)]), RATE)
    first = asr.transcribe(joined, "en", _quiet)
    count = len(_words(first))
    expected = sum(len(w) for w in one_by_one)
    reference = " ".join(text for _, text in clips)
    print(f"joined {count} words, pieces {expected}; WER joined "
          f"{wer(reference, first.text):.3f} vs pieces "
          f"{wer(reference, ' '.join(' '.join(w) for w in one_by_one)):.3f}; {asr.metrics}")
    assert count >= 0.9 * expected
    assert wer(reference, first.text) <= wer(
        reference, " ".join(" ".join(w) for w in one_by_one)) + 0.1
    assert asr.metrics["speech_coverage"] >= 0.95
    second = asr.transcribe(joined, "en", _quiet)
    assert second == first  # greedy/beam first, seeded sampling last: same input, same words
