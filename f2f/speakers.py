"""Several speakers in one video: the pipeline's use of diarization and active-speaker choice.

With `speakers = true` in the config the run diarizes the input audio (turns refined on ASR word
times; an RTTM file beside the output), converts each speaker's dub segments towards that
speaker's own audio, and gives each turn's lip sync to the face whose mouth follows the turn's
original audio (`--face` / `lipsync.face_index` still forces one face).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from f2f.artifacts import Speech, SpeechSegments, Transcript, Translation, VideoRef
from f2f.diarize import Diarization

if TYPE_CHECKING:
    from f2f.stage import TTSBackend

log = logging.getLogger(__name__)


def diarize_transcript(audio: Speech, transcript: Transcript) -> Diarization:
    from f2f.diarize import diarize

    words = [w for segment in transcript.segments for w in segment.words]
    return diarize(audio, words)


def speaker_audio(audio: Speech, diarization: Diarization, speaker: str) -> Speech:
    """The speaker's turns of the input audio, joined."""
    rate = audio.sample_rate
    parts = [audio.samples[int(t.start_s * rate):int(t.end_s * rate)]
             for t in diarization.turns if t.speaker == speaker]
    return Speech(np.concatenate(parts) if parts else np.zeros(0, np.float32), rate)


def segment_speakers(translation: Translation, diarization: Diarization) -> dict[int, str]:
    """Dub segment id -> who spoke the source segment (the first speaker when nobody did)."""
    first = diarization.speakers[0] if diarization.speakers else "S1"
    return {s.id: diarization.speaker_of(s.start_s, s.end_s) or first
            for s in translation.segments}


def segment_voices(tts: TTSBackend, audio: Speech, diarization: Diarization,
                   translation: Translation, report: dict[str, Any]) -> dict[int, str]:
    """Dub segment id -> the TTS voice of its speaker, chosen by the backend from each speaker's
    median F0 (`report["voices"]`: per speaker the voice, "" = the configured one, and the F0).
    Empty when every segment gets the configured voice."""
    if not tts.speaks_per_speaker:
        log.info("tts %s: one voice for every speaker (a voice per speaker needs espeak)",
                 tts.name)
        return {}
    from f2f.speaker_voices import SpeakerVoice, median_f0_hz

    if not tts.chooses_voices():  # the config forces one voice: no pitch to measure
        report["voices"] = {s: SpeakerVoice("", math.nan).to_dict() for s in diarization.speakers}
        return {}

    pitch = {s: median_f0_hz(speaker_audio(audio, diarization, s)) for s in diarization.speakers}
    chosen = tts.speaker_voices(pitch)
    report["voices"] = {s: chosen.get(s, SpeakerVoice("", f0)).to_dict()
                        for s, f0 in pitch.items()}
    owner = segment_speakers(translation, diarization)
    return {i: chosen[s].voice for i, s in owner.items() if s in chosen}


def convert_per_speaker(convert: Callable[[SpeechSegments, Speech], SpeechSegments],
                        speech: SpeechSegments, audio: Speech, diarization: Diarization,
                        translation: Translation, metrics: Callable[[], dict[str, Any]]
                        ) -> tuple[SpeechSegments, dict[str, Any]]:
    """Each speaker's dub segments through `convert` with that speaker's own audio; returns the
    merged segments (original order) and the VC metrics per speaker."""
    owner = segment_speakers(translation, diarization)
    out: dict[int, Any] = {}
    per_speaker: dict[str, Any] = {}
    backend = speech.backend
    for speaker in diarization.speakers:
        mine = tuple(s for s in speech.segments if owner.get(s.id) == speaker)
        if not mine:
            continue
        converted = convert(SpeechSegments(mine, backend=speech.backend, voice=speech.voice),
                            speaker_audio(audio, diarization, speaker))
        backend = converted.backend
        per_speaker[speaker] = metrics()
        out.update({s.id: s for s in converted.segments})
    merged = tuple(out.get(s.id, s) for s in speech.segments)
    return SpeechSegments(merged, backend=backend, voice=f"{speech.voice}->speakers"), per_speaker


DIARIZE_VERSION = "1"  # raise when diarization or its settings change: old entries stale
FACE_PLAN_VERSION = "1"  # the same for face tracking and the active-speaker choice

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class FacePlan:
    """Per source frame, the box of the speaking face (None: no face), and the report's
    per-speaker summary; a cache entry of its own."""

    boxes: tuple[Box | None, ...]
    summary: dict[str, Any]

    def save(self, folder: Path) -> None:
        (folder / "faces.json").write_text(json.dumps(
            {"boxes": [None if b is None else list(b) for b in self.boxes],
             "summary": self.summary}))

    @classmethod
    def load(cls, folder: Path) -> FacePlan:
        data = json.loads((folder / "faces.json").read_text())
        return cls(tuple(None if b is None else (b[0], b[1], b[2], b[3]) for b in data["boxes"]),
                   data["summary"])


def face_plan(video: VideoRef, audio: Speech, diarization: Diarization) -> FacePlan:
    """Per source frame, the box of the speaking face, and the report's per-speaker summary."""
    from f2f import media
    from f2f.active_speaker import choose_faces, frame_plan, loudness_per_frame, speaker_faces
    from f2f.face_tracks import track_all_faces
    from f2f.faces import FaceDetector, LandmarkPredictor

    try:
        landmarks: LandmarkPredictor | None = LandmarkPredictor()
    except Exception as exc:  # noqa: BLE001 - no landmarks: pixel motion is the fallback
        log.warning("active speaker: no landmark model (%s); using pixel motion", exc)
        landmarks = None
    frames = media.iter_frames(video.path, video.fps, video.width, video.height)
    tracks = track_all_faces(frames, FaceDetector(), landmarks)
    loudness = loudness_per_frame(audio, video.fps, video.frame_count)
    choices = choose_faces(tracks, loudness, video.fps,
                           [(t.speaker, t.start_s, t.end_s) for t in diarization.turns])
    plan = frame_plan(choices, tracks, video.fps, video.frame_count)
    summary = {"faces": len(tracks), "speakers": speaker_faces(choices),
               "turns": [{"speaker": c.speaker, "start_s": round(c.start_s, 2),
                          "end_s": round(c.end_s, 2), "face": c.track,
                          "confidence": c.confidence} for c in choices]}
    return FacePlan(tuple(None if b is None else (b[0], b[1], b[2], b[3]) for b in plan),
                    summary)


def write_rttm(diarization: Diarization, path: Path, uri: str) -> None:
    from f2f.media import atomic_output

    with atomic_output(path) as tmp:
        tmp.write_text(diarization.to_rttm(uri))
