"""The video half of the stage graph: the face track ahead of time, lip sync, mux.

`Graph` (f2f.graph) inherits these steps; they read the attributes declared below, which
`Graph.__init__` and the audio steps set.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from f2f import media
from f2f.artifacts import DubTrack, VideoRef
from f2f.cache import hash_file, make_key
from f2f.config import PipelineConfig
from f2f.face_track import FaceTrackAhead
from f2f.media_info import MediaInfo
from f2f.progress import for_stage
from f2f.run_state import Run
from f2f.stage import machine_cpus
from f2f.subtitles import LANGUAGE_TAGS
from f2f.video_writer import VideoWriter

FACE_COVERAGE_WARN = 0.9  # a face missing in more than 1 frame in 10 is worth telling


class VideoSteps:
    run: Run
    config: PipelineConfig
    info: MediaInfo
    input_path: Path
    input_key: str
    audio_key: str
    track_key: str
    source_video: VideoRef
    paths: dict[str, Path]
    diarization: Any
    faces_ahead: FaceTrackAhead | None

    def start_face_track(self) -> None:
        """The source video's face track, in another process beside the audio stages (on 2
        cores a third of the lip sync's work, and dlib holds the GIL: f2f.face_track)."""
        config = self.config
        dubbing = config.enabled("tts") or bool(config.manual_dub_audio)
        if not (config.enabled("lipsync") and dubbing) or config.speakers:
            return  # (several speakers: the active-speaker plan picks the faces)
        settings = self.run.backend("lipsync").face_settings()
        # with 2 CPUs the audio stages already fill them: the child would only slow them down
        # (tried on the demo: the whole run got slower; started after ASR, no faster either:
        # bench/results/face_track_ab_2cpu.json), so the loop tracks faces itself
        if settings is not None and machine_cpus() > 2:
            self.faces_ahead = FaceTrackAhead(self.run.cache, self.source_video,
                                              self.input_key, settings)

    # ---- lip sync
    def lip_sync(self, track: DubTrack | None) -> tuple[VideoRef, str]:
        run = self.run
        if not self.config.enabled("lipsync"):
            run.skip("lipsync")
            return self.source_video, self.input_key
        if track is None:
            run.skip("lipsync", "no dubbed audio to sync to")
            return self.source_video, self.input_key
        lipsync = run.backend("lipsync")
        track = self.active_speaker(track)
        key = make_key(upstream=self.track_key, video=self.input_key, faces=track.face_plan,
                       **lipsync.cache_identity())

        source = self.source_video
        if self.faces_ahead is not None and run.cache.lookup("lipsync", key) is None:
            faces = self.faces_ahead
            source = dataclasses.replace(source, face_track=str(run.cached_step(
                "face_track", "dlib", faces.key, lambda entry: entry / faces.FILE,
                faces.compute)))

        def compute(tmp: Path) -> VideoRef:
            out = lipsync.sync(source, track, tmp / "video.mp4",
                               for_stage(run.progress, "lipsync"))
            out.save(tmp)
            return out
        video = run.cached_step("lipsync", lipsync.name, key, VideoRef.load, compute, lipsync)
        coverage = run.report.steps[-1].metrics.get("face_coverage")
        if coverage is not None and coverage < FACE_COVERAGE_WARN:
            run.report.warn(
                f"a face was found in only {coverage:.0%} of the frames; frames without one "
                f"pass through unchanged (try --face N or lipsync.face_detector=haar)")
        return video, key

    def active_speaker(self, track: DubTrack) -> DubTrack:
        """With several speakers, each turn's lip sync goes to the face that speaks it."""
        if self.diarization is None or len(self.diarization.speakers) < 2:
            return track
        if "face_index" in self.config.lipsync.options or track.extensions:
            self.run.report.speakers["faces"] = ("--face given" if not track.extensions else
                                                 "one face: the video was extended")
            return track
        from f2f import speakers

        assert self.audio_key
        key = make_key(video=self.input_key, turns=self.diarization.to_dict(),
                       faces=speakers.FACE_PLAN_VERSION)

        def compute(tmp: Path) -> speakers.FacePlan:  # tracking every face is slow: cached
            plan = speakers.face_plan(self.source_video, media.read_audio(self.input_path),
                                      self.diarization)
            plan.save(tmp)
            return plan
        plan = self.run.cached_step("faces", "tracks", key, speakers.FacePlan.load, compute)
        self.run.report.speakers["faces"] = plan.summary
        return dataclasses.replace(track, face_plan=plan.boxes)

    # ---- mux, then the outputs
    def mux(self, video: VideoRef, video_key: str, track: DubTrack | None) -> None:
        config, info, paths = self.config, self.info, self.paths
        from_source = video.path == self.source_video.path
        extensions = track.extensions if track is not None and from_source else ()
        srt_languages = [lang for lang in (config.source_language, config.target_language)
                         if f"{lang}.srt" in paths]
        key = make_key(step="mux", video=video_key, track=self.track_key or self.audio_key,
                       subtitles=[hash_file(paths[f"{lang}.srt"]) for lang in srt_languages],
                       extensions=[dataclasses.asdict(e) for e in extensions])

        def compute(tmp: Path) -> Path:
            target = tmp / "out.mp4"
            if track is not None:
                audio = track.speech
            else:  # subtitles only: the original audio at its own rate
                audio = media.read_audio(self.input_path,
                                         info.audio_sample_rate or media.AUDIO_RATE)
            video_file = Path(video.path)
            if extensions:  # freeze frames the lip-sync stage did not already add
                video_file = tmp / "extended.mp4"
                frames = media.extended_frames(
                    media.iter_frames(self.input_path, info.fps, info.width, info.height),
                    info.fps, extensions)
                with VideoWriter(video_file, info.fps, info.width, info.height) as writer:
                    for frame in frames:
                        writer.write(frame)
            subtitle_tracks = [media.SubtitleTrack(paths[f"{lang}.srt"],
                                                   LANGUAGE_TAGS.get(lang, "und"))
                               for lang in srt_languages]
            # inputs may be any codec; outputs are always H.264
            media.mux(video_file, audio, target, subtitle_tracks,
                      reencode_video=from_source and not extensions)
            if extensions:
                video_file.unlink(missing_ok=True)
            return target
        muxed = self.run.cached_step("mux", "ffmpeg", key, lambda entry: entry / "out.mp4",
                                     compute)
        with media.atomic_output(paths["video"]) as tmp_out:
            shutil.copyfile(muxed, tmp_out)
        with media.atomic_output(paths["config"]) as tmp_cfg:
            tmp_cfg.write_text(config.to_toml(), encoding="utf-8")
