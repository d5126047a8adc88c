"""Several speakers: diarization of a generated two-speaker GRID video (a male and a female
speaker side by side, taking turns), the face each turn is matched to, and a lip-sync pass that
repaints only the speaking face."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _two_speakers import TwoSpeakers, make_two_speakers

pytest.importorskip("resemblyzer", reason="resemblyzer not installed")
pytest.importorskip("dlib", reason="dlib not installed")


@pytest.fixture(scope="module")
def two(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TwoSpeakers:
    return make_two_speakers(shared_dir, tmp_path_factory.mktemp("two"))


@pytest.fixture(scope="module")
def diarized(two: TwoSpeakers) -> Any:
    from f2f.diarize import diarize

    return diarize(two.audio)


@pytest.fixture(scope="module")
def tracks(two: TwoSpeakers) -> list[Any]:
    from f2f import media
    from f2f.face_tracks import track_all_faces
    from f2f.faces import FaceDetector, LandmarkPredictor

    info = media.probe(two.video)
    return track_all_faces(media.iter_frames(two.video, info.fps, info.width, info.height),
                           FaceDetector("dlib"), LandmarkPredictor())


def _truth(two: TwoSpeakers, start_s: float, end_s: float) -> str:
    overlap: dict[str, float] = {}
    for speaker, a, b in two.turns:
        overlap[speaker] = overlap.get(speaker, 0.0) + max(0.0, min(end_s, b) - max(start_s, a))
    return max(overlap, key=overlap.__getitem__)


def test_diarization_finds_two_speakers_with_low_error(two: TwoSpeakers, diarized: Any,
                                                       tmp_path: Path) -> None:
    from eval.speech import diarization_error_rate
    from f2f.diarize import Diarization

    hypothesis = [(t.speaker, t.start_s, t.end_s) for t in diarized.turns]
    assert len(diarized.speakers) == 2, hypothesis
    assert diarization_error_rate(two.turns, hypothesis) < 0.15
    rttm = diarized.to_rttm("two")
    assert rttm.splitlines()[0].split()[:3] == ["SPEAKER", "two", "1"]
    assert len(rttm.splitlines()) == len(diarized.turns)
    diarized.save(tmp_path / "d.json")
    loaded = Diarization.load(tmp_path / "d.json")
    assert [t.speaker for t in loaded.turns] == [t.speaker for t in diarized.turns]
    assert np.allclose([t.end_s for t in loaded.turns], [t.end_s for t in diarized.turns],
                       atol=1e-3)


def test_word_times_move_turn_boundaries_onto_words(two: TwoSpeakers) -> None:
    """With one 'word' per reference turn, every word gets its own speaker's label."""
    from f2f.artifacts import Word
    from f2f.diarize import diarize

    words = [Word(f"w{i}", a, b) for i, (_, a, b) in enumerate(two.turns)]
    result = diarize(two.audio, words)
    assert [(t.start_s, t.end_s) for t in result.turns] == [(a, b) for _, a, b in two.turns]
    assert [t.speaker for t in result.turns] == ["S1", "S2", "S1", "S2"]


def test_der_counts_miss_false_alarm_and_confusion() -> None:
    from eval.speech import diarization_error_rate

    reference = [("a", 0.0, 2.0), ("b", 2.0, 4.0)]
    assert diarization_error_rate(reference, [("x", 0.0, 2.0), ("y", 2.0, 4.0)]) == 0.0
    assert diarization_error_rate(reference, [("x", 0.0, 4.0)]) == pytest.approx(0.5)
    assert diarization_error_rate(reference, [("x", 0.0, 1.0), ("y", 2.0, 4.0),
                                              ("y", 5.0, 6.0)]) == pytest.approx(0.5)


def test_each_turn_goes_to_the_speaking_face(two: TwoSpeakers, diarized: Any,
                                             tracks: list[Any]) -> None:
    from f2f.active_speaker import choose_faces, loudness_per_frame, speaker_faces

    assert len(tracks) == 2
    loudness = loudness_per_frame(two.audio, 25.0, two.frames)
    segments = [(t.speaker, t.start_s, t.end_s) for t in diarized.turns]
    choices = choose_faces(tracks, loudness, 25.0, segments)
    right = [c.track == two.faces[_truth(two, c.start_s, c.end_s)] for c in choices]
    assert np.mean(right) >= 0.9, [(c.start_s, c.end_s, c.track, c.scores) for c in choices]
    matched = speaker_faces(choices)
    assert sorted(m["face"] for m in matched.values()) == [0, 1]


class _PaintMouth:
    """A stand-in lip-sync renderer: greys the lower half of the given face box."""

    needs_landmarks = False

    def render(self, batch: Any) -> list[np.ndarray]:
        out = []
        for item in batch:
            frame = item.frame.copy()
            if item.box is not None:
                b = item.box
                frame[b.y0 + b.height // 2:b.y1, b.x0:b.x1] = 128
            out.append(frame)
        return out


def test_only_the_speaking_face_is_repainted(two: TwoSpeakers, tracks: list[Any],
                                             tmp_path: Path) -> None:
    """The lip-sync loop with the active-speaker plan: every frame it writes equals its input
    frame outside the speaking face's box (the silent face's pixels are exactly unchanged), and
    the speaking face's mouth is repainted."""
    from f2f import media
    from f2f.active_speaker import choose_faces, frame_plan, loudness_per_frame
    from f2f.artifacts import DubTrack, VideoRef
    from stages.lipsync._common import LoopOptions, run_lipsync

    loudness = loudness_per_frame(two.audio, 25.0, two.frames)
    choices = choose_faces(tracks, loudness, 25.0, two.turns)
    plan = frame_plan(choices, tracks, 25.0, two.frames)
    info = media.probe(two.video)
    video = VideoRef(str(two.video), info.fps, two.frames, info.width, info.height)
    track = DubTrack(two.audio, face_plan=tuple(None if b is None else tuple(b) for b in plan))
    seen: list[tuple[int, np.ndarray, np.ndarray, Any]] = []

    class _Recording(_PaintMouth):
        def render(self, batch: Any) -> list[np.ndarray]:
            out = super().render(batch)
            seen.extend((i.index, i.frame, o, i.box) for i, o in zip(batch, out, strict=True))
            return out

    out, metrics = run_lipsync(video, track, tmp_path / "out.mp4", lambda f, m: None,
                               _Recording(), LoopOptions(), "test")
    assert out.frame_count == two.frames and len(seen) == two.frames
    half = info.width // 2
    for speaker, start_s, end_s in two.turns:
        speaking = two.faces[speaker]
        for index, before, after, box in seen[int(start_s * 25) + 1:int(end_s * 25) - 1]:
            assert box is not None and (box.x0 >= half) == (speaking == 1), (index, box)
            silent = slice(half, None) if speaking == 0 else slice(0, half)
            assert np.array_equal(after[:, silent], before[:, silent]), index
            outside = after.copy()
            outside[box.y0:box.y1, box.x0:box.x1] = before[box.y0:box.y1, box.x0:box.x1]
            assert np.array_equal(outside, before), index  # nothing changed beyond the box
            assert not np.array_equal(after, before)  # and the mouth was repainted


def test_pipeline_with_speakers_writes_rttm_converts_and_syncs_per_speaker(
        two: TwoSpeakers, tmp_path: Path) -> None:
    """`speakers = true`: an RTTM beside the output, one VC call per speaker with that speaker's
    own audio, and the report names a different face for each speaker."""
    import json

    from f2f.artifacts import (
        PhonemeEvent,
        SegmentSpeech,
        Speech,
        SpeechSegments,
    )
    from f2f.config import load_config
    from f2f.pipeline import BackendPool, translate_video
    from f2f.registry import register
    from f2f.stage import ASRBackend, LipSyncBackend, MTBackend, TTSBackend, VCBackend
    from fakes import scaled, transcript_of_turns, translated
    from stages.lipsync._common import LoopOptions, run_lipsync

    references: list[float] = []

    @register
    class TurnsASR(ASRBackend):
        name = "spk-asr"

        def transcribe(self, audio, language, progress):
            return transcript_of_turns(two.turns, language, self.name)

    @register
    class SameMT(MTBackend):
        name = "spk-mt"
        languages = frozenset({"hi"})

        def translate(self, transcript, target_language, progress):
            return translated(transcript, target_language, lambda s: s.text, self.name)

    @register
    class BeepTTS(TTSBackend):
        name = "spk-tts"

        def synthesize(self, translation, progress):
            tone = 0.3 * np.sin(np.arange(8000) * 2 * np.pi * 220 / 16000)
            return SpeechSegments(tuple(
                SegmentSpeech(s.id, s.text, Speech(tone, 16000), (PhonemeEvent("a", 0.0, 0.5),))
                for s in translation.segments), backend=self.name)

    @register
    class RecordingVC(VCBackend):
        name = "spk-vc"

        def convert(self, speech, reference, cache_dir, progress):
            references.append(reference.duration_s)
            self.metrics = {"segments": len(speech.segments)}
            return scaled(speech, 0.5, self.name)

    @register
    class PaintLipSync(LipSyncBackend):
        name = "spk-lipsync"

        def sync(self, video, track, out_path, progress):
            return run_lipsync(video, track, out_path, progress, _PaintMouth(), LoopOptions(),
                               self.name)[0]

    config = load_config(sets=["asr=spk-asr", "mt=spk-mt", "tts=spk-tts", "vc=spk-vc",
                               "lipsync=spk-lipsync", "speakers=true"])
    translate_video(two.video, tmp_path / "out.mp4", config, workdir=tmp_path / "work",
                    pool=BackendPool())
    rttm = (tmp_path / "out.rttm").read_text().splitlines()
    assert {line.split()[7] for line in rttm} == {"S1", "S2"}
    turn_s = {s: sum(b - a for x, a, b in two.turns if x == s) for s in "AB"}
    assert sorted(references) == pytest.approx(sorted(turn_s.values()), abs=0.3)
    report = json.loads((tmp_path / "out.report.json").read_text())
    vc = next(s for s in report["steps"] if s["stage"] == "vc")
    assert set(vc["metrics"]["speakers"]) == {"S1", "S2"}
    faces = report["speakers"]["faces"]["speakers"]
    assert faces["S1"]["face"] == 0 and faces["S2"]["face"] == 1  # A left speaks first
    # a rerun neither diarizes nor tracks the faces again: both come from the cache
    translate_video(two.video, tmp_path / "again.mp4", config, workdir=tmp_path / "work",
                    pool=BackendPool())
    again = json.loads((tmp_path / "again.report.json").read_text())
    cached = {s["stage"]: s["cached"] for s in again["steps"]}
    assert cached["diarize"] and cached["faces"] and cached["lipsync"], cached
    assert again["speakers"]["faces"] == report["speakers"]["faces"]
    assert (tmp_path / "again.rttm").read_text().splitlines() == rttm


def test_one_speaker_stays_one_speaker(shared_dir: Path) -> None:
    """Eight GRID clips of one speaker joined (pauses and channel changes between them)."""
    from f2f.artifacts import Speech
    from f2f.diarize import diarize
    from f2f.media import read_audio

    clips = sorted((shared_dir / "grid" / "s1").glob("*.mpg"))[:8]
    speech = Speech(np.concatenate([read_audio(c).samples for c in clips]), 16_000)
    assert diarize(speech).speakers == ("S1",)


def test_tracks_shorter_than_the_probed_frame_count_are_judged_on_their_frames() -> None:
    """The decoder may give fewer frames than the probe counted: loudness has the probed count,
    the tracks the decoded one; a turn over the missing tail is judged on the frames there."""
    from f2f.active_speaker import choose_faces
    from f2f.face_tracks import FaceTrack

    rng = np.random.default_rng(0)
    loudness = rng.normal(size=100)
    boxes = np.tile([10, 10, 50, 50], (90, 1))
    speaking = FaceTrack(0, boxes, loudness[:90] + 5.0)  # moves with the audio
    still = FaceTrack(1, boxes + 60, rng.normal(size=90) * 0.01 + 5.0)
    (choice,) = choose_faces([speaking, still], loudness, 25.0, [("S1", 2.0, 4.0)])
    assert choice.track == 0
