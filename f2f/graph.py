"""The stage graph: ASR -> MT -> TTS -> VC -> timing fit -> lip sync -> mux, one method a step.

Each method is one cache entry keyed by its backend identity and its upstream keys, so a second
identical run executes nothing and changing one stage re-runs only that stage and what follows.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Any

from f2f import media
from f2f.artifacts import (
    DubTrack,
    Speech,
    SpeechSegments,
    Transcript,
    TranslatedSegment,
    Translation,
    VideoRef,
)
from f2f.cache import hash_file, make_key
from f2f.errors import ConfigError, MediaError, NoSpeechError
from f2f.face_track import FaceTrackAhead
from f2f.graph_video import VideoSteps
from f2f.media_info import MediaInfo
from f2f.progress import for_stage
from f2f.report import asr_warnings
from f2f.run_state import Run, RunResult
from f2f.subtitles import output_cues, read_subtitles, timing_transcript, write_subtitles

log = logging.getLogger(__name__)

SILENCE_DBFS = -55.0  # below this RMS the track counts as silent




def _untranslated(transcript: Transcript) -> Translation:
    """The `--mt none` ablation: the source text passes through."""
    segments = tuple(TranslatedSegment(s.id, s.text, s.text, s.start_s, s.end_s)
                     for s in transcript.segments)
    return Translation(transcript.language, transcript.language, segments, backend="none")


class Graph(VideoSteps):
    """The steps of one run in order; each step reads its inputs and records its cache key."""

    def __init__(self, run: Run, input_path: Path, info: MediaInfo,
                 paths: dict[str, Path]) -> None:
        self.run, self.config, self.input_path, self.info = run, run.config, input_path, info
        self.paths = paths
        self.result = RunResult(report=run.report, outputs=paths)
        self.duration_s = info.frame_count / info.fps
        self.source_video = VideoRef(str(input_path), info.fps, info.frame_count, info.width,
                                     info.height)
        self.input_key = make_key(file=hash_file(input_path))
        self.audio_key = self.asr_key = self.mt_key = self.track_key = ""
        self.diarization: Any = None  # f2f.diarize.Diarization with `speakers` on
        self.faces_ahead: FaceTrackAhead | None = None
        self.warming: list[threading.Thread] = []

    def execute(self) -> RunResult:
        self.start_face_track()
        try:
            audio = self.source_audio()
            transcript = self.result.transcript = self.transcribe(audio)
            if self.config.speakers and audio is not None:
                self.diarize(audio, transcript)
            translation = self.result.translation = self.translate(transcript)
            track = self.result.track = self.dub_track(audio, translation)
            self.write_subtitles(transcript, translation, track)  # in the output's time
            video, video_key = self.lip_sync(track)
            self.mux(video, video_key, track)
        finally:
            if self.faces_ahead is not None:
                self.faces_ahead.cancel()
            for thread in self.warming:
                thread.join()  # never left running into interpreter shutdown
        return self.result

    def warm_up(self, kind: str) -> None:
        """The `kind` stage's Backend.warm_up in a thread, when that stage will run."""
        if self.config.enabled(kind):
            thread = threading.Thread(target=self.run.backend(kind).warm_up,
                                      name=f"{kind}-warm-up", daemon=True)
            thread.start()
            self.warming.append(thread)

    # ---- source audio (16 kHz mono: what ASR, VC and lip sync read)
    def source_audio(self) -> Speech | None:
        config, info = self.config, self.info
        if not info.has_audio and not (config.manual_dub_audio and config.manual_translation):
            raise MediaError(f"no audio track in {self.input_path}: there is no speech to "
                             f"translate (give --dub-audio and --translation to dub a silent "
                             f"video)")
        self.audio_key = make_key(step="audio", input=self.input_key, rate=media.AUDIO_RATE)
        if not info.has_audio:
            return None

        def compute(tmp: Path) -> Speech:
            speech = media.read_audio(self.input_path)
            speech.save(tmp)
            return speech
        audio = self.run.cached_step("audio", "ffmpeg", self.audio_key, Speech.load, compute)
        self.run.report.media["speech_rms_dbfs"] = round(audio.rms_dbfs(), 1)
        return audio

    # ---- ASR, or the timing of manual subtitles
    def diarize(self, audio: Speech, transcript: Transcript) -> None:
        from f2f import speakers
        from f2f.diarize import Diarization

        started = time.perf_counter()
        key = make_key(upstream=self.asr_key, audio=self.audio_key,
                       diarize=speakers.DIARIZE_VERSION)

        def compute(tmp: Path) -> Diarization:  # a rerun reads it, like every other stage
            diarization = speakers.diarize_transcript(audio, transcript)
            diarization.save(tmp / "diarization.json")
            return diarization
        self.diarization = self.run.cached_step(
            "diarize", "resemblyzer", key, lambda e: Diarization.load(e / "diarization.json"),
            compute)
        speakers.write_rttm(self.diarization, self.paths["rttm"], self.input_path.stem)
        self.run.report.outputs["rttm"] = str(self.paths["rttm"])
        self.run.report.speakers = {"diarization": self.diarization.to_dict(),
                                    "seconds": round(time.perf_counter() - started, 2)}

    def transcribe(self, audio: Speech | None) -> Transcript:
        config, run = self.config, self.run
        if not config.enabled("asr"):
            manual = config.manual_translation
            if not manual or Path(manual).suffix.lower() not in (".srt", ".vtt"):
                raise ConfigError("with --asr none, give the translation as subtitles "
                                  "(--translation FILE.srt) so the timing is known")
            self.asr_key = make_key(cues=hash_file(manual))
            run.skip("asr", "timing from the manual subtitles")
            return timing_transcript(read_subtitles(manual), config.source_language)
        assert audio is not None
        if audio.rms_dbfs() < SILENCE_DBFS:
            raise NoSpeechError(f"the audio of {self.input_path} is silent "
                                f"({audio.rms_dbfs():.0f} dBFS): nothing to translate")
        asr = run.backend("asr")
        self.asr_key = make_key(upstream=self.audio_key, lang=config.source_language,
                                **asr.cache_identity())

        def compute(tmp: Path) -> Transcript:
            self.warm_up("mt")  # MT loads its parser while ASR's C++ decoder runs
            transcript = asr.transcribe(audio, config.source_language,
                                        for_stage(run.progress, "asr"))
            if not transcript.segments:
                raise NoSpeechError(f"no speech detected in {self.input_path}")
            transcript.save(tmp)
            return transcript
        transcript = run.cached_step("asr", asr.name, self.asr_key, Transcript.load, compute,
                                     asr)
        for warning in asr_warnings(run.report.steps[-1].metrics, config.source_language):
            run.report.warn(warning)
        return transcript

    # ---- MT (a manual translation is the `manual` MT backend)
    def translate(self, transcript: Transcript) -> Translation:
        config, run = self.config, self.run
        if not config.enabled("mt"):
            self.mt_key = make_key(upstream=self.asr_key, mt="none")
            run.skip("mt", "source text passed through")
            return _untranslated(transcript)
        mt = run.backend("mt")
        manual = ({"manual": hash_file(config.manual_translation)}
                  if config.manual_translation else {})
        fit = {}
        dubbed = config.enabled("tts") and not config.manual_dub_audio
        if hasattr(mt, "fit_to_tts"):  # slot-aware MT: the voice's rate (0: no TTS), set on
            # every run, since a pooled backend may have served a dubbed run before
            fit["speaking_rate"] = mt.fit_to_tts(config.tts.backend if dubbed else None,
                                                 dict(config.tts.options))
        if hasattr(mt, "fit_to_timeline"):  # and the pauses the timing fit may use
            fit["timeline"] = mt.fit_to_timeline(self.duration_s if dubbed else 0.0,
                                                 config.timing.use_following_silence)
        self.mt_key = make_key(upstream=self.asr_key, target=config.target_language, **manual,
                               **fit, **mt.cache_identity())

        def compute(tmp: Path) -> Translation:
            translation = mt.translate(transcript, config.target_language,
                                       for_stage(run.progress, "mt"))
            translation.save(tmp)
            return translation
        return run.cached_step("mt", mt.name, self.mt_key, Translation.load, compute, mt)

    # ---- subtitles (condition 1 of the paper needs nothing more)
    def write_subtitles(self, transcript: Transcript, translation: Translation,
                        track: DubTrack | None) -> None:
        config = self.config
        for language, segments, spoken in (
                (config.source_language, transcript.segments, False),
                (config.target_language, translation.segments, True)):
            cues = [cue for cue in output_cues(segments, track, spoken) if cue.text.strip()]
            for fmt in config.subtitles:
                if cues:
                    write_subtitles(cues, self.paths[f"{language}.{fmt}"])
                else:  # e.g. no source text when the timing came from manual subtitles
                    self.paths.pop(f"{language}.{fmt}", None)
                    self.run.report.outputs.pop(f"{language}.{fmt}", None)

    # ---- dub track: manual audio, or TTS -> VC -> timing fit
    def dub_track(self, audio: Speech | None, translation: Translation) -> DubTrack | None:
        config, run = self.config, self.run
        if config.manual_dub_audio:
            run.skip("tts", "manual dub audio")
            run.skip("vc", "manual dub audio")
            track = self.manual_track(Path(config.manual_dub_audio))
        elif config.enabled("tts"):
            speech, speech_key = self.synthesize(translation, audio)
            if config.enabled("vc"):
                assert audio is not None
                speech, speech_key = self.convert_voice(speech, speech_key, audio)
            else:
                run.skip("vc")
            track = self.fit(speech, speech_key, translation, audio)
        else:
            run.skip("tts", "original audio kept")
            run.skip("vc")
            return None
        run.report.segments = [dataclasses.asdict(t) for t in track.timings]
        if track.extensions:
            run.report.warn(
                f"video extended by {track.extension_s:.2f} s (freeze frames) so speech fits")
        return track

    def manual_track(self, dub_path: Path) -> DubTrack:
        from f2f import timing  # the fit module is only needed when dubbing

        if not media.probe(dub_path).has_audio:
            raise MediaError(f"--dub-audio {dub_path} has no audio track")
        self.track_key = make_key(step="fit", manual=hash_file(dub_path),
                                  duration=self.duration_s)

        def compute(tmp: Path) -> DubTrack:
            dub = timing.fit_manual_audio(media.read_audio(dub_path), self.duration_s,
                                          fps=self.info.fps)
            dub.save(tmp)
            return dub
        return self.run.cached_step("fit", "manual", self.track_key, DubTrack.load, compute)

    def synthesize(self, translation: Translation,
                   audio: Speech | None = None) -> tuple[SpeechSegments, str]:
        run = self.run
        tts = run.backend("tts")
        voices: dict[int, str] = {}  # segment id -> its speaker's voice (`speakers` on)
        if self.diarization is not None and audio is not None:
            from f2f import speakers

            voices = speakers.segment_voices(tts, audio, self.diarization, translation,
                                             run.report.speakers)
        key = make_key(upstream=self.mt_key, **tts.cache_identity(),
                       **({"voices": {str(k): v for k, v in voices.items()}} if voices else {}))

        def compute(tmp: Path) -> SpeechSegments:
            progress = for_stage(run.progress, "tts")
            speech = (tts.synthesize(translation, progress, voices) if voices
                      else tts.synthesize(translation, progress))
            speech.save(tmp)
            return speech
        speech = run.cached_step("tts", tts.name, key, SpeechSegments.load, compute, tts)
        self.result.tts = speech
        return speech, key

    def convert_voice(self, speech: SpeechSegments, speech_key: str,
                      reference: Speech) -> tuple[SpeechSegments, str]:
        run = self.run
        vc = run.backend("vc")
        asked: dict[str, Any] = {}
        several = self.diarization is not None and len(self.diarization.speakers) > 1
        if several:
            asked["speakers"] = self.diarization.to_dict()

        def convert(segments: SpeechSegments, voice: Speech) -> SpeechSegments:
            return vc.convert(segments, voice, run.cache.scratch("vc"),
                              for_stage(run.progress, "vc"))
        key = make_key(upstream=speech_key, reference=self.audio_key, **vc.cache_identity(),
                       **asked)

        def compute(tmp: Path) -> SpeechSegments:
            if several:  # each speaker's segments towards that speaker's own voice
                from f2f import speakers

                assert self.result.translation is not None
                converted, per_speaker = speakers.convert_per_speaker(
                    convert, speech, reference, self.diarization, self.result.translation,
                    lambda: dict(vc.metrics))
                vc.metrics = {"speakers": per_speaker}
            else:
                converted = convert(speech, reference)
            converted.save(tmp)
            return converted
        converted = run.cached_step("vc", vc.name, key, SpeechSegments.load, compute, vc)
        self.result.vc = converted
        return converted, key

    def fit(self, speech: SpeechSegments, speech_key: str, translation: Translation,
            audio: Speech | None) -> DubTrack:
        from f2f import timing

        timing_config = self.config.timing
        self.track_key = make_key(step="fit", upstream=speech_key, mt=self.mt_key,
                                  audio=self.audio_key, duration=self.duration_s,
                                  timing=dataclasses.asdict(timing_config),
                                  version=timing.VERSION)

        def compute(tmp: Path) -> DubTrack:
            background = audio if timing_config.keep_background else None
            dub = timing.fit_to_timeline(speech, translation, self.duration_s, timing_config,
                                         background=background, fps=self.info.fps)
            dub.save(tmp)
            return dub
        track = self.run.cached_step("fit", "timing", self.track_key, DubTrack.load, compute)
        step = self.run.report.step("fit")
        if step is not None:  # how hurried the dub is, in the report of every run
            step.metrics.update(timing.speedup_summary(track.timings, timing_config))
        return track
