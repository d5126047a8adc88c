"""WORLD statistics-mapping VC on a real GRID speaker; eval metrics on known inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from f2f.artifacts import PhonemeEvent, SegmentSpeech, Speech, SpeechSegments
from f2f.registry import get_backend_class

import espeakng_loader  # noqa: E402,F401  (hard dependencies: their absence must fail)
import pyworld  # noqa: E402,F401


@pytest.fixture(scope="module")
def hindi_tts() -> SpeechSegments:
    from f2f.artifacts import TranslatedSegment, Translation

    translation = Translation("en", "hi", (
        TranslatedSegment(0, "", "नीला रंग अभी दो पर रखो", 0.0, 3.0),
        TranslatedSegment(1, "", "...", 3.0, 3.5)))
    return get_backend_class("tts", "espeak")().synthesize(translation, lambda f, m: None)


def test_world_vc_raises_speaker_similarity(grid_clip: Path, hindi_tts: SpeechSegments,
                                            tmp_path: Path) -> None:
    from f2f.media import read_audio

    reference = read_audio(grid_clip)
    vc = get_backend_class("vc", "world")()
    out = vc.convert(hindi_tts, reference, tmp_path, lambda f, m: None)
    assert [s.id for s in out.segments] == [0, 1]
    spoken, silent = out.segments
    assert spoken.phonemes == hindi_tts.segments[0].phonemes  # timing unchanged
    assert spoken.speech.duration_s == pytest.approx(hindi_tts.segments[0].speech.duration_s,
                                                     abs=0.01)
    assert not silent.speech.samples.any()
    from eval.speech import conversion_metrics

    m = conversion_metrics([hindi_tts.segments[0].speech], [spoken.speech], reference)
    assert m["speaker_similarity_after"] > m["speaker_similarity_before"]
    assert m["mcd_db_after"] < m["mcd_db_before"]
    assert m["f0_rmse_hz_after"] < m["f0_rmse_hz_before"]


def test_world_vc_passes_through_when_reference_is_silent(hindi_tts: SpeechSegments,
                                                          tmp_path: Path) -> None:
    vc = get_backend_class("vc", "world")()
    silent = Speech(np.zeros(16_000, np.float32), 16_000)
    out = vc.convert(hindi_tts, silent, tmp_path, lambda f, m: None)
    assert out is hindi_tts and "too little" in vc.metrics["note"]


def test_metric_functions_on_known_inputs() -> None:
    from eval.speech import f0_distribution_rmse, f0_rmse, global_mcd, mcd

    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 24))
    assert mcd(a, a) == pytest.approx(0.0)
    shifted = a.copy()
    shifted[:, 1] += 1.0
    assert mcd(a, shifted, align=False) == pytest.approx(10 / np.log(10) * np.sqrt(2), rel=1e-6)
    assert mcd(a, np.repeat(a, 2, axis=0)) == pytest.approx(0.0)  # DTW undoes a slow-down
    assert global_mcd(a, shifted) == pytest.approx(mcd(a, shifted, align=False), rel=1e-6)
    f0 = np.array([0, 100, 110, 0, 120.0])
    assert f0_rmse(f0, f0 + np.array([0, 10, -10, 5, 10])) == pytest.approx(10.0)
    assert f0_distribution_rmse(f0, f0 * 2) > 50


def test_speaker_similarity_tells_speakers_apart(shared_dir: Path) -> None:
    from eval.speech import speaker_similarity
    from f2f.media import read_audio

    grid = shared_dir / "grid" / "s1"
    clips = sorted(grid.glob("*.mpg"))[:2]
    same = speaker_similarity(read_audio(clips[0]), read_audio(clips[1]))
    other = speaker_similarity(read_audio(clips[0]),
                               read_audio(shared_dir / "grid" / "lbbc2a.mpg"))
    assert same > other and same > 0.7


def test_segments_keep_ids_and_phonemes_types() -> None:
    segment = SegmentSpeech(3, "x", Speech(np.zeros(10, np.float32), 16_000),
                            (PhonemeEvent("a", 0.0, 0.001),))
    assert segment.phonemes[0].phoneme == "a"


def test_long_dubs_take_statistics_from_a_sample_and_convert_every_segment(
        grid_clip: Path, hindi_tts: SpeechSegments, tmp_path: Path, monkeypatch) -> None:
    """Segments beyond the statistics sample are analysed one at a time, and converted alike."""
    from f2f.media import read_audio

    spoken = hindi_tts.segments[0]
    many = SpeechSegments(tuple(SegmentSpeech(i, spoken.text, spoken.speech, spoken.phonemes)
                                for i in range(4)), backend="espeak")
    from stages.vc import world_features

    world = get_backend_class("vc", "world")(get_backend_class("vc", "world").Config())
    reference = read_audio(grid_clip)
    b = world.convert(many, reference, tmp_path, lambda f, m: None)
    monkeypatch.setattr(world_features, "STATISTICS_SAMPLE_S", 1.0)  # samples 1 segment
    a = world.convert(many, reference, tmp_path, lambda f, m: None)
    assert [s.id for s in a.segments] == [0, 1, 2, 3]
    for x, y in zip(a.segments, b.segments, strict=True):  # identical clips: same statistics
        assert np.allclose(x.speech.samples, y.speech.samples, atol=1e-3)
