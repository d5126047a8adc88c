"""Mouth replacement: each face frame's lower face is re-rendered from a closed-mouth reference
frame of the same face track, never from the frame's own (moving) mouth.

Per frame: the reference is aligned to the frame by a similarity transform on the stable
landmarks (eyes, nose, upper jaw); its closed lips are opened to the target shape by a
piecewise-affine warp (so nothing folds, and collapsing triangles cut lips apart instead of
squeezing them); the interior is painted (_mouth_interior); the result is colour-matched to the
frame around the edge and blended in through a soft mask that covers everywhere the frame's own
lips and chin can be, so no second lip or chin can survive at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from f2f.faces import FaceFrameOfReference, inner_gap, mouth_opening
from f2f.paste import blend_into, mean_difference, shifted
from stages.lipsync._common import FaceFrame
from stages.lipsync._mouth_fade import morph_fade
from stages.lipsync._mouth_interior import (TeethExemplar, better, capture_teeth,
                                            paint_interior)
from stages.lipsync._mouth_place import (apply, invert, lower_face_box, mask_window,
                                         ring_box, similarity)
from stages.lipsync._mouth_range import SpeakerRange
from stages.lipsync._mouth_warp import folds, triangle_map, triangulate

STABLE = [0, 1, 2, 14, 15, 16, *range(27, 36), *range(36, 48)]
WARPED = [*range(0, 17), *range(27, 36), *range(48, 68)]  # the points the warp moves or pins
JAW_DROP = {4: 0.1, 5: 0.3, 6: 0.6, 7: 0.85, 8: 1.0, 9: 0.85, 10: 0.6, 11: 0.3, 12: 0.1}
POSE_LIMIT = 0.12  # face units of nose displacement: beyond it the reference is renewed
MAX_AGE = 100  # frames: a closed-enough newer frame replaces an older reference
CLOSED_ENOUGH = 0.03  # inner gap (face units) below which a frame counts as closed
_GAP_ROWS = ((13, 19), (14, 18), (15, 17))  # inner upper/lower pairs in the 20 mouth points
# a triangle turned over by less than this (doubled area, in inter-ocular distances squared:
# 17 px² on the demo's face) is a sliver at a mouth corner, not a fold anyone sees; easing the
# whole mouth back open for it (folds_eased) left closed targets parted with teeth showing
SLIVER_FOLD = 0.001
FADE_FRAMES = 6  # a new reference blends in over this many frames
POSE_WAIT = 8  # frames a turned head keeps the old reference, waiting for a rest-shaped frame
_OPEN_ROWS = [WARPED.index(i) for i in (65, 66, 67, 55, 56, 57, 58, 59, *range(4, 13))]


def pose_of(landmarks: np.ndarray) -> np.ndarray:
    """Where the nose tip and the jaw sides sit in face units: turns and nods move these."""
    ref = FaceFrameOfReference.of(landmarks)
    return ref.to_face(landmarks[[33, 30, 2, 14]]).ravel()


@dataclass(frozen=True)
class Reference:
    crop: np.ndarray  # (h, w, 3) uint8, a copy of the source frame's lower face
    origin: np.ndarray  # (2,) crop's top-left in its frame's pixels
    landmarks: np.ndarray  # (68, 2) in its frame's pixels
    gap: float
    pose: np.ndarray
    index: int
    score: float


@dataclass(frozen=True, eq=False)
class _Geometry:
    """One reference's placement in one frame (region coordinates)."""

    box: tuple[int, int, int, int]  # the region, frame pixels
    target: np.ndarray  # (68, 2) target points
    dst: np.ndarray  # mesh points in the region
    src: np.ndarray  # the same points in the reference's crop
    triangles: np.ndarray


@dataclass(frozen=True)
class RenderSettings:
    interior: bool = True
    feather: float = 0.07  # mask blur sigma, inter-ocular distances
    colour_match: bool = True


def sliver_fold(scale: float) -> float:
    """`folds`' tolerance in square pixels for a face of `scale` pixels per inter-ocular
    distance (at least half a pixel: rounding)."""
    return max(0.5, SLIVER_FOLD * scale * scale)


class MouthReplacer:
    """The `viseme` FrameRenderer: one face track's state (reference, teeth, colour offset)."""

    needs_landmarks = True

    def __init__(self, speaker_range: SpeakerRange, settings: RenderSettings) -> None:
        self.range = speaker_range
        self.settings = settings
        self.reference: Reference | None = None
        self.teeth: TeethExemplar | None = None
        self._last_index: int | None = None
        self._last_centre: np.ndarray | None = None
        self._colour_shift: np.ndarray | None = None
        self._width: float | None = None  # slow average of the mouth width, face units
        self._fading: tuple[Reference, int] | None = None  # the last reference, when replaced
        self.reference_changes = 0
        self._frame_size = (0, 0)
        # per reference (keyed by its frame index: id() is reused once a reference is freed)
        self._triangles: dict[int, np.ndarray] = {}
        self.folds_avoided = 0
        self.folds_eased = 0  # frames shown part of the way to a target that would fold
        self.reference_reasons: dict[str, int] = {}
        # after a turn: (best-scoring frame of the new pose so far, frame the wait began)
        self._waiting: tuple[Reference, int] | None = None

    # ---------------------------------------------------------------- track bookkeeping

    def _new_track(self, item: FaceFrame, landmarks: np.ndarray, scale: float) -> bool:
        centre = landmarks[27:36].mean(axis=0)
        jump = self._last_centre is not None and float(
            np.linalg.norm(centre - self._last_centre)) > 0.5 * scale
        gap_in_time = self._last_index is None or item.index != self._last_index + 1
        self._last_index, self._last_centre = item.index, centre
        return jump or gap_in_time

    def _score(self, gap: float, landmarks: np.ndarray) -> float:
        """Lower is a better reference: closed, and as wide as this speaker's mouth at rest
        (a pursed or smiling mouth would carry its shape into every frame)."""
        face = FaceFrameOfReference.of(landmarks)
        width = float((landmarks[54] - landmarks[48]) @ face.across) / face.scale
        self._width = width if self._width is None else 0.97 * self._width + 0.03 * width
        return max(gap, 0.0) + 0.6 * abs(width - self._width)

    def _capture(self, item: FaceFrame, landmarks: np.ndarray, gap: float, pose: np.ndarray,
                 score: float) -> Reference:
        height, width = item.frame.shape[:2]
        scale = FaceFrameOfReference.of(landmarks).scale
        x0, y0, x1, y1 = lower_face_box(landmarks, 1.6 * scale, width, height)
        crop = np.ascontiguousarray(item.frame[y0:y1, x0:x1]).copy()
        return Reference(crop, np.array([x0, y0], np.float64), landmarks.astype(np.float64),
                         gap, pose, item.index, score)

    def _maybe_new_reference(self, item: FaceFrame, landmarks: np.ndarray, gap: float,
                             new_track: bool) -> None:
        pose = pose_of(landmarks)
        score = self._score(gap, landmarks)
        ref = self.reference
        chosen: Reference | None = None
        if ref is not None and not new_track:
            turn = float(np.abs(pose - ref.pose).max())
            moved = self._after_turn(item, landmarks, gap, pose, score, turn, ref)
            # clearly better only: every change costs a cross-fade and some texture shift
            better_ref = ref.score > CLOSED_ENOUGH and score < 0.6 * ref.score - 0.005
            stale = item.index - ref.index > MAX_AGE and score <= ref.score + 0.01
            if moved is None and not (better_ref or stale):
                return
            reason = "pose" if moved is not None else "closer" if better_ref else "age"
            chosen = moved
        else:
            reason = "new track"
        self._waiting = None
        self.reference_reasons[reason] = self.reference_reasons.get(reason, 0) + 1
        self._fading = None if new_track or ref is None else (ref, item.index)
        self.reference = chosen or self._capture(item, landmarks, gap, pose, score)
        self.reference_changes += 1

    def _after_turn(self, item: FaceFrame, landmarks: np.ndarray, gap: float, pose: np.ndarray,
                    score: float, turn: float, ref: Reference) -> Reference | None:
        """The reference for a new pose, or None while the old one may still hold. A frame
        of the new pose that is open, pursed or smiling would carry its shape into every frame
        until the next renewal, so the old reference holds while the best-scoring frame of the
        new pose is kept: for up to POSE_WAIT frames after a far turn, and after a mild one
        until a frame scores about as well as the old reference."""
        if turn <= POSE_LIMIT:
            if turn < 0.5 * POSE_LIMIT:  # back at the reference's pose (a turn near the limit
                self._waiting = None  # flickers across it and must not restart the wait)
            return None
        fits = score <= ref.score + 0.02
        waiting = self._waiting
        if waiting is None or score < waiting[0].score:
            waiting = (self._capture(item, landmarks, gap, pose, score),
                       waiting[1] if waiting else item.index)
        self._waiting = waiting
        far = turn > 2 * POSE_LIMIT and item.index - waiting[1] >= POSE_WAIT
        if fits or far or turn > 3 * POSE_LIMIT:
            return waiting[0]
        return None  # a mild turn: the aligned old reference holds until a frame fits

    # ---------------------------------------------------------------- per frame

    def render(self, batch: Sequence[FaceFrame]) -> list[np.ndarray]:
        out = []
        for item in batch:
            if item.box is None or item.landmarks is None:
                self._last_index = None
                out.append(item.frame)
                continue
            landmarks = item.landmarks.astype(np.float64)
            face = FaceFrameOfReference.of(landmarks)
            gap = inner_gap(landmarks)
            new_track = self._new_track(item, landmarks, face.scale)
            self.range.observe(mouth_opening(landmarks), new_track)
            self._maybe_new_reference(item, landmarks, gap, new_track)
            candidate = capture_teeth(item.frame, landmarks, face.down, face.scale, gap)
            if better(candidate, self.teeth):
                self.teeth = candidate
            out.append(self._render_one(item, landmarks, face))
        return out

    def target_points(self, landmarks: np.ndarray, face: FaceFrameOfReference,
                      aligned_ref: np.ndarray, index: int, record: bool = True) -> np.ndarray:
        """(68, 2) where every point goes in this frame: the reference's face, aligned, with the
        mouth and jaw moved to the dub's shape. `record`: count it in the range fit (once per
        frame: the fading reference's second target must not count twice)."""
        offsets, closure, scale = self.range.offsets(index)
        target = aligned_ref.copy()
        rest_face = face.to_face(aligned_ref[48:68])
        ref_lower_lip = float(rest_face[9, 1])
        # the rest mouth is the speaker's closed one: a reference that is still a little open
        # has its lower lip brought up to it (triangles between the lips collapse, nothing folds)
        ref_gap = float(np.mean([rest_face[b, 1] - rest_face[a, 1] for a, b in _GAP_ROWS]))
        excess = max(ref_gap - max(self.range.rest(), 0.0), 0.0)
        rest_face[[7, 8, 9, 10, 11, 17, 18, 19], 1] -= excess
        mouth = rest_face + offsets
        upper = mouth[[13, 14, 15], 1]
        lower = mouth[[19, 18, 17], 1]
        # lips never cross; on p/b/m they meet (lower lip and jaw rise by the remaining gap)
        lift = closure * np.maximum(lower - upper, 0.0)  # (3,) left, middle, right
        mouth[[19, 18, 17], 1] -= lift
        mouth[[7, 8, 9, 10, 11], 1] -= lift[[0, 0, 1, 2, 2]]
        mouth[[19, 18, 17], 1] = np.maximum(mouth[[19, 18, 17], 1], upper)
        target[48:68] = face.to_pixels(mouth)
        if record:
            self.range.rendered(mouth_opening(target), scale)
        drop = float(mouth[9, 1] - ref_lower_lip) * face.scale  # lower lip's move, pixels
        for j, weight in JAW_DROP.items():
            target[j] = aligned_ref[j] + 0.8 * weight * drop * face.down
        return target

    def _geometry(self, ref: Reference, landmarks: np.ndarray, face: FaceFrameOfReference,
                  index: int, box: tuple[int, int, int, int] | None) -> _Geometry:
        """Where the reference goes in this frame: its target points, the region box and the
        mesh that opens the reference's closed lips to the target without folding."""
        to_frame = similarity(ref.landmarks[STABLE], landmarks[STABLE])
        aligned = apply(to_frame, ref.landmarks)
        target = self.target_points(landmarks, face, aligned, index, ref is self.reference)
        if box is None:
            height, width = self._frame_size
            box = lower_face_box(np.concatenate([landmarks, target]), face.scale, width, height)
        x0, y0, x1, y1 = box
        origin = np.array([x0, y0], np.float64)
        # control points: moved/pinned landmarks plus a ring on the region's border. Where the
        # frame cuts the region (a chin at the bottom edge) the points can lie beyond it, and a
        # triangle from them to the ring would turn over: there the ring goes round them,
        # outside the region (only pixels inside are rendered)
        # (the margin holds the open template's 0.12 jaw drop below too)
        rx0, ry0, rx1, ry1 = ring_box(box, np.concatenate([target[WARPED], aligned[WARPED]]),
                                      0.25 * face.scale)
        bx = np.linspace(rx0, rx1, 5)
        by = np.linspace(ry0, ry1, 5)
        ring = np.array([(x, y) for x in bx for y in (ry0, ry1)] +
                        [(x, y) for y in by[1:-1] for x in (rx0, rx1)], np.float64)
        dst = np.concatenate([target[WARPED], ring]) - origin
        src = np.concatenate([ref.landmarks[WARPED], apply(invert(to_frame), ring)]) - ref.origin
        triangles = self._triangles.get(ref.index)
        if triangles is None or folds(dst, src, triangles, sliver_fold(face.scale)):
            triangles, target = self._mesh(triangles, dst, src, target, aligned, face, origin)
            dst[:len(WARPED)] = target[WARPED] - origin
            current = self.reference.index if self.reference is not None else None
            self._triangles = {ref.index: triangles, **{k: v for k, v in self._triangles.items()
                                                       if k == current}}
        return _Geometry(box, target - origin, dst, src, triangles)

    @staticmethod
    def _warp(ref: Reference, geometry: _Geometry, window: tuple[int, int, int, int]
              ) -> tuple[np.ndarray, np.ndarray]:
        """The reference opened to the target, in `window` (x0, y0, x1, y1) of the region:
        (warped uint8, covered mask)."""
        import cv2

        x0, y0, x1, y1 = geometry.box
        map_x, map_y, covered = triangle_map((y1 - y0, x1 - x0), geometry.dst, geometry.src,
                                             geometry.triangles, window)
        warped = cv2.remap(ref.crop, map_x, map_y, cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
        return warped, covered

    def _mesh(self, cached: np.ndarray | None, dst: np.ndarray, src: np.ndarray,
              target: np.ndarray, aligned: np.ndarray, face: FaceFrameOfReference,
              origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A triangulation under which neither the target nor the reference turns over, and the
        target it was found for: the full one if possible, else one part of the way from the
        reference's closed mouth (a shape held back is less visible than a closed mouth
        flashing up), else the reference's own mouth (a fold would show as a ring)."""
        for part in (1.0, 0.6, 0.3):
            trial = aligned + part * (target - aligned)
            points = dst.copy()
            points[:len(WARPED)] = trial[WARPED] - origin
            template = points.copy()
            template[_OPEN_ROWS] += 0.12 * face.scale * face.down  # open: cavity triangles
            # the target's own mesh cannot turn over in the target, only in the reference
            meshes = (m() for m in (lambda: cached, lambda: triangulate(template),
                                    lambda: triangulate(points)))
            for triangles in meshes:
                if triangles is not None and not folds(points, src, triangles,
                                                       sliver_fold(face.scale)):
                    if part < 1.0:
                        self.folds_eased += 1
                    return triangles, trial
        self.folds_avoided += 1
        return (cached if cached is not None else triangulate(template)), aligned

    def _render_one(self, item: FaceFrame, landmarks: np.ndarray,
                    face: FaceFrameOfReference) -> np.ndarray:

        ref = self.reference
        assert ref is not None
        frame = item.frame
        self._frame_size = frame.shape[:2]
        geometry = self._geometry(ref, landmarks, face, item.index, None)
        x0, y0, x1, y1 = box = geometry.box
        if x1 - x0 < 8 or y1 - y0 < 8:
            return frame
        local_target = geometry.target
        origin = np.array([x0, y0], np.float64)
        mask = self._mask((y1 - y0, x1 - x0), landmarks - origin, local_target, face)
        fade: tuple[_Geometry, Reference, float] | None = None
        if self._fading is not None:  # cross-fade from the replaced reference: no pop
            old, since = self._fading
            t = (item.index - since + 1) / (FADE_FRAMES + 1)
            if t >= 1.0:
                self._fading = None
            else:
                fade = (self._geometry(old, landmarks, face, item.index, box), old, t)
        # only where the mask reaches is anything shown: the rest of the region is not rendered
        # (nor searched by the fade's flow)
        window = mask_window(mask, local_target[48:60])
        wx0, wy0, wx1, wy1 = window
        warped, covered = self._warp(ref, geometry, window)
        if fade is not None:
            previous, _ = self._warp(fade[1], fade[0], window)
            warped = morph_fade(warped, previous, fade[2])
        mask = mask[wy0:wy1, wx0:wx1] * covered
        local_target = local_target - [wx0, wy0]
        x0, y0 = x0 + wx0, y0 + wy0
        region = frame[y0:y0 + wy1 - wy0, x0:x0 + wx1 - wx0]
        if self.settings.colour_match:
            warped = self._match(warped, region, mask)
        if self.settings.interior:
            lips = warped[np.clip(local_target[48:60, 1].astype(int), 0, wy1 - wy0 - 1),
                          np.clip(local_target[48:60, 0].astype(int), 0, wx1 - wx0 - 1)]
            paint_interior(warped, local_target[60:68], face.down, face.scale,
                           lips.astype(np.float32).mean(axis=0), self.teeth)
        return blend_into(frame, warped, mask, x0, y0, in_place=item.owned)

    def _mask(self, shape: tuple[int, int], current: np.ndarray, target: np.ndarray,
              face: FaceFrameOfReference) -> np.ndarray:
        """1 over every place the frame's own or the target's lips and chin can be, soft edge."""
        import cv2

        s, down = face.scale, face.down
        across = face.across
        nose = current[33]
        polygons = []
        for pts in (current, target):
            top_y = nose + 0.06 * s * down
            left = pts[48] - 0.32 * s * across
            right = pts[54] + 0.32 * s * across
            top_left = top_y + ((left - top_y) @ across) * across
            top_right = top_y + ((right - top_y) @ across) * across
            jaw = []
            for j in range(4, 13):
                w = JAW_DROP[j]
                inward = (pts[51] - pts[j]) / (np.linalg.norm(pts[51] - pts[j]) + 1e-6)
                jaw.append(pts[j] + (1.0 - w) * 0.12 * s * inward + w * 0.3 * s * down)
            polygons.append(np.array([top_left, top_right, *jaw[::-1]], np.float64))
        # drawn and blurred at quarter size: the mask is smooth, the cost is not
        q = 4
        small: np.ndarray = np.zeros(((shape[0] + q - 1) // q, (shape[1] + q - 1) // q),
                                     np.float32)
        for poly in polygons:
            cv2.fillPoly(small, [np.round(poly * (16 / q)).astype(np.int32)], 1.0,
                         lineType=cv2.LINE_AA, shift=4)
        shrink = max(1, int(round(0.08 * s / q)))
        small = cv2.erode(small, np.ones((2 * shrink + 1, 2 * shrink + 1), np.uint8))
        small = cv2.GaussianBlur(small, (0, 0), max(0.7, self.settings.feather * s / q))
        return cv2.resize(small, (small.shape[1] * q, small.shape[0] * q),
                          interpolation=cv2.INTER_LINEAR)[:shape[0], :shape[1]]

    def _match(self, warped: np.ndarray, region: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Shifts the render's colour to the frame's, measured in the mask's soft edge."""
        band = (mask > 0.05) & (mask < 0.6)
        shift = mean_difference(region, warped, band)
        if shift is None:
            return warped
        if self._colour_shift is not None:
            shift = 0.5 * shift + 0.5 * self._colour_shift  # lighting drifts; noise must not
        self._colour_shift = shift
        return shifted(warped, shift)
