"""The weights-free viseme lip-sync stage, end to end on real GRID clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eval.sync import measure_sync
from f2f.artifacts import DubTrack, PhonemeEvent, Speech, VideoExtension
from f2f.media import probe, read_audio
from f2f.registry import get_backend_class
from stages.lipsync._mouth_shapes import devanagari_events
from stages.lipsync.viseme import (VisemeLipSync, shape_for_phoneme, shapes_from_audio,
                                   shapes_from_phonemes)
from tests._lipsync_helpers import read_frames, video_ref, write_with_blank_middle


def _silent_progress(fraction: float, message: str = "") -> None:
    assert 0.0 <= fraction <= 1.0


def test_registered_under_its_name():
    assert get_backend_class("lipsync", "viseme") is VisemeLipSync
    assert VisemeLipSync().availability().ok


def test_phoneme_symbols_map_to_plausible_mouths():
    assert shape_for_phoneme("p").opening == 0.0 and shape_for_phoneme("m").opening == 0.0
    assert shape_for_phoneme("_").opening == 0.0
    assert shape_for_phoneme("a:").opening > shape_for_phoneme("i:").opening
    assert shape_for_phoneme("u:").spread < 0 < shape_for_phoneme("i:").spread
    assert 0.0 < shape_for_phoneme("ẽ:").opening  # nasalised vowels keep their vowel


def test_mouth_closes_in_silences():
    events = (PhonemeEvent("a:", 0.40, 0.60), PhonemeEvent("m", 0.60, 0.70),
              PhonemeEvent("a", 0.70, 0.90))
    shapes = shapes_from_phonemes(events, fps=25.0, frames=40)
    assert shapes[:8, 0].max() < 0.05  # silence before speech
    assert shapes[12, 0] > 0.7  # inside the long vowel
    assert shapes[30:, 0].max() < 0.05  # silence after
    speech = np.zeros(16000, np.float32)
    speech[6400:9600] = 0.3 * np.sin(np.arange(3200) * 2 * np.pi * 220 / 16000)
    from_audio = shapes_from_audio(Speech(speech, 16000), fps=25.0, frames=25)
    assert from_audio[:8, 0].max() < 0.05 and from_audio[19:, 0].max() < 0.05
    assert from_audio[12, 0] > 0.5


def test_mms_devanagari_letters_get_their_mouths():
    # MMS-TTS "phonemes" are characters: प closes the lips, ओ rounds, ी spreads, and a bare
    # consonant carries the inherent schwa (opens after the consonant)
    assert shape_for_phoneme("प").opening == 0.0 and shape_for_phoneme("म").opening == 0.0
    assert shape_for_phoneme("ओ").spread < 0 < shape_for_phoneme("ी").spread
    assert shape_for_phoneme("ा").opening > 0.9
    events = devanagari_events([PhonemeEvent(c, 0.1 * i, 0.1 * (i + 1))
                                for i, c in enumerate("कमल")])  # kamal: k@ m@ l
    assert [e.phoneme for e in events] == ["k", "@", "m", "@", "l"]
    spoken = [PhonemeEvent(c, 0.1 + 0.1 * i, 0.2 + 0.1 * i) for i, c in enumerate("बोलो")]
    tracks = shapes_from_phonemes(spoken, fps=25.0, frames=20)
    assert tracks[3, 2] == pytest.approx(1.0)  # ब: lips pressed (2.5 frames in)
    assert tracks[6, 1] < -0.3  # ो: rounded
    assert tracks[:2, 2].max() == 0.0 and tracks[:2, 0].max() < 0.05  # silence before


def test_the_shipped_audio_mouth_model_is_pinned_and_opens_on_speech(shared_dir):
    from stages.lipsync._mouth_model import AUDIO_MOUTH, load_audio_mouth
    from stages.lipsync._mouth_motion import gap_of, motion_from_model
    from stages.lipsync._mouth_shapes import speech_activity

    model, path = load_audio_mouth()
    assert path.stat().st_size < 5_000_000 and AUDIO_MOUTH.sha256
    speech = read_audio(shared_dir / "grid" / "lwbsza.mpg")
    offsets = motion_from_model(model, speech.samples, 25.0, 75,
                                speech_activity(speech, 25.0, 75))
    gap = gap_of(offsets)
    assert abs(gap[:5]).max() < 0.02  # the clip starts silent: rest mouth
    assert gap[20:60].max() > 0.05  # speech opens it


def test_a_corrupt_model_file_is_refused_not_used():
    # a file of the shipped name found first (in $F2F_HOME/weights) but with another hash
    from f2f.errors import WeightsNotFoundError
    from f2f.weights import weights_dir
    from stages.lipsync._mouth_model import load_audio_mouth

    weights_dir().mkdir(parents=True, exist_ok=True)
    bad = weights_dir() / "audio_mouth.npz"
    bad.write_bytes(b"not the model")
    try:
        with pytest.raises(WeightsNotFoundError, match="SHA-256"):
            load_audio_mouth()
    finally:
        bad.unlink()



def test_shapes_for_zero_frames_are_empty_not_an_error():
    speech = Speech(np.zeros(1600, np.float32), 16000)
    assert shapes_from_audio(speech, fps=25.0, frames=0).shape == (0, 2)
    assert shapes_from_phonemes((PhonemeEvent("a", 0.0, 0.1),), fps=25.0, frames=0).shape == (0, 3)
    assert shapes_from_audio(Speech(np.zeros(0, np.float32), 16000), 25.0, 1).shape == (1, 2)

def test_viseme_end_to_end_moves_the_mouth_with_the_dub(grid_clip, grid_dir, tmp_path):
    # dub the clip with another speaker's speech: the mouth must follow that audio, not its own
    dub = read_audio(grid_dir / "lwbsza.mpg")
    extension = VideoExtension(at_s=1.0, duration_s=0.4)
    padded = Speech(np.concatenate([dub.samples, np.zeros(6400, np.float32)]), 16000)
    track = DubTrack(padded, extensions=(extension,), source="manual")
    backend = VisemeLipSync()
    source = video_ref(grid_clip)
    out = backend.sync(source, track, tmp_path / "viseme.mp4", _silent_progress)
    info = probe(out.path)
    assert (info.width, info.height, info.fps) == (source.width, source.height, source.fps)
    assert out.frame_count == info.frame_count == source.frame_count + 10
    assert backend.metrics["face_coverage"] > 0.95
    assert backend.metrics["driver"] == "learned audio model"

    plain = tmp_path / "plain.mp4"
    no_ext = backend.sync(source, DubTrack(dub, source="manual"), plain, _silent_progress)
    synced = measure_sync(no_ext.path, dub)
    unsynced = measure_sync(grid_clip, dub)
    assert abs(synced.offset_frames) <= 2
    assert synced.confidence > unsynced.confidence + 0.1

    before, after = read_frames(grid_clip), read_frames(no_ext.path)
    diff = np.abs(before[20].astype(int) - after[20].astype(int)).mean(axis=2)
    assert diff[:100].mean() < 3  # forehead and background untouched (codec noise only)
    assert diff[180:250, 140:220].mean() > diff[:100].mean() + 2  # the mouth region changed


def test_frames_without_a_face_pass_through(grid_clip, tmp_path):
    blanked = write_with_blank_middle(grid_clip, tmp_path / "gap.mp4", range(20, 32), limit=50)
    dub = read_audio(grid_clip)
    out = VisemeLipSync().sync(video_ref(blanked), DubTrack(dub), tmp_path / "out.mp4",
                               _silent_progress)
    frames = read_frames(Path(out.path))
    assert len(frames) == 50
    assert max(float(frames[i].mean()) for i in range(20, 32)) < 3.0  # still black
    assert frames[10].mean() > 50 and frames[40].mean() > 50


def test_bad_driver_is_a_config_error(grid_clip, tmp_path):
    from f2f.errors import ConfigError

    backend = VisemeLipSync(VisemeLipSync.Config(driver="magic"))
    with pytest.raises(ConfigError, match="driver"):
        backend.sync(video_ref(grid_clip), DubTrack(read_audio(grid_clip)), tmp_path / "x.mp4",
                     _silent_progress)


def test_per_frame_face_boxes_are_kept_beside_the_output(grid_clip, tmp_path):
    import json

    blanked = write_with_blank_middle(grid_clip, tmp_path / "gap.mp4", range(20, 32), limit=50)
    (tmp_path / "entry").mkdir()
    VisemeLipSync().sync(video_ref(blanked), DubTrack(read_audio(grid_clip)),
                         tmp_path / "entry" / "out.mp4", _silent_progress)
    boxes = json.loads((tmp_path / "entry" / "face_boxes.json").read_text())["boxes"]
    assert len(boxes) == 50
    assert all(boxes[i] is None for i in range(21, 32))  # the blank frames have no face
    assert boxes[5] is not None and boxes[45] is not None
    x0, y0, x1, y1 = boxes[5]
    assert 0 <= x0 < x1 <= 360 and 0 <= y0 < y1 <= 288


def test_piecewise_warp_is_exact_at_the_points_and_cuts_collapsed_triangles():
    from stages.lipsync._mouth_warp import folds, triangle_map, triangulate

    src = np.array([[0, 0], [40, 0], [40, 40], [0, 40], [20, 18], [20, 22]], np.float64)
    dst = src.copy()
    dst[5] = (20, 30)  # the lower "lip" point moves down: the triangles between them open
    triangles = triangulate(dst)
    assert not folds(dst, src, triangles)
    map_x, map_y, covered = triangle_map((41, 41), dst, src, triangles)
    assert covered[5:35, 5:35].all()
    assert (map_x[30, 20], map_y[30, 20]) == pytest.approx((20, 22), abs=0.6)  # exact there
    assert (map_x[2, 2], map_y[2, 2]) == pytest.approx((2, 2), abs=0.6)  # pinned corner region
    crossed = dst.copy()
    crossed[5] = (20, 10)  # the lower point above the upper one: the mesh would turn over
    assert folds(crossed, src, triangles)


@pytest.mark.parametrize("points", [30, 300])  # under and over 255 triangles (byte owners)
def test_every_pixel_samples_through_its_own_triangles_affine(points):
    """Every source point moved at random: each triangle has its own affine, so a pixel strictly
    inside a triangle must land where that triangle's map (solved here independently) sends
    it; a pixel given another triangle's map, or a shifted id, lands elsewhere."""
    from stages.lipsync._mouth_warp import triangle_map, triangulate

    rng = np.random.default_rng(points)
    corners = np.array([[0, 0], [99, 0], [99, 79], [0, 79]], np.float64)
    dst = np.concatenate([corners, rng.uniform([2, 2], [97, 77], (points, 2))])
    triangles = triangulate(dst)
    assert (len(triangles) > 255) == (points > 200)
    src = dst + rng.uniform(-3.0, 3.0, dst.shape)
    map_x, map_y, covered = triangle_map((80, 100), dst, src, triangles)
    assert covered.mean() > 0.95
    ys, xs = np.mgrid[0:80, 0:100]
    pixels = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)
    checked = 0
    for tri in triangles:
        d, s_ = dst[tri], src[tri]
        # barycentric coordinates of every pixel in this triangle
        basis = np.array([d[1] - d[0], d[2] - d[0]]).T
        if abs(np.linalg.det(basis)) < 1.0:
            continue
        uv = np.linalg.solve(basis, (pixels - d[0]).T).T
        w = np.column_stack([1.0 - uv.sum(axis=1), uv])
        # distance to the edge opposite each vertex: clear by a pixel of what a neighbour owns
        area2 = abs(np.linalg.det(basis))
        heights = [area2 / np.linalg.norm(d[(i + 2) % 3] - d[(i + 1) % 3]) for i in range(3)]
        inside = (w * np.array(heights) > 0.75).all(axis=1)
        if not inside.any():
            continue
        expected = w[inside] @ s_
        px, py = pixels[inside, 0].astype(int), pixels[inside, 1].astype(int)
        assert np.abs(map_x[py, px] - expected[:, 0]).max() < 1e-2
        assert np.abs(map_y[py, px] - expected[:, 1]).max() < 1e-2
        checked += int(inside.sum())
    assert checked > 1500, checked


def test_a_cross_fade_counts_each_frame_once_in_the_range_fit(grid_clip):
    """While a replaced reference fades out its target is made too; only the current one's
    opening may feed the speaker-range fit (else fades bias the scale towards the old mouth)."""
    import dataclasses

    from f2f.faces import FaceDetector, FaceTracker, LandmarkPredictor
    from stages.lipsync._common import FaceFrame
    from stages.lipsync._mouth_motion import MouthMotion
    from stages.lipsync._mouth_range import SpeakerRange
    from stages.lipsync._mouth_render import MouthReplacer, RenderSettings

    frames = read_frames(grid_clip)[:10]
    tracker, predictor = FaceTracker(FaceDetector("auto"), detect_every=1), LandmarkPredictor()
    n = len(frames)
    offsets = np.zeros((n, 20, 2), np.float32)
    offsets[:, 17:20, 1] = 0.05  # lower inner lip down: an open target
    speaker = SpeakerRange(MouthMotion(offsets, np.zeros(n, np.float32),
                                       np.ones(n, np.float32), "test"))
    renderer = MouthReplacer(speaker, RenderSettings())
    items = []
    for i, frame in enumerate(frames):
        box = tracker.update(frame)
        items.append(FaceFrame(i, frame, box, predictor.predict(frame, box)))
    renderer.render(items[:4])
    # as if the reference had just been renewed: an older one (a copy) fades out from frame 4
    renderer._fading = (dataclasses.replace(renderer.reference, index=-1), 4)
    out = renderer.render(items[4:])
    assert renderer._fading is None or renderer._fading[1] == 4
    assert all(o.shape == f.shape for o, f in zip(out, frames[4:], strict=True))
    assert speaker._units == n, speaker._units


def test_a_turn_does_not_make_a_pursed_frame_the_reference(grid_clip):
    """After a head turn the reference must be renewed, but not from the first frame of the new
    pose whatever its mouth does: a pursed one would carry its shape into every frame (the
    demo's 3.7-4.0 s). The old reference holds until a rest-shaped frame of the new pose."""
    from f2f.faces import FaceDetector, FaceTracker, LandmarkPredictor, interocular
    from stages.lipsync._common import FaceFrame
    from stages.lipsync._mouth_motion import MouthMotion
    from stages.lipsync._mouth_range import SpeakerRange
    from stages.lipsync._mouth_render import MouthReplacer, RenderSettings

    frame = read_frames(grid_clip)[0]
    rest = LandmarkPredictor().predict(frame, FaceTracker(FaceDetector("auto")).update(frame))
    rest = rest.astype(np.float64)
    scale = interocular(rest)
    turned = rest.copy()
    turned[27:36, 0] += 0.25 * scale  # the nose moves across: a turn past POSE_LIMIT
    pursed = turned.copy()
    pursed[[48, 60], 0] += 0.1 * scale  # corners in: a rounded, narrow mouth
    pursed[[54, 64], 0] -= 0.1 * scale
    n = 40
    motion = MouthMotion(np.zeros((n, 20, 2), np.float32), np.zeros(n, np.float32),
                         np.zeros(n, np.float32), "test")
    renderer = MouthReplacer(SpeakerRange(motion), RenderSettings())
    marks = [rest] * 10 + [pursed] * 6 + [turned] * 4
    for i, points in enumerate(marks):
        item = FaceFrame(i, frame, None, points.astype(np.float32))
        renderer._maybe_new_reference(item, points, 0.0, i == 0)
        if 10 <= i < 16:
            assert renderer.reference.index < 10, i  # pursed frames never become it
    assert renderer.reference.index >= 16  # the rest-shaped frame of the new pose does


def test_the_audio_mouth_model_runs_in_chunks_with_the_same_output(
        monkeypatch: pytest.MonkeyPatch, grid_clip: Path) -> None:
    import tracemalloc

    from stages.lipsync import _mouth_model as mm

    samples = read_audio(grid_clip).samples
    model = mm.load_audio_mouth()[0]
    times = np.arange(75) / 25.0
    whole = model.predict(samples, times)
    monkeypatch.setattr(mm, "CHUNK_FRAMES", 7)  # chunk edges inside the clip, mel and windows
    np.testing.assert_allclose(model.predict(samples, times), whole, atol=1e-6)
    monkeypatch.undo()
    # memory flat in the dub's length: the whole STFT and every window at once grew with it
    # (~1 GB of temporaries for 10 minutes)
    def peak_mb(copies: int) -> float:
        long = np.tile(samples, copies)  # 3 s each
        tracemalloc.start()
        try:
            model.predict(long, np.arange(75 * copies) / 25.0)
            return tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()
    short, longer = peak_mb(40), peak_mb(120)  # 2 and 6 minutes
    assert longer < 1.3 * short, (short, longer)


def test_dub_loudness_is_measured_in_blocks_with_the_same_levels() -> None:
    """The per-frame loudness that opens and closes the mouth: the same dB as the plain
    (frames, window) formula, and memory flat in the dub's length (that gather of a 10-minute
    dub was ~0.5 GB per temporary, the largest part of a long video's peak)."""
    import tracemalloc

    from stages.lipsync import _mouth_shapes as ms

    rng = np.random.default_rng(0)
    speech = Speech((rng.normal(0, 0.1, 16000 * 20) *
                     (np.arange(16000 * 20) % 16000 < 9000)).astype(np.float32), 16000)
    frames = 20 * 25 + 3  # a few frames past the audio's end
    hop, window = 640, 960
    mids = np.round((np.arange(frames) + 0.5) * hop).astype(int)
    index = mids[:, None] - window // 2 + np.arange(window)[None, :]
    samples = speech.samples.astype(np.float64)
    valid = (index >= 0) & (index < samples.size)
    chunks = np.where(valid, samples[np.clip(index, 0, samples.size - 1)], 0.0)
    expected = 10.0 * np.log10((chunks ** 2).mean(axis=1) + 1e-12)
    np.testing.assert_allclose(ms.loudness_db(speech, 25.0, frames), expected, atol=1e-9)

    def peak_mb(seconds: int) -> float:
        long = Speech(np.tile(speech.samples, seconds // 20), 16000)
        tracemalloc.start()
        try:
            ms.loudness_db(long, 25.0, seconds * 25)
            return tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()
    assert peak_mb(600) < 1.5 * peak_mb(60) + 5.0, (peak_mb(60), peak_mb(600))


def test_a_target_that_would_fold_the_warp_is_eased_not_dropped(grid_clip):
    """A shape the mesh cannot take in full (corners pulled across the mouth) is shown part of
    the way there: a closed mouth flashing up among open ones is what the demo showed on 12 of
    its 253 frames. One it cannot take even in part keeps the reference's closed mouth."""
    from f2f.faces import (FaceDetector, FaceFrameOfReference, FaceTracker, LandmarkPredictor,
                           interocular)
    from stages.lipsync._common import FaceFrame
    from stages.lipsync._mouth_motion import MouthMotion
    from stages.lipsync._mouth_range import SpeakerRange
    from stages.lipsync._mouth_render import MouthReplacer, RenderSettings

    frame = read_frames(grid_clip)[0]
    box = FaceTracker(FaceDetector("auto")).update(frame)
    marks = LandmarkPredictor().predict(frame, box).astype(np.float64)
    face = FaceFrameOfReference.of(marks)
    moved = {}
    for pull in (0.4, 0.9):
        offsets = np.zeros((2, 20, 2), np.float32)
        offsets[:, [6, 16], 0] = -pull  # image-right corners (54, 64) across the mouth
        renderer = MouthReplacer(SpeakerRange(MouthMotion(offsets, np.zeros(2, np.float32),
                                                          np.ones(2, np.float32), "test")),
                                 RenderSettings())
        renderer.render([FaceFrame(0, frame, box, marks.astype(np.float32))])
        renderer.folds_eased = renderer.folds_avoided = 0
        geometry = renderer._geometry(renderer.reference, marks, face, 1, None)
        corner = geometry.target[54] + np.array(geometry.box[:2])
        moved[pull] = (float(renderer.reference.landmarks[54, 0] - corner[0]) / interocular(marks),
                       renderer.folds_eased, renderer.folds_avoided)
    assert moved[0.4][1:] == (1, 0), moved
    assert 0.05 < moved[0.4][0] < 0.4 * 0.9, moved  # part of the way
    assert moved[0.9][1:] == (0, 1) and abs(moved[0.9][0]) < 0.02, moved


def test_drawing_into_owned_frames_gives_the_same_pixels_and_leaves_others_alone(grid_clip):
    """The loop hands its frames over (`owned`): the renderer blends into them instead of
    copying; frames it does not own must come back as new arrays, the input untouched."""
    from f2f.faces import FaceDetector, FaceTracker, LandmarkPredictor
    from stages.lipsync._common import FaceFrame
    from stages.lipsync._mouth_motion import MouthMotion
    from stages.lipsync._mouth_range import SpeakerRange
    from stages.lipsync._mouth_render import MouthReplacer, RenderSettings

    frames = read_frames(grid_clip)[:8]
    tracker, predictor = FaceTracker(FaceDetector("auto"), detect_every=1), LandmarkPredictor()
    n = len(frames)
    offsets = np.zeros((n, 20, 2), np.float32)
    offsets[:, 17:20, 1] = 0.08  # an open target: the mouth is repainted
    faces = []
    for frame in frames:
        box = tracker.update(frame)
        faces.append((box, predictor.predict(frame, box)))

    def rendered(owned: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
        motion = MouthMotion(offsets, np.zeros(n, np.float32), np.ones(n, np.float32), "test")
        renderer = MouthReplacer(SpeakerRange(motion), RenderSettings())
        given = [f.copy() for f in frames]
        items = [FaceFrame(i, f, box, points, owned=owned)
                 for i, (f, (box, points)) in enumerate(zip(given, faces, strict=True))]
        return given, renderer.render(items[:4]) + renderer.render(items[4:])

    kept, copied = rendered(owned=False)
    handed, drawn = rendered(owned=True)
    assert all(np.array_equal(k, f) for k, f in zip(kept, frames, strict=True))
    assert all(d is h for d, h in zip(drawn, handed, strict=True))
    assert all(np.array_equal(c, d) for c, d in zip(copied, drawn, strict=True))
    assert max(np.abs(c.astype(int) - f).max() for c, f in zip(copied, frames)) > 40
