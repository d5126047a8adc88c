"""The `knn` VC's long-input candidates: with enough speaker speech the gate also tries
conversions that move the voice's band aperiodicity towards the speaker's and widen its F0
range; each is written as a name ('stats:1.0+ap:1.5+range:1.4') and fitted on the fit half only.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest

from f2f.artifacts import Speech
from f2f.errors import ConfigError
from f2f.registry import get_backend_class
from fakes import espeak_dub
from stages.vc._candidates import Candidate, grid

pytest.importorskip("pyworld", reason="pyworld not installed")
pytest.importorskip("resemblyzer", reason="resemblyzer not installed")
pytest.importorskip("espeakng_loader", reason="espeakng-loader not installed")


def test_candidate_names_parse_into_what_they_change() -> None:
    assert Candidate.parse("knn:0.5") == Candidate("knn", 0.5, 0.0, 1.0)
    both = Candidate.parse("stats:1.0+ap:1.5+range:1.4")
    assert both == Candidate("stats", 1.0, 1.5, 1.4)
    assert both.envelope == Candidate.parse("stats:1.0").envelope  # the envelope is shared
    for wrong in ("cyclegan:1.0", "stats:1.0+tilt:2", "stats:1.0+ap", "stats:x",
                  "stats:1.0+ap:1+ap:2", "stats:0", "stats:1.0+range:-1", "stats:1.0+ap:nan"):
        with pytest.raises(ConfigError, match=re.escape(repr(wrong))):  # named, one line
            Candidate.parse(wrong)
    assert Candidate.parse("stats:1.0+ap:1.5+range:1.4").name == "stats:1+ap:1.5+range:1.4"


def test_a_wrong_candidate_name_is_a_config_error_when_the_config_is_made() -> None:
    """Before any audio is analysed, naming the candidate (not a ValueError traceback)."""
    knn = get_backend_class("vc", "knn")
    with pytest.raises(ConfigError, match="stats:x"):
        knn.Config(long_candidates=("stats:x",))
    with pytest.raises(ConfigError, match="stats:1.0\\+ap:1\\+ap:2"):
        knn.Config(candidates=("stats:1.0", "stats:1.0+ap:1+ap:2"))
    assert knn.Config().long_candidates  # the defaults are valid
    names = grid(("stats:1.0",), (0.0, 1.5), (1.0, 1.4))
    assert names == ("stats:1.0", "stats:1.0+range:1.4", "stats:1.0+ap:1.5",
                     "stats:1.0+ap:1.5+range:1.4")
    assert all(Candidate.parse(n) for n in names)


def _analysed(text: str):  # type: ignore[no-untyped-def]
    from stages.vc import world_features as wf

    speech = espeak_dub(text).segments[0].speech
    return wf.analyze(speech, 40), speech


def test_aperiodicity_moves_towards_the_speakers_bands_on_voiced_frames_only() -> None:
    from stages.vc import world_features as wf

    features, _ = _analysed("नीला रंग अभी दो पर रखो")
    pw = wf.pyworld()
    coded = pw.code_aperiodicity(features.ap, wf.RATE)
    voiced = features.voiced
    own = coded[voiced].mean(axis=0)
    target = own + 4.0  # a noisier (breathier) speaker
    for strength in (0.5, 1.0):
        shifted = wf.shift_band_aperiodicity(features, target, strength)
        moved = pw.code_aperiodicity(shifted, wf.RATE)[voiced].mean(axis=0)
        np.testing.assert_allclose(moved - own, strength * 4.0, atol=0.5)
        assert np.array_equal(shifted[~voiced], features.ap[~voiced])
        assert (shifted <= 1.0 + 1e-9).all()  # never more than all noise


def test_the_range_candidate_widens_the_converted_pitch(monkeypatch: pytest.MonkeyPatch) -> None:
    from stages.vc import knn
    from stages.vc import world_features as wf

    features, speech = _analysed("नीला रंग अभी दो पर रखो")
    target = wf.voice_stats([features])
    target = wf.VoiceStats(target.lf0_mean + 0.3, target.lf0_std, target.mcep_mean,
                           target.mcep_std, target.voiced_s, target.speech_s)
    model = knn.SpeakerModel(1.0, wf.voice_stats([features]), target,
                             knn.SpeakerPool.fit([features]), None)
    synthesised: list[np.ndarray] = []
    real = wf.synthesize
    monkeypatch.setattr(wf, "synthesize", lambda f0, sp, ap, n: (synthesised.append(f0),
                                                                 real(f0, sp, ap, n))[1])
    for name in ("stats:1.0", "stats:1.0+range:1.4"):
        knn.convert_features(features, model, Candidate.parse(name), 8, speech.samples)
    plain, wide = (np.log(f[f > 0]) for f in synthesised)
    assert plain.mean() == pytest.approx(target.lf0_mean, abs=0.01)
    assert wide.mean() == pytest.approx(target.lf0_mean, abs=0.01)  # the same mean pitch
    assert wide.std() == pytest.approx(1.4 * plain.std(), rel=0.01)
    with pytest.raises(ValueError, match="band aperiodicity"):  # none measured for the speaker
        knn.convert_features(features, model, Candidate.parse("stats:1.0+ap:1.5"), 8,
                             speech.samples)


def _voice(*texts: str) -> Speech:
    reference = espeak_dub(*texts)
    return Speech(np.concatenate([s.speech.samples for s in reference.segments]),
                  reference.segments[0].speech.sample_rate)


def test_long_candidates_are_tried_only_with_enough_speech_fitted_on_the_fit_half(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Short inputs keep the plain candidates (and their cost); long ones add the aperiodicity
    and range variants, whose speaker aperiodicity comes from the fit half, never the held-out
    half the gate judges on. The chosen aperiodicity candidate is refitted on both halves."""
    from stages.vc import _gate
    from stages.vc import world_features as wf

    tried: list[list[str]] = []
    measured: list[np.ndarray] = []
    real = wf.band_aperiodicity

    def band(speech: Speech, features: wf.WorldFeatures, max_s: float) -> np.ndarray | None:
        measured.append(speech.samples)
        return real(speech, features, max_s)

    def choose(candidates, unconverted, held_out, gain, threads=1):  # type: ignore[no-untyped-def]
        tried.append(list(candidates))
        assert all(w.duration_s == pytest.approx(unconverted.duration_s)  # every one was made
                   for w in candidates.values())
        wide = "stats:1.0+ap:1.5+range:1.4"
        return _gate.GateResult(wide if wide in candidates else "stats:1.0", 0.5, 0.6)
    monkeypatch.setattr(wf, "band_aperiodicity", band)
    monkeypatch.setattr(_gate, "choose", choose)
    knn = get_backend_class("vc", "knn")
    dub = espeak_dub("नीला रंग अभी दो पर रखो")
    voice = _voice("पीला रंग अभी तीन पर रखो", "काला रंग में डी चार फिर से रखो")
    short = knn().convert(dub, voice, tmp_path, lambda f, m: None)
    assert tried[-1] == [n for n in knn.Config().candidates if not n.startswith("knn")]
    assert not measured and short is not dub  # no aperiodicity measured for plain ones
    config = knn.Config(long_min_speech_s=0.5, knn_min_speech_s=0.5)  # this voice is "long"
    out = knn(config).convert(dub, voice, tmp_path, lambda f, m: None)
    assert tried[-1] == list(config.candidates + config.long_candidates)
    chunk_s = max(config.chunk_s, voice.duration_s / config.chunks)
    split = _gate.split_alternate(voice, chunk_s)
    assert len(measured) == 2  # the gate: fit half; the chosen candidate's refit: both
    assert np.array_equal(measured[0], split.fit.samples)
    assert np.array_equal(measured[1], split.held_out.samples)
    assert out.segments[0].phonemes == dub.segments[0].phonemes
    assert out.segments[0].speech.duration_s == pytest.approx(
        dub.segments[0].speech.duration_s, abs=0.01)


def test_an_unchecked_aperiodicity_choice_without_voiced_speaker_frames_keeps_the_dubs(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """With the gate off the first candidate is used unchecked: if the speaker's samples have
    no voiced frame to measure, the dub's own aperiodicity stays (no NaN from an empty mean)."""
    from stages.vc import world_features as wf

    monkeypatch.setattr(wf, "band_aperiodicity", lambda *a: None)
    knn = get_backend_class("vc", "knn")
    dub = espeak_dub("नीला रंग अभी दो पर रखो")
    voice = _voice("पीला रंग अभी तीन पर रखो", "काला रंग में डी चार फिर से रखो")
    backend = knn(knn.Config(gate=False, candidates=("stats:1.0+ap:1.5",)))
    # the backend's own logger: a batch test run earlier in this process quiets "stages"
    with caplog.at_level(logging.WARNING, logger="stages.vc.knn"):
        out = backend.convert(dub, voice, tmp_path, lambda f, m: None)
    plain = knn(knn.Config(gate=False, candidates=("stats:1.0",))).convert(
        dub, voice, tmp_path, lambda f, m: None)
    assert backend.metrics["applied"] == "stats:1"  # what was applied, not what was asked
    assert "without its aperiodicity part" in caplog.text
    assert np.isfinite(out.segments[0].speech.samples).all()
    np.testing.assert_allclose(out.segments[0].speech.samples, plain.segments[0].speech.samples,
                               atol=1e-6)


def test_a_much_noisier_speaker_never_turns_voiced_frames_into_noise_only() -> None:
    """WORLD decodes a frame whose coded band is above -0.5 dB as noise at every frequency (a
    whisper): the shift stops below that, so voiced frames keep their periodic low band."""
    from stages.vc import world_features as wf

    features, _ = _analysed("नीला रंग अभी दो पर रखो")
    pw = wf.pyworld()
    voiced = features.voiced
    assert (features.ap[voiced, :4] < 0.01).all()  # periodic to begin with
    target = pw.code_aperiodicity(features.ap, wf.RATE)[voiced].mean(axis=0) + 20.0
    for strength in (1.0, 1.5):
        shifted = wf.shift_band_aperiodicity(features, target, strength)
        assert (shifted[voiced, :4] < 0.01).all()  # low frequencies stay periodic
        assert wf.noise_only_frames(shifted, voiced) == 0
        assert shifted[voiced].mean() > features.ap[voiced].mean() + 0.05  # and still noisier


def test_the_backend_reports_voiced_frames_synthesised_as_noise_only(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from stages.vc import world_features as wf

    monkeypatch.setattr(wf, "band_aperiodicity", lambda *a: np.array([-0.05]))  # all but noise
    knn = get_backend_class("vc", "knn")
    backend = knn(knn.Config(gate=False, candidates=("stats:1.0+ap:2",)))
    backend.convert(espeak_dub("नीला रंग अभी दो पर रखो"), _voice("पीला रंग अभी तीन पर रखो"), tmp_path,
                    lambda f, m: None)
    assert backend.metrics["applied"] == "stats:1+ap:2"
    assert backend.metrics["noise_only_voiced_frames"] == 0.0
    monkeypatch.setattr(wf, "MAX_SHIFTED_CODED_AP_DB", 0.0)  # the old cap: a whisper, reported
    backend.convert(espeak_dub("नीला रंग अभी दो पर रखो"), _voice("पीला रंग अभी तीन पर रखो"), tmp_path,
                    lambda f, m: None)
    assert backend.metrics["noise_only_voiced_frames"] > 0.5


def test_the_speakers_aperiodicity_is_measured_on_a_capped_sample(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """D4C is slow: of a 30 s half only the first `max_s` seconds (frames and samples) go in."""
    from stages.vc import world_features as wf

    pw = wf.pyworld()
    seen: list[tuple[int, int]] = []
    monkeypatch.setattr(pw, "d4c", lambda x, f0, t, fs: (seen.append((x.size, f0.size)),
                                                         np.full((f0.size, 513), 0.1))[1])
    half = Speech(np.zeros(30 * 16_000, np.float32), 16_000)
    frames = 30 * 200 + 1
    features = wf.WorldFeatures(np.full(frames, 120.0), np.ones((frames, 513)),
                                np.zeros((frames, 0)), np.zeros((frames, 4)), 1024,
                                half.samples.size)
    assert wf.band_aperiodicity(half, features, 10.0) is not None
    samples, f0_frames = seen[0]
    assert f0_frames <= 10.0 * 200
    assert samples <= (10.0 + 0.1) * 16_000
