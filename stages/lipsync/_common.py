"""The streaming loop every lip-sync backend shares: decode -> track -> render -> encode.

Four steps run at once, joined by small bounded queues, so no step waits for another's whole
batch and memory stays flat in the video's length: a decoder thread reads frames from ffmpeg,
a tracker thread finds the face (and landmarks, when the renderer wants them) and makes batches,
a renderer thread turns each batch into output frames, and the calling thread feeds the encoder.
Each step is one thread and every queue is FIFO, so frames come out in their input order.

A backend supplies a `FrameRenderer` that turns a batch of `FaceFrame`s into output frames;
frames without a face are handed over with `box=None` and must pass through.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from f2f.artifacts import DubTrack, Speech, VideoRef
from f2f.errors import ConfigError
from f2f.face_track import FaceFollower, FaceSettings, FaceTrack
from f2f.faces import FaceBox, LandmarkPredictor, shared_landmark_predictor
from f2f.progress import StageProgress
from f2f.stage import machine_cpus
from f2f.timing import resample

log = logging.getLogger(__name__)

FACE_BOXES = "face_boxes.json"  # per-frame [x0, y0, x1, y1] or null, beside the output video
# x264 ultrafast at crf 18: within 0.4 dB PSNR of superfast on the demo, half of its CPU
# (bench/results/encoder_720p.json); one encoder thread when the loop's own threads fill the CPUs
ENCODER_PRESET = "ultrafast"


@dataclass(frozen=True)
class FaceFrame:
    """One output frame on its way through a renderer."""

    index: int  # output frame number (time = index / fps in the dub track)
    frame: np.ndarray  # (H, W, 3) uint8 RGB, read-only unless `owned`
    box: FaceBox | None  # None: no face, the frame passes through unchanged
    landmarks: np.ndarray | None = None  # (68, 2) float32, when the renderer asked for them
    # the loop hands this frame's buffer over: the renderer may draw into it and return it
    # (saves a full-frame copy per frame); callers that keep their frames leave it False
    owned: bool = False


class FrameRenderer(Protocol):
    needs_landmarks: bool

    def render(self, batch: Sequence[FaceFrame]) -> list[np.ndarray]:
        """One output frame (H, W, 3) uint8 per input, same order."""


def parse_box(text: str, where: str = "lipsync.box") -> FaceBox | None:
    """Wav2Lip's `--box` order, "top,bottom,left,right" in pixels -> a FaceBox; "" -> None."""
    if not text.strip():
        return None
    try:
        top, bottom, left, right = (int(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        raise ConfigError(f"{where} must be four integers 'top,bottom,left,right' (Wav2Lip's "
                          f"--box order), got {text!r}") from None
    if bottom <= top or right <= left or top < 0 or left < 0:
        raise ConfigError(f"{where} = {text!r} is empty or negative: need 0 <= top < bottom and "
                          "0 <= left < right")
    return FaceBox(left, top, right, bottom)


@dataclass(frozen=True)
class LoopOptions:
    face_detector: str = "auto"
    detect_every: int = 5
    face_index: int = 0
    batch_size: int = 8
    landmark_smoothing: float = 0.5  # weight of the current frame's landmarks (1 = none)
    # per output frame, the face to sync (None: that frame passes through), e.g. the active
    # speaker's (f2f.active_speaker.frame_plan); frames beyond it use the tracker
    face_plan: Sequence[FaceBox | None] | None = None
    box: FaceBox | None = None  # a fixed face box on every frame: no detection at all
    queue_batches: int = 2  # batches waiting between two steps (bounds memory, allows overlap)
    encoder_preset: str = ENCODER_PRESET

    def tracking(self, landmarks: bool) -> FaceSettings:
        """How this loop follows faces when it tracks them itself."""
        return FaceSettings(self.face_detector, self.detect_every, self.face_index, landmarks,
                            self.landmark_smoothing)

    def face_settings(self, landmarks: bool) -> FaceSettings | None:
        """The face track a precomputed one must match; None with a fixed box (no tracking)."""
        return None if self.box is not None else self.tracking(landmarks)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ConfigError(f"lipsync batch_size must be >= 1, got {self.batch_size}")
        if not 0.0 < self.landmark_smoothing <= 1.0:
            raise ConfigError("lipsync landmark_smoothing must be in (0, 1]")
        if self.queue_batches < 1:
            raise ConfigError(f"lipsync queue_batches must be >= 1, got {self.queue_batches}")


def output_frame_count(video: VideoRef, track: DubTrack) -> int:
    """Source frames plus the frozen frames of every extension (as `extended_frames` inserts)."""
    return video.frame_count + sum(int(round(e.duration_s * video.fps)) for e in track.extensions)


def samples_16k(speech: Speech) -> np.ndarray:
    """The dub audio as 16 kHz float32 (what the audio front ends expect); never empty."""
    samples = np.asarray(resample(speech, 16_000).samples, dtype=np.float32)
    return samples if samples.size else np.zeros(1600, np.float32)


# ------------------------------------------------------------------------------ threads

_END = object()  # end of a queue's stream


class _Steps:
    """Threads joined by bounded queues; the first error stops them all and is re-raised."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.busy_s: dict[str, float] = {}  # time each step spent working, not waiting
        self.cpu_s: dict[str, float] = {}  # CPU time of each step's thread
        self._threads: list[threading.Thread] = []

    def put(self, q: queue.Queue[Any], item: Any) -> bool:
        while not self.stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def items(self, q: queue.Queue[Any]) -> Iterator[Any]:
        while True:
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                if self.stop.is_set():
                    return
                continue
            if item is _END:
                return
            yield item

    def start(self, name: str, work: Callable[[], None], out: queue.Queue[Any]) -> None:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # handed to the calling thread, which raises it
                self.fail(exc)
            finally:
                self.cpu_s[name] = time.thread_time()
                self.put(out, _END)

        thread = threading.Thread(target=run, name=f"lipsync-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        self.stop.set()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()


class _FaceSource:
    """Each output frame's face: a fixed box wins; then the face plan (active speaker) for the
    frames it covers; then the precomputed track of the source video; then live tracking."""

    def __init__(self, options: LoopOptions, plan: Sequence[FaceBox | None],
                 landmarks: bool, precomputed: FaceTrack | None) -> None:
        self.options, self.plan, self.precomputed = options, plan, precomputed
        self._landmarks = landmarks
        self._follower: FaceFollower | None = None
        self._previous_box: FaceBox | None = None
        self._last: tuple[int, FaceBox | None, np.ndarray | None] | None = None

    @property
    def tracks_live(self) -> bool:
        """Whether the loop finds faces or landmarks itself (else the precomputed track has
        them all, and dlib's landmark model, 1.2 s to load with the GIL held, is not needed)."""
        return self.options.box is not None or bool(self.plan) or self.precomputed is None

    @property
    def follower(self) -> FaceFollower:
        if self._follower is None:  # on first use: a precomputed track may never need it
            predictor: LandmarkPredictor | None = (
                shared_landmark_predictor() if self._landmarks else None)
            self._follower = FaceFollower(self.options.tracking(self._landmarks), predictor)
        return self._follower

    @property
    def detections(self) -> int:
        live = self._follower.detections if self._follower is not None else 0
        return live + (self.precomputed.detections if self.precomputed is not None else 0)

    def at(self, index: int, source_index: int, frame: np.ndarray
           ) -> tuple[FaceBox | None, np.ndarray | None]:
        if self.options.box is not None:
            height, width = frame.shape[:2]
            box = self.options.box.clipped(width, height)
            return box, self.follower.landmarks(frame, box, restarted=False)
        if index < len(self.plan):
            box, previous = self.plan[index], self._previous_box
            self._previous_box = box
            # a change of face restarts landmark smoothing
            restarted = box is None or previous is None or box.iou(previous) < 0.3
            return box, self.follower.landmarks(frame, box, restarted)
        if self.precomputed is not None and source_index < len(self.precomputed):
            return self.precomputed.at(source_index)
        if self._last is None or self._last[0] != source_index:  # a frozen frame: its source's
            self._last = (source_index, *self.follower.step(frame))
        return self._last[1], self._last[2]


def _precomputed_track(video: VideoRef, settings: FaceSettings | None) -> FaceTrack | None:
    """The graph's face track of `video` when it was made with this loop's settings."""
    if not video.face_track or settings is None:
        return None
    try:
        track = FaceTrack.load(Path(video.face_track))
    except (OSError, ValueError, KeyError) as exc:
        log.warning("face track %s unreadable (%s); tracking faces in the loop",
                    video.face_track, exc)
        return None
    if track.settings != settings:
        log.info("face track made with other settings (%s); tracking faces in the loop",
                 track.settings)
        return None
    return track


@dataclass
class _Counts:
    face_frames: int = 0
    detector_runs: int = 0


def run_lipsync(video: VideoRef, track: DubTrack, out_path: Path, progress: StageProgress,
                renderer: FrameRenderer, options: LoopOptions, backend_name: str
                ) -> tuple[VideoRef, dict[str, Any]]:
    """Streams `video` (with `track.extensions` frozen in) through `renderer` into `out_path`.

    Returns the written video and metrics for the report (frames, face coverage, speed).
    """
    from f2f.media import extended_frames, iter_frames
    from f2f.video_writer import VideoWriter

    expected = output_frame_count(video, track)
    depth = options.queue_batches * options.batch_size
    decoded: queue.Queue[Any] = queue.Queue(maxsize=depth)
    batches: queue.Queue[Any] = queue.Queue(maxsize=options.queue_batches)
    rendered: queue.Queue[Any] = queue.Queue(maxsize=options.queue_batches)
    steps = _Steps()
    counts = _Counts()
    boxes: list[list[int] | None] = []  # per output frame, kept in the cache entry

    def decode() -> None:
        # (source frame index, frame): frozen extension frames keep their source's index
        # one decoder thread on 2 CPUs, as for the encoder: its frame threads only compete
        # with the loop's own
        decoder_threads = 1 if machine_cpus() <= 2 else 0
        frames = extended_frames(enumerate(iter_frames(video.path, video.fps, video.width,
                                                       video.height, decoder_threads)),
                                 video.fps, track.extensions)
        # each frame is handed on one step late: a frozen repeat (the same array again) is
        # copied from it while it is still untouched, as the renderer draws into what it gets
        pending: tuple[int, np.ndarray, np.ndarray] | None = None  # (index, frame, decoded)
        try:
            for source_index, raw in frames:
                frame = raw
                if pending is not None:
                    if raw is pending[2]:
                        frame = pending[1].copy()
                    if not steps.put(decoded, pending[:2]):
                        return
                pending = (source_index, frame, raw)
            if pending is not None:
                steps.put(decoded, pending[:2])
        finally:
            frames.close()  # stops ffmpeg when the loop ends early

    plan = options.face_plan if options.face_plan is not None else [
        None if b is None else FaceBox(*b) for b in track.face_plan]
    precomputed = _precomputed_track(video, options.face_settings(renderer.needs_landmarks))
    faces = _FaceSource(options, plan, renderer.needs_landmarks, precomputed)
    if faces.tracks_live:
        faces.follower  # loads the landmark model now, not inside the timed loop

    def track_faces() -> None:
        busy = 0.0
        batch: list[FaceFrame] = []
        for index, (source_index, frame) in enumerate(steps.items(decoded)):
            tick = time.perf_counter()
            box, landmarks = faces.at(index, source_index, frame)
            counts.detector_runs = faces.detections
            boxes.append(None if box is None else [box.x0, box.y0, box.x1, box.y1])
            if box is not None:
                counts.face_frames += 1
            batch.append(FaceFrame(index, frame, box, landmarks, owned=True))
            busy += time.perf_counter() - tick
            if len(batch) >= options.batch_size:
                if not steps.put(batches, batch):
                    return
                batch = []
        if batch:
            steps.put(batches, batch)
        steps.busy_s["track"] = busy

    def render() -> None:
        busy = 0.0
        for batch in steps.items(batches):
            tick = time.perf_counter()
            out = renderer.render(batch)
            if len(out) != len(batch):
                raise RuntimeError(f"lipsync renderer returned {len(out)} frames for "
                                   f"{len(batch)}")
            busy += time.perf_counter() - tick
            if not steps.put(rendered, out):
                return
        steps.busy_s["render"] = busy

    started, main_cpu = time.perf_counter(), time.thread_time()
    steps.start("decode", decode, decoded)
    steps.start("track", track_faces, batches)
    steps.start("render", render, rendered)
    try:
        with VideoWriter(out_path, video.fps, video.width, video.height,
                         preset=options.encoder_preset,
                         threads=1 if machine_cpus() <= 2 else 0) as writer:
            for out in steps.items(rendered):
                for frame in out:
                    writer.write(frame)
                progress(min(writer.frames_written / max(expected, 1), 1.0),
                         f"{backend_name}: {writer.frames_written}/{expected} frames")
            if steps.error is not None:
                raise steps.error
            written = writer.frames_written
    except BaseException as exc:
        steps.fail(exc)
        raise
    finally:
        steps.stop.set()
        steps.join()
    seconds = time.perf_counter() - started
    steps.cpu_s["encode_feed"] = time.thread_time() - main_cpu
    (out_path.parent / FACE_BOXES).write_text(json.dumps({"fps": video.fps, "boxes": boxes}))
    if counts.face_frames == 0:
        log.warning("lipsync %s: no face found in any frame; the video passes through unchanged",
                    backend_name)
    if written != expected:
        log.warning("lipsync %s: wrote %d frames, expected %d (source frame count estimate?)",
                    backend_name, written, expected)
    metrics = {
        "frames": written,
        "face_frames": counts.face_frames,
        "face_coverage": round(counts.face_frames / max(written, 1), 4),
        "detector_runs": counts.detector_runs,
        "fixed_box": options.box is not None,
        "face_track": "precomputed" if precomputed is not None else "in the loop",
        "seconds": round(seconds, 3),
        "frames_per_second": round(written / max(seconds, 1e-9), 2),
        "busy_s": {name: round(value, 3) for name, value in steps.busy_s.items()},
        "thread_cpu_s": {name: round(value, 3) for name, value in steps.cpu_s.items()},
    }
    log.info("lipsync %s: %d frames (%d with a face) in %.1f s = %.1f frames/s", backend_name,
             written, counts.face_frames, seconds, metrics["frames_per_second"])
    ref = VideoRef(str(out_path), video.fps, written, video.width, video.height)
    return ref, metrics
