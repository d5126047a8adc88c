"""The timing fit: exact track length, stretch bounds, silence use, freeze extensions, drift."""

from __future__ import annotations

import numpy as np
import pytest

from f2f.artifacts import (PhonemeEvent, SegmentSpeech, Speech, SpeechSegments,
                           TranslatedSegment, Translation)
from f2f.config import TimingConfig
from f2f.errors import ConfigError, StageError
from f2f.timing import (fit_manual_audio, fit_to_timeline, room_ends_s, speedup_summary,
                        time_stretch)

RATE = 16_000
FPS = 25.0


def _tone(seconds: float, hz: float = 150.0) -> Speech:
    t = np.arange(int(seconds * RATE)) / RATE
    return Speech((0.4 * np.sin(2 * np.pi * hz * t)).astype(np.float32), RATE)


def _case(slots: list[tuple[float, float]], speech_s: list[float]
          ) -> tuple[SpeechSegments, Translation]:
    translation = Translation("en", "hi", tuple(
        TranslatedSegment(i, "", "x", a, b) for i, (a, b) in enumerate(slots)))
    segments = SpeechSegments(tuple(
        SegmentSpeech(i, "x", _tone(d), (PhonemeEvent("a", 0.0, d / 2),
                                         PhonemeEvent("m", d / 2, d)))
        for i, d in enumerate(speech_s)))
    return segments, translation


def test_time_stretch_keeps_pitch_and_exact_length() -> None:
    tone = _tone(1.0).samples
    for factor in (0.8, 1.25):
        out = time_stretch(tone, RATE, factor)
        assert out.size == round(tone.size * factor)
        spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
        assert np.fft.rfftfreq(out.size, 1 / RATE)[spectrum.argmax()] == pytest.approx(150, abs=3)


def test_fitting_speech_is_stretched_within_bounds_and_track_is_exact() -> None:
    segments, translation = _case([(0.2, 1.2), (1.5, 2.5)], [1.1, 0.9])
    track = fit_to_timeline(segments, translation, 3.0, TimingConfig(), fps=FPS)
    assert track.speech.samples.size == 3 * RATE and track.extensions == ()
    first, second = track.timings
    assert first.stretch == pytest.approx(1 / 1.1, abs=1e-3)  # 1.1 s into a 1.0 s slot
    assert first.placed_start_s == pytest.approx(0.2) and first.placed_end_s <= 1.2 + 1e-3
    assert second.stretch == pytest.approx(1 / 0.9, abs=1e-3)
    assert track.phonemes[-1].end_s == pytest.approx(second.placed_end_s, abs=1e-3)
    assert all(p.start_s >= 0.2 for p in track.phonemes)


def test_stretch_never_leaves_the_configured_range() -> None:
    config = TimingConfig(min_stretch=0.8, max_stretch=1.25)
    segments, translation = _case([(0.0, 2.0), (2.0, 2.5), (2.5, 3.0)], [0.5, 1.0, 0.3])
    track = fit_to_timeline(segments, translation, 3.0, config, fps=FPS)
    assert all(0.8 - 1e-9 <= t.stretch <= 1.25 + 1e-9 for t in track.timings)
    short = track.timings[0]
    assert short.stretch == pytest.approx(1.25)  # slowed at most 1.25x, rest stays silent
    assert short.placed_end_s - short.placed_start_s == pytest.approx(0.625, abs=1e-3)


def test_following_silence_is_used_before_freezing_the_video() -> None:
    segments, translation = _case([(0.0, 1.0), (2.5, 3.0)], [1.6, 0.4])
    track = fit_to_timeline(segments, translation, 4.0, TimingConfig(), fps=FPS)
    first = track.timings[0]
    # sped up only to the comfortable 1.1x, the rest runs into the silence
    assert first.stretch == pytest.approx(1 / 1.1, abs=1e-3) and first.video_extension_s == 0.0
    assert first.placed_end_s == pytest.approx(1.6 / 1.1, abs=1e-3)
    assert track.speech.duration_s == pytest.approx(4.0)


def test_speech_that_fits_the_slot_and_its_pause_is_not_hurried() -> None:
    """1.4 s of speech, a 1.0 s slot and 0.6 s of pause: 1.1x and the pause, never 1.25x."""
    segments, translation = _case([(0.0, 1.0), (1.6, 2.0)], [1.4, 0.3])
    track = fit_to_timeline(segments, translation, 2.0, TimingConfig(), fps=FPS)
    first = track.timings[0]
    assert 1 / first.stretch == pytest.approx(1.1, abs=1e-3)
    assert 1.0 < first.placed_end_s <= 1.6 + 1e-3


def test_speech_longer_than_slot_and_pause_is_sped_up_to_the_hard_limit_only_then() -> None:
    """2.0 s into 1.0 s + 0.6 s of pause: 1.25x (1.6 s), and the next segment is not pushed."""
    segments, translation = _case([(0.0, 1.0), (1.6, 2.0)], [2.0, 0.3])
    track = fit_to_timeline(segments, translation, 2.0, TimingConfig(), fps=FPS)
    first, second = track.timings
    assert first.stretch == pytest.approx(0.8) and track.extensions == ()
    assert first.placed_end_s == pytest.approx(1.6, abs=1e-3)
    assert second.placed_start_s == pytest.approx(1.6, abs=1e-3)


def test_the_report_counts_segments_sped_up_past_the_comfortable_limit() -> None:
    segments, translation = _case([(0.0, 1.0), (1.6, 2.0), (2.5, 3.0)], [2.0, 0.3, 0.5])
    track = fit_to_timeline(segments, translation, 3.0, TimingConfig(), fps=FPS)
    summary = speedup_summary(track.timings, TimingConfig())
    assert summary["over_comfortable"] == [0] and summary["spoken_segments"] == 3
    assert summary["within_comfortable"] == pytest.approx(2 / 3, abs=1e-3)
    assert summary["over_1_15x"] == [0] and summary["within_1_15x"] == pytest.approx(2 / 3,
                                                                                  abs=1e-3)
    assert summary["max_speedup"] == pytest.approx(1.25)
    nothing = speedup_summary((), TimingConfig())
    assert nothing["within_comfortable"] == 1.0 and nothing["spoken_segments"] == 0


def test_background_is_muted_where_speech_runs_on_into_the_pause() -> None:
    segments, translation = _case([(0.0, 1.0), (2.5, 3.0)], [1.6, 0.3])
    background = Speech(np.full(4 * RATE, 0.5, np.float32), RATE)
    config = TimingConfig(keep_background=True, background_gain_db=-20.0)
    track = fit_to_timeline(segments, translation, 4.0, config, background)
    end = track.timings[0].placed_end_s  # about 1.45 s: past the 1.0 s slot
    assert end > 1.3
    bed = track.speech.samples - fit_to_timeline(segments, translation, 4.0,
                                                 TimingConfig()).speech.samples
    assert np.abs(bed[int(1.2 * RATE):int((end - 0.05) * RATE)]).max() < 1e-3
    assert bed[int(2.0 * RATE)] == pytest.approx(0.05, abs=1e-3)  # the rest of the pause


def test_a_comfortable_limit_outside_0_1_is_refused() -> None:
    segments, translation = _case([(0.0, 1.0)], [0.9])
    with pytest.raises(ConfigError, match="comfortable_min_stretch"):
        fit_to_timeline(segments, translation, 2.0, TimingConfig(comfortable_min_stretch=1.2))


def test_room_ends_are_the_next_start_or_the_media_end() -> None:
    spans = [(0.0, 1.0), (1.5, 2.0), (2.0, 2.5)]
    assert room_ends_s(spans, 3.0) == [1.5, 2.0, 3.0]
    assert room_ends_s(spans, 3.0, use_following_silence=False) == [1.0, 2.0, 2.5]
    assert room_ends_s([(0.0, 4.0)], 3.0) == [3.0]  # never past the media


def test_extension_is_recorded_and_track_lasts_source_plus_extension() -> None:
    segments, translation = _case([(0.0, 1.0), (1.0, 2.0)], [2.0, 1.0])
    track = fit_to_timeline(segments, translation, 2.0, TimingConfig(), fps=FPS)
    (extension,) = track.extensions
    first = track.timings[0]
    assert first.stretch == pytest.approx(0.8)
    assert first.video_extension_s == extension.duration_s
    assert extension.at_s == pytest.approx(1.0)
    assert extension.duration_s == pytest.approx(0.6)  # 1.6 s of speech in a 1.0 s slot
    # whole frames, and no drift: samples == (source + extension) exactly
    assert (extension.duration_s * FPS) == pytest.approx(round(extension.duration_s * FPS))
    assert track.speech.samples.size == round((2.0 + extension.duration_s) * RATE)
    second = track.timings[1]
    assert second.placed_start_s == pytest.approx(1.0 + extension.duration_s, abs=1 / RATE)


def test_without_extensions_speech_is_sped_up_and_the_track_keeps_its_length() -> None:
    config = TimingConfig(allow_video_extension=False)
    segments, translation = _case([(0.0, 1.0)], [2.0])
    track = fit_to_timeline(segments, translation, 1.5, config, fps=FPS)
    assert track.extensions == () and track.speech.samples.size == int(1.5 * RATE)
    assert track.timings[0].stretch == pytest.approx(0.75)


def test_drift_stays_under_a_frame_over_many_segments() -> None:
    slots = [(i * 1.0, i * 1.0 + 0.7) for i in range(20)]
    segments, translation = _case(slots, [0.93 + 0.01 * i for i in range(20)])
    track = fit_to_timeline(segments, translation, 20.0, TimingConfig(), fps=FPS)
    expected = 20.0 + track.extension_s
    assert abs(track.speech.duration_s - expected) < 1 / FPS
    frames = sum(round(e.duration_s * FPS) for e in track.extensions)
    assert abs((20.0 * FPS + frames) / FPS - track.speech.duration_s) < 1 / FPS


def test_background_is_kept_quietly_outside_speech_only() -> None:
    segments, translation = _case([(1.0, 2.0)], [1.0])
    background = Speech(np.full(3 * RATE, 0.5, np.float32), RATE)
    config = TimingConfig(keep_background=True, background_gain_db=-20.0)
    track = fit_to_timeline(SpeechSegments(()), translation, 3.0, config, background)
    assert track.speech.samples[RATE // 2] == pytest.approx(0.05, abs=1e-3)  # -20 dB
    assert abs(track.speech.samples[int(1.5 * RATE)]) < 1e-3  # muted inside the slot
    del segments



@pytest.mark.parametrize("background_samples", [0, 5, 300])
def test_background_shorter_than_its_fade_or_empty_is_not_a_crash(background_samples) -> None:
    segments, translation = _case([(0.1, 0.5)], [0.3])
    background = Speech(np.full(background_samples, 0.5, np.float32), RATE)
    config = TimingConfig(keep_background=True)
    track = fit_to_timeline(segments, translation, 1.0, config, background, fps=FPS)
    assert track.speech.samples.size == RATE
    assert np.isfinite(track.speech.samples).all()

def test_bad_inputs_fail_clearly() -> None:
    segments, translation = _case([(0.0, 1.0)], [1.0])
    with pytest.raises(ConfigError):
        fit_to_timeline(segments, translation, 0.0, TimingConfig())
    stray = SpeechSegments((SegmentSpeech(7, "x", _tone(0.5)),))
    with pytest.raises(StageError, match="7"):
        fit_to_timeline(stray, translation, 2.0, TimingConfig())


def test_manual_audio_is_padded_or_extended() -> None:
    short = fit_manual_audio(_tone(1.0), 3.0, fps=FPS)
    assert short.speech.samples.size == 3 * RATE and short.extensions == ()
    long = fit_manual_audio(_tone(3.5), 3.0, fps=FPS)
    assert long.extensions[0].at_s == 3.0 and long.extensions[0].duration_s == pytest.approx(0.52)
    assert long.speech.samples.size == round(3.52 * RATE) and long.source == "manual"
