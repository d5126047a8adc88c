"""The timing fit: places each segment's target-language speech into its source time slot.

Per segment, in this order: a pitch-preserving time stretch (WSOLA), slowing short speech at
most to max_stretch and speeding long speech up to comfortable_min_stretch (1.1x: a margin
under the ~1.15x beyond which a dub sounds hurried); if the speech still does not fit, it runs
on into the silence before the next segment, and only when that is full is it sped up further,
to min_stretch (1.25x); only then is the video slowed by freezing frames (a `VideoExtension`).
Every position is computed from absolute times, so rounding never accumulates: the track is
exactly `source_duration_s + extensions` long, and with `fps` given every extension is a whole
number of frames, so audio/video drift stays under one sample.

The track's sample rate is the highest rate among the segments (22,050 Hz from espeak, 16 kHz
after VC or from mms); other segments are resampled to it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from f2f.artifacts import (
    DubTrack,
    PhonemeEvent,
    SegmentSpeech,
    SegmentTiming,
    Speech,
    SpeechSegments,
    TranslatedSegment,
    Translation,
    VideoExtension,
)
from f2f.config import TimingConfig
from f2f.errors import ConfigError, StageError

log = logging.getLogger(__name__)

VERSION = 3  # part of the fit's cache key: bump it whenever the fitting changes its output
DEFAULT_RATE = 22_050  # used when there are no segments at all
_UNCHANGED = 0.01  # stretch factors this close to 1 are not worth processing
_FADE_S = 0.02


# ------------------------------------------------------------------------------ signal helpers


def resample(speech: Speech, rate: int) -> Speech:
    """Band-limited resampling to `rate` Hz (soxr's high quality), exactly round(n * ratio)
    samples long. soxr rather than scipy.signal: the same quality, and scipy.signal alone takes
    ~1.5 s to import, a sixth of the demo's whole time budget."""
    if speech.sample_rate == rate or speech.samples.size == 0:
        return Speech(speech.samples, rate)
    import soxr

    samples = np.asarray(speech.samples, np.float32)
    out = soxr.resample(samples, speech.sample_rate, rate, quality="HQ")
    length = int(round(samples.size * rate / speech.sample_rate))
    out = out[:length] if out.size >= length else np.pad(out, (0, length - out.size))
    return Speech(np.clip(out, -1.0, 1.0).astype(np.float32), rate)


def time_stretch(samples: np.ndarray, sample_rate: int, factor: float) -> np.ndarray:
    """Changes duration by `factor` (2.0 = twice as long) keeping pitch, by WSOLA.

    Waveform-similarity overlap-add: each output frame is cut from the input near its nominal
    position, shifted by up to `tolerance` to best continue the previous frame, so pitch periods
    line up and there is no phase-vocoder "phasiness". Output has exactly round(n * factor).
    """
    samples = np.asarray(samples, dtype=np.float32)
    target = int(round(samples.size * factor))
    if samples.size == 0 or target == 0:
        return np.zeros(target, np.float32)
    if abs(factor - 1.0) < 1e-6:
        return samples.copy()
    frame = max(int(0.03 * sample_rate) // 2 * 2, 16)
    hop_out = frame // 2
    hop_in = hop_out / factor
    tolerance = int(0.012 * sample_rate)
    window = np.hanning(frame + 1)[:frame].astype(np.float32)  # periodic: sums to 1 at 50%
    padded = np.concatenate([np.zeros(frame + tolerance, np.float32), samples,
                             np.zeros(2 * frame + 2 * tolerance + hop_out, np.float32)])
    base = frame + tolerance  # index of samples[0] in padded
    n_frames = target // hop_out + 2
    out = np.zeros(n_frames * hop_out + frame, np.float32)
    previous = base - hop_out  # so the first "natural continuation" is the nominal start
    for k in range(n_frames):
        nominal = base + int(round(k * hop_in)) - hop_out
        natural = padded[previous + hop_out: previous + hop_out + frame]
        lo = max(nominal - tolerance, 0)
        region = padded[lo: nominal + tolerance + frame]
        if k and region.size >= frame and np.any(natural):
            scores = np.correlate(region, natural, mode="valid")
            start = lo + int(np.argmax(scores))
        else:
            start = nominal
        out[k * hop_out: k * hop_out + frame] += padded[start: start + frame] * window
        previous = start
    # the first hop_out samples of output hold frame 0's rising half: trim to align with input
    return out[hop_out: hop_out + target].copy()


# ------------------------------------------------------------------------------ the fit


@dataclass(frozen=True)
class _Placement:
    segment: TranslatedSegment
    speech: SegmentSpeech | None
    start_s: float  # track time
    stretch: float
    extension_s: float
    extension_at_s: float  # source time


def _track_rate(segments: SpeechSegments) -> int:
    rates = [s.speech.sample_rate for s in segments.segments]
    return max(rates) if rates else DEFAULT_RATE


def _whole_frames(duration_s: float, fps: float | None) -> float:
    if fps is None or duration_s <= 0:
        return max(duration_s, 0.0)
    return math.ceil(duration_s * fps - 1e-6) / fps


def room_ends_s(spans: Sequence[tuple[float, float]], source_duration_s: float,
                use_following_silence: bool = True) -> list[float]:
    """Where each segment's speech may end, in source time: its own end, or with
    `use_following_silence` the next segment's start (the media's end for the last one).

    `spans` are (start, end) in source order. One place for this, so the slot-aware MT choice
    plans with the same room the fit then gives (`stages/mt/_fit.py`).
    """
    ends = []
    for i, (start, end) in enumerate(spans):
        slot_start = min(start, source_duration_s)
        slot_end = min(max(end, slot_start), source_duration_s)
        next_start = spans[i + 1][0] if i + 1 < len(spans) else source_duration_s
        room = max(min(next_start, source_duration_s), slot_end)
        ends.append(room if use_following_silence else slot_end)
    return ends


def _stretch(natural: float, in_slot: float, with_silence: float,
             config: TimingConfig) -> float:
    """Speed-up up to the comfortable limit, then the following silence, then the hard limit;
    short speech is slowed to fill its slot (within max_stretch)."""
    comfortable = max(config.comfortable_min_stretch, config.min_stretch)
    stretch = min(max(in_slot / natural, comfortable), config.max_stretch)
    if natural * stretch > with_silence + 1e-9:
        stretch = max(with_silence / natural, config.min_stretch)
    return stretch


def _plan(translation: Translation, by_id: dict[int, SegmentSpeech], source_duration_s: float,
          config: TimingConfig, fps: float | None) -> list[_Placement]:
    """Decides start, stretch and any video extension per segment, in source order."""
    slots = sorted(translation.segments, key=lambda s: (s.start_s, s.id))
    room_ends = room_ends_s([(s.start_s, s.end_s) for s in slots], source_duration_s)
    plans: list[_Placement] = []
    shift = 0.0  # video extension inserted so far: track time = source time + shift
    cursor = 0.0  # track time where the previous segment's speech ended
    for slot, room_end in zip(slots, room_ends, strict=True):
        speech = by_id.get(slot.id)
        slot_start = min(slot.start_s, source_duration_s)
        slot_end = min(max(slot.end_s, slot_start), source_duration_s)
        start = max(slot_start + shift, cursor)
        natural = speech.speech.duration_s if speech else 0.0
        if natural <= 0:
            plans.append(_Placement(slot, speech, start, 1.0, 0.0, slot_end))
            continue
        in_slot = max(slot_end + shift - start, 0.0)
        with_silence = max(room_end + shift - start, 0.0) if config.use_following_silence \
            else in_slot
        limit_at = room_end if config.use_following_silence else slot_end
        stretch = _stretch(natural, in_slot, with_silence, config)
        extension = 0.0
        if natural * stretch > with_silence + 1e-9:
            overflow = natural * stretch - with_silence
            if config.allow_video_extension:
                extension = _whole_frames(overflow, fps)
            else:
                # no freeze allowed: speed up beyond the limit rather than cut speech
                stretch = max(with_silence / natural, 0.25)
                log.warning("timing: segment %d needs stretch %.2f (< min %.2f): "
                            "video extension is off", slot.id, stretch, config.min_stretch)
        plans.append(_Placement(slot, speech, start, stretch, extension, limit_at))
        shift += extension
        cursor = start + natural * stretch
    return plans


HURRIED_SPEEDUP = 1.15  # beyond it a dub sounds hurried (issue 14's measure)


def speedup_summary(timings: Sequence[SegmentTiming], config: TimingConfig) -> dict[str, Any]:
    """For the run report: the speed-up each spoken segment got; how many stayed within the
    fit's comfortable limit (1.1x by default) and within 1.15x."""
    limit = 1.0 / max(config.comfortable_min_stretch, config.min_stretch)
    speedups = {t.id: round(1.0 / t.stretch, 3) for t in timings
                if t.synth_duration_s > 0 and t.stretch > 0}
    n = max(len(speedups), 1)

    def over(bound: float) -> list[int]:
        return sorted(i for i, v in speedups.items() if v > bound + 1e-3)
    return {"comfortable_speedup": round(limit, 3), "spoken_segments": len(speedups),
            "within_comfortable": round(1 - len(over(limit)) / n, 4),
            "over_comfortable": over(limit),
            "within_1_15x": round(1 - len(over(HURRIED_SPEEDUP)) / n, 4),
            "over_1_15x": over(HURRIED_SPEEDUP),
            "max_speedup": max(speedups.values(), default=1.0)}


def fit_to_timeline(segments: SpeechSegments, translation: Translation,
                    source_duration_s: float, config: TimingConfig,
                    background: Speech | None = None, fps: float | None = None) -> DubTrack:
    """Builds the whole dub track from per-segment speech (see the module doc for the rules).

    `background` is the source audio: with `config.keep_background` it is mixed in outside the
    speech slots at `background_gain_db`. Pass the video's `fps` so freeze extensions are whole
    frames (otherwise the lip-sync stage's rounding can add up to half a frame each).
    """
    if source_duration_s <= 0 or not math.isfinite(source_duration_s):
        raise ConfigError(f"timing fit needs a positive source duration, got {source_duration_s}")
    config.check()
    by_id = {s.id: s for s in segments.segments}
    unknown = sorted(set(by_id) - {t.id for t in translation.segments})
    if unknown:
        raise StageError(f"timing fit: speech for segment ids {unknown} has no translated "
                         "segment; the TTS output does not belong to this translation")
    rate = _track_rate(segments)
    plans = _plan(translation, by_id, source_duration_s, config, fps)
    extensions = tuple(VideoExtension(p.extension_at_s, p.extension_s)
                       for p in plans if p.extension_s > 0)
    total_s = source_duration_s + sum(e.duration_s for e in extensions)
    track = np.zeros(int(round(total_s * rate)), np.float32)
    timings: list[SegmentTiming] = []
    phonemes: list[PhonemeEvent] = []
    for plan in plans:
        timing, events = _place(plan, rate, track)
        timings.append(timing)
        phonemes += events
    if background is not None and config.keep_background:
        track += _background_bed(background, rate, track.size, plans, extensions, config)
    speech = Speech(np.clip(track, -1.0, 1.0), rate)
    stretched = [t.stretch for t in timings if t.synth_duration_s > 0]
    log.info("timing: %d segments, stretch %.2f..%.2f, %d video extension(s) of %.2f s",
             len(timings), min(stretched, default=1.0), max(stretched, default=1.0),
             len(extensions), total_s - source_duration_s)
    return DubTrack(speech, tuple(sorted(timings, key=lambda t: t.id)),
                    tuple(sorted(phonemes, key=lambda p: p.start_s)), extensions,
                    source=segments.backend or "tts")


def _place(plan: _Placement, rate: int, track: np.ndarray
           ) -> tuple[SegmentTiming, list[PhonemeEvent]]:
    """Stretches one segment's audio and writes it into `track` at its planned start."""
    slot = plan.segment
    start = min(int(round(plan.start_s * rate)), track.size)
    if plan.speech is None or plan.speech.speech.samples.size == 0:
        return SegmentTiming(slot.id, slot.start_s, slot.end_s, 0.0, 1.0, start / rate,
                             start / rate, 0.0), []
    source = plan.speech.speech
    natural = resample(source, rate).samples
    stretch = plan.stretch if abs(plan.stretch - 1.0) >= _UNCHANGED else 1.0
    audio = time_stretch(natural, rate, stretch)
    scale = audio.size / max(natural.size, 1)  # the exact factor after rounding to samples
    audio = audio[: max(track.size - start, 0)]  # only with extensions off and no room left
    track[start: start + audio.size] += audio
    t0, t1 = start / rate, (start + audio.size) / rate
    events = [PhonemeEvent(p.phoneme, min(t0 + p.start_s * scale, t1),
                           min(t0 + p.end_s * scale, t1)) for p in plan.speech.phonemes]
    timing = SegmentTiming(slot.id, slot.start_s, slot.end_s, round(source.duration_s, 6),
                           round(plan.stretch, 4), t0, t1, plan.extension_s)
    return timing, [e for e in events if e.end_s > e.start_s]


def _background_bed(background: Speech, rate: int, length: int, plans: list[_Placement],
                    extensions: tuple[VideoExtension, ...], config: TimingConfig) -> np.ndarray:
    """The source audio, quietened and muted inside speech slots, laid into track time."""
    source = resample(background, rate).samples.copy()
    if source.size == 0:
        return np.zeros(length, np.float32)
    gate: np.ndarray = np.ones(source.size, np.float32)
    fade = max(int(_FADE_S * rate), 1)
    shift = 0.0  # track time - source time before this plan's extension
    for plan in plans:
        a = int(plan.segment.start_s * rate)
        end_s = plan.segment.end_s
        if plan.speech is not None:  # speech that runs on into the pause mutes it there too
            spoken_end = plan.start_s - shift + plan.speech.speech.duration_s * plan.stretch
            end_s = max(end_s, min(spoken_end, plan.extension_at_s))
        b = int(end_s * rate)
        gate[max(a - fade, 0): b + fade] = 0.0
        shift += plan.extension_s
    # soft edges; "full" then cut, because mode="same" returns the kernel's length when the
    # background is shorter than the fade
    smoothed = np.convolve(gate, np.ones(fade, np.float32) / fade, mode="full")
    gate = smoothed[(fade - 1) // 2:(fade - 1) // 2 + source.size]
    source *= gate * 10 ** (config.background_gain_db / 20)
    pieces: list[np.ndarray] = []
    cursor = 0
    for ext in sorted(extensions, key=lambda e: e.at_s):  # silence while the video is frozen
        at = min(int(round(ext.at_s * rate)), source.size)
        pieces += [source[cursor:at], np.zeros(int(round(ext.duration_s * rate)), np.float32)]
        cursor = at
    pieces.append(source[cursor:])
    bed = np.concatenate(pieces)[:length]
    return np.pad(bed, (0, length - bed.size))


def fit_manual_audio(audio: Speech, source_duration_s: float,
                     fps: float | None = None) -> DubTrack:
    """A user-supplied dub: kept as is, padded with silence, or (when longer than the video)
    played in full over a frozen last frame, recorded as a video extension."""
    if source_duration_s <= 0:
        raise ConfigError(f"timing fit needs a positive source duration, got {source_duration_s}")
    overflow = _whole_frames(audio.duration_s - source_duration_s, fps) \
        if audio.duration_s > source_duration_s + 1e-3 else 0.0
    extensions = (VideoExtension(source_duration_s, overflow),) if overflow > 0 else ()
    total = int(round((source_duration_s + overflow) * audio.sample_rate))
    samples = audio.samples[:total]
    samples = np.pad(samples, (0, total - samples.size))
    timing = SegmentTiming(0, 0.0, source_duration_s, audio.duration_s, 1.0, 0.0,
                           min(audio.duration_s, total / audio.sample_rate), overflow)
    return DubTrack(Speech(samples, audio.sample_rate), (timing,), (), extensions, "manual")
