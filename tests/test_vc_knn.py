"""The default `knn` VC: it converts only when a candidate is more like the speaker on speaker
audio it was not fitted to, and the dub then really is closer to that speaker's other clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from f2f.artifacts import Speech, SpeechSegments
from f2f.registry import get_backend_class
from fakes import espeak_dub

pytest.importorskip("pyworld", reason="pyworld not installed")
pytest.importorskip("resemblyzer", reason="resemblyzer not installed")
pytest.importorskip("espeakng_loader", reason="espeakng-loader not installed")


def test_knn_moves_the_dub_towards_the_speaker_on_unseen_clips(shared_dir: Path,
                                                               tmp_path: Path) -> None:
    """A female GRID speaker (s4) and the male eSpeak voice: the gate picks a conversion and
    the dub is closer to four other clips of her that the backend never saw."""
    from f2f.media import read_audio
    from f2f.voiceprint import cosine, speaker_embedding

    clips = sorted((shared_dir / "grid" / "s4").glob("*.mpg"))
    reference = Speech(np.concatenate([read_audio(c, 16_000).samples for c in clips[:2]]),
                       16_000)
    judge = np.mean([speaker_embedding(read_audio(c, 16_000)) for c in clips[-4:]], axis=0)
    dub = espeak_dub("नीला रंग अभी दो पर रखो", "लाल रंग में एफ तीन फिर से रखो")
    vc = get_backend_class("vc", "knn")()
    out = vc.convert(dub, reference, tmp_path, lambda f, m: None)
    m = vc.metrics
    assert m["vc_choice"] != "none"
    assert m["held_out_similarity_after"] > m["held_out_similarity_before"] + 0.02
    for before, after in zip(dub.segments, out.segments, strict=True):
        assert after.id == before.id and after.phonemes == before.phonemes  # timing kept
        assert after.speech.duration_s == pytest.approx(before.speech.duration_s, abs=0.01)

    def similarity(speech: SpeechSegments) -> float:
        joined = np.concatenate([s.speech.samples for s in speech.segments])
        return cosine(speaker_embedding(Speech(joined, speech.segments[0].speech.sample_rate)),
                      judge)
    assert similarity(out) > similarity(dub) + 0.05


def test_knn_passes_the_dub_through_when_no_candidate_helps(tmp_path: Path) -> None:
    """The 'speaker' is the eSpeak voice itself: nothing can make the dub more like it, so the
    dub must come back unchanged, with the reason and the held-out figures in the metrics."""
    dub = espeak_dub("नीला रंग अभी दो पर रखो")
    reference_dub = espeak_dub("लाल रंग में एफ तीन फिर से रखो", "हरे रंग के साथ बी सात कृपया रखो")
    reference = Speech(np.concatenate([s.speech.samples for s in reference_dub.segments]),
                       reference_dub.segments[0].speech.sample_rate)
    vc = get_backend_class("vc", "knn")()
    out = vc.convert(dub, reference, tmp_path, lambda f, m: None)
    assert out is dub, vc.metrics
    assert vc.metrics["vc_choice"] == "none" and "not converted" in vc.metrics["note"]
    assert vc.metrics["held_out_similarity_after"] == vc.metrics["held_out_similarity_before"]


def test_too_little_speaker_speech_is_not_converted(tmp_path: Path) -> None:
    dub = espeak_dub("नीला रंग")
    silent = Speech(np.zeros(32_000, np.float32), 16_000)
    vc = get_backend_class("vc", "knn")()
    assert vc.convert(dub, silent, tmp_path, lambda f, m: None) is dub
    assert "too little speaker speech" in vc.metrics["note"]


def test_alternate_split_gives_disjoint_speech_halves() -> None:
    from stages.vc._gate import split_alternate

    rate = 16_000
    t = np.arange(4 * rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    tone[rate:2 * rate] = 0.0  # a second of silence goes to neither half
    split = split_alternate(Speech(tone, rate), chunk_s=0.5)
    assert split.fit.duration_s == pytest.approx(1.5, abs=0.02)
    assert split.held_out.duration_s == pytest.approx(1.5, abs=0.02)
    for half in (split.fit, split.held_out):  # speech only, no silent chunk
        chunks = half.samples.reshape(-1, rate // 2)
        assert (np.abs(chunks).max(axis=1) > 0.4).all()
    # alternate: the first speech chunk fits, the second is held out
    assert np.array_equal(split.fit.samples[: rate // 2], tone[: rate // 2])
    assert np.array_equal(split.held_out.samples[: rate // 2], tone[rate // 2: rate])


def test_frame_selection_takes_the_speakers_own_frames() -> None:
    """A dub frame near (after normalisation) a speaker frame gets that frame's own cepstrum,
    not the statistics-mapped one."""
    from stages.vc._frame_select import SpeakerPool, select_frames

    rng = np.random.default_rng(0)
    speaker = rng.normal(size=(200, 8)) * 2.0 + 1.0
    pool = SpeakerPool(speaker, speaker.mean(axis=0), speaker.std(axis=0))
    source_mean, source_std = pool.mean * 0.5 - 3.0, pool.std * 0.5  # another voice's scale
    nearby = (speaker[50:60] - pool.mean) / pool.std + rng.normal(size=(10, 8)) * 0.05
    dub = nearby * source_std + source_mean  # near those frames, in the dub's own statistics
    out = select_frames(dub, np.ones(10, bool), source_mean, source_std, pool, k=1,
                        smooth_frames=1)
    assert np.allclose(out[:, 1:], speaker[50:60, 1:])
    assert np.allclose(out[:, 0], dub[:, 0])  # loudness stays the dub's


def test_metrics_describe_this_call_not_the_previous_speaker(tmp_path: Path) -> None:
    """One backend converts each speaker in turn: a speaker with too little audio must not
    report the previous speaker's choice and held-out figures as its own."""
    vc = get_backend_class("vc", "knn")()
    vc.metrics = {"vc_choice": "knn:1.0", "held_out_similarity_after": 0.9}  # last speaker's
    dub = espeak_dub("नीला रंग")
    out = vc.convert(dub, Speech(np.zeros(1600, np.float32), 16_000), tmp_path,
                     lambda f, m: None)
    assert out is dub
    assert set(vc.metrics) == {"note"} and "too little speaker speech" in vc.metrics["note"]


def test_the_reference_voice_is_analysed_in_chunks_with_the_same_frames(
        monkeypatch: pytest.MonkeyPatch, grid_dir: Path) -> None:
    # a long talk's reference must not be analysed in one piece (its whole envelope is
    # hundreds of MB); chunking must keep every frame where it was
    from f2f.media import read_audio
    from stages.vc import world_features as wf

    clip = read_audio(grid_dir / "bbaf2n.mpg")
    speech = Speech(np.tile(clip.samples, 3), clip.sample_rate)  # 9 s
    whole = wf.analyze(speech, 24, aperiodicity=False)
    lengths: list[int] = []
    real = wf.analyze

    def recording(part: Speech, dims: int, aperiodicity: bool = True) -> wf.WorldFeatures:
        lengths.append(part.samples.size)
        return real(part, dims, aperiodicity)
    monkeypatch.setattr(wf, "analyze", recording)
    chunked = wf.analyze_reference(speech, 24, chunk_s=2.0)
    assert max(lengths) <= 2.0 * wf.RATE and len(lengths) == 5
    assert chunked.f0.size == whole.f0.size and chunked.sp.shape == (whole.f0.size, 1)
    assert np.array_equal(chunked.speech_frames, whole.speech_frames)
    inside = np.ones(whole.f0.size, bool)  # frames away from the chunk edges are the same
    for edge in range(400, whole.f0.size, 400):
        inside[edge - 8:edge + 8] = False
    np.testing.assert_allclose(chunked.mcep[inside], whole.mcep[inside], atol=1e-6)
    # DIO's F0 track depends a little on how much signal it sees; within 2% on most frames
    assert np.mean(np.isclose(chunked.f0[inside], whole.f0[inside], rtol=0.02)) > 0.9


def test_aperiodicity_is_measured_only_for_synthesised_frames(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    """D4C is the slowest part of WORLD's analysis: the gate measures it for its sample (the
    first whole clips of the dub up to `gate_sample_s`), and a pass-through dub for nothing
    more; pieces measured apart join into what one pass gives."""
    from stages.vc import _gate
    from stages.vc import world_features as wf

    dub = espeak_dub("नीला रंग अभी दो पर रखो", "लाल रंग में एफ तीन फिर से रखो",
               "हरे रंग के साथ बी सात कृपया रखो", "सफेद रंग में जी एक अभी रखो")
    speech = dub.segments[0].speech
    whole = wf.analyze(speech, 40)
    head = wf.with_aperiodicity(wf.analyze(speech, 40, aperiodicity=False), speech, 200)
    assert head.ap.shape == (200, whole.ap.shape[1]) and head.n_samples == 200 * 80
    joined = wf.with_aperiodicity(wf.analyze(speech, 40, aperiodicity=False), speech,
                                  known=head.ap)
    assert joined.ap.shape == whole.ap.shape and joined.n_samples == whole.n_samples
    assert np.abs(joined.ap - whole.ap).mean() < 1e-3

    measured: list[int] = []
    judged: list[float] = []
    real_d4c = wf.pyworld().d4c

    def d4c(x: np.ndarray, f0: np.ndarray, *args: object) -> np.ndarray:
        measured.append(f0.size)
        return real_d4c(x, f0, *args)

    def choose(candidates, unconverted, held_out, gain, threads=1):  # type: ignore[no-untyped-def]
        judged.append(unconverted.duration_s)
        return _gate.GateResult(_gate.NONE, 0.5, 0.5)
    monkeypatch.setattr(wf.pyworld(), "d4c", d4c)
    monkeypatch.setattr(_gate, "choose", choose)
    reference = espeak_dub("पीला रंग अभी तीन पर रखो", "काला रंग में डी चार फिर से रखो",
                     "भूरा रंग के साथ सी आठ कृपया रखो")
    vc = get_backend_class("vc", "knn")(get_backend_class("vc", "knn").Config(gate_sample_s=3.0))
    total_s = sum(s.speech.duration_s for s in dub.segments)
    assert total_s > 6.0  # the dub is longer than the gate's sample
    out = vc.convert(dub, Speech(np.concatenate([s.speech.samples for s in reference.segments]),
                                 reference.segments[0].speech.sample_rate), tmp_path,
                     lambda f, m: None)
    assert out is dub
    first_two = sum(s.speech.duration_s for s in dub.segments[:2])
    assert first_two >= 3.0 > dub.segments[0].speech.duration_s  # the gate takes two clips
    assert judged and abs(judged[0] - first_two) < 0.01, judged
    assert abs(sum(measured) * wf.FRAME_PERIOD_MS / 1000 - first_two) < 0.05, measured


def test_nearest_mean_finds_the_true_neighbours_in_bounded_memory() -> None:
    """Frame selection against a long talk's pool: the same neighbours as a brute-force search,
    with a peak far below one (queries x pool) float64 distance matrix (164 MB here; the whole
    block at once made a 10-minute video's VC stage the largest part of its peak memory)."""
    import tracemalloc

    from stages.vc._frame_select import nearest_mean

    rng = np.random.default_rng(0)
    pool = rng.normal(size=(10_000, 24))
    values = rng.normal(size=(10_000, 24))
    queries = rng.normal(size=(2048, 24))
    tracemalloc.start()
    try:
        got = nearest_mean(queries, pool, values, k=4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 80e6, f"{peak / 1e6:.0f} MB"  # 41 MB; 330 MB in one block
    sample = slice(0, 64)
    distance = ((queries[sample, None, :] - pool[None]) ** 2).sum(axis=2)
    expected = values[np.argsort(distance, axis=1)[:, :4]].mean(axis=1)
    assert np.allclose(got[sample], expected, atol=1e-9)


def test_the_gates_aperiodicity_is_reused_for_its_own_segments(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    """The conversion reuses the rows the gate measured, each for the clip it was measured on:
    the converted dub equals one whose aperiodicity is all measured afresh."""
    from stages.vc import _gate
    from stages.vc import world_features as wf

    dub = espeak_dub("नीला रंग अभी दो पर रखो", "लाल रंग में एफ तीन फिर से रखो",
               "हरे रंग के साथ बी सात कृपया रखो")
    reference = espeak_dub("पीला रंग अभी तीन पर रखो", "काला रंग में डी चार फिर से रखो",
                     "भूरा रंग के साथ सी आठ कृपया रखो")
    voice = Speech(np.concatenate([s.speech.samples for s in reference.segments]),
                   reference.segments[0].speech.sample_rate)
    monkeypatch.setattr(_gate, "choose", lambda candidates, *a, **k: _gate.GateResult(
        "stats:1.0", 0.5, 0.6))
    knn = get_backend_class("vc", "knn")
    config = knn.Config(gate_sample_s=100.0)  # every clip judged: all rows come from the gate
    reused = knn(config).convert(dub, voice, tmp_path, lambda f, m: None)
    real = wf.with_aperiodicity
    monkeypatch.setattr(wf, "with_aperiodicity",
                        lambda features, speech, frames=None, known=None:
                        real(features, speech, frames))
    fresh = knn(config).convert(dub, voice, tmp_path, lambda f, m: None)
    assert reused is not dub and len(reused.segments) == 3
    for a, b in zip(reused.segments, fresh.segments, strict=True):
        assert np.abs(a.speech.samples - b.speech.samples).max() < 1e-4
