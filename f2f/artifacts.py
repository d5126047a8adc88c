"""Typed, frozen artifacts that flow between stages.

Every artifact validates itself on construction and saves to / loads from a directory in plain
formats (JSON, WAV, MP4). That is what lets the cache store any stage's output.
Times are seconds (`_s`), sample rates in Hz.
"""

from __future__ import annotations

import json
import wave
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from f2f.errors import MediaError

_META = "artifact.json"


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _check_span(start_s: float, end_s: float, what: str) -> None:
    if not (np.isfinite(start_s) and np.isfinite(end_s)) or start_s < 0 or end_s < start_s:
        raise ValueError(f"{what}: bad time span {start_s!r}..{end_s!r}")


# --------------------------------------------------------------------------------------- media


@dataclass(frozen=True)
class VideoRef:
    """A video file on disk (frames only matter here; audio is carried separately)."""

    path: str
    fps: float
    frame_count: int
    width: int
    height: int
    face_track: str = ""  # f2f.face_track file of this video's faces, when already computed

    def __post_init__(self) -> None:
        if self.fps <= 0 or self.frame_count < 0 or self.width <= 0 or self.height <= 0:
            raise ValueError(f"invalid VideoRef {self}")

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps

    def save(self, directory: Path) -> None:
        """Copies nothing: a VideoRef saved into a cache entry must already point inside it."""
        payload = asdict(self)
        path = Path(self.path)
        if path.parent == directory:
            payload["path"] = path.name  # relative, so the entry can move
        _write_json(directory / _META, {"type": "VideoRef", **payload})

    @classmethod
    def load(cls, directory: Path) -> VideoRef:
        data = _read_json(directory / _META)
        data.pop("type", None)
        path = Path(data["path"])
        if not path.is_absolute():
            data["path"] = str(directory / path)
        return cls(**data)


# --------------------------------------------------------------------------------------- text


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float
    probability: float = 1.0

    def __post_init__(self) -> None:
        _check_span(self.start_s, self.end_s, f"word {self.text!r}")


@dataclass(frozen=True)
class Segment:
    """One sentence-like unit: the unit of translation, TTS timing and subtitles."""

    id: int
    text: str
    start_s: float
    end_s: float
    words: tuple[Word, ...] = ()
    confidence: float | None = None

    def __post_init__(self) -> None:
        _check_span(self.start_s, self.end_s, f"segment {self.id}")

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def _segment_from_dict(data: dict[str, Any]) -> Segment:
    words = tuple(Word(**w) for w in data.get("words", ()))
    return Segment(**{**data, "words": words})


@dataclass(frozen=True)
class Transcript:
    """ASR output: language code and sentence segments with word timings."""

    language: str
    segments: tuple[Segment, ...]
    backend: str = ""

    def __post_init__(self) -> None:
        ids = [s.id for s in self.segments]
        if len(set(ids)) != len(ids):
            raise ValueError("segment ids must be unique")

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Transcript", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        segments = tuple(_segment_from_dict(s) for s in data["segments"])
        return cls(language=data["language"], segments=segments, backend=data.get("backend", ""))

    def save(self, directory: Path) -> None:
        _write_json(directory / _META, self.to_dict())

    @classmethod
    def load(cls, directory: Path) -> Transcript:
        return cls.from_dict(_read_json(directory / _META))


@dataclass(frozen=True)
class TranslatedSegment:
    """The translation of one source segment, keeping the source's time slot."""

    id: int
    source_text: str
    text: str
    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        _check_span(self.start_s, self.end_s, f"translated segment {self.id}")

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Translation:
    source_language: str
    target_language: str
    segments: tuple[TranslatedSegment, ...]
    backend: str = ""

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Translation", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Translation:
        segments = tuple(TranslatedSegment(**s) for s in data["segments"])
        return cls(data["source_language"], data["target_language"], segments,
                   data.get("backend", ""))

    def save(self, directory: Path) -> None:
        _write_json(directory / _META, self.to_dict())

    @classmethod
    def load(cls, directory: Path) -> Translation:
        return cls.from_dict(_read_json(directory / _META))


# --------------------------------------------------------------------------------------- audio


@dataclass(frozen=True, eq=False)
class Speech:
    """Mono float32 samples in [-1, 1] at `sample_rate` Hz."""

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"Speech needs mono samples, got shape {samples.shape}")
        if self.sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        if samples.size and not np.isfinite(samples).all():
            raise ValueError("Speech samples contain NaN or inf")
        samples.setflags(write=False)
        object.__setattr__(self, "samples", samples)

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.sample_rate

    def rms_dbfs(self) -> float:
        """Loudness of the whole clip, dB relative to full scale (-200 when empty)."""
        if self.samples.size == 0:
            return -200.0
        rms = float(np.sqrt(np.mean(np.square(self.samples, dtype=np.float64))))
        return 20.0 * float(np.log10(max(rms, 1e-10)))

    def save_wav(self, path: Path) -> None:
        pcm = (np.clip(self.samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
        with wave.open(str(path), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(self.sample_rate)
            handle.writeframes(pcm.tobytes())

    @classmethod
    def load_wav(cls, path: Path) -> Speech:
        """Reads 8/16/32-bit PCM WAV; several channels are averaged to mono."""
        try:
            with wave.open(str(path), "rb") as handle:
                channels, width = handle.getnchannels(), handle.getsampwidth()
                rate, raw = handle.getframerate(), handle.readframes(handle.getnframes())
        except (wave.Error, EOFError, OSError) as exc:
            raise MediaError(f"cannot read WAV file {path}: {exc}") from exc
        if width == 1:
            data = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
        elif width == 2:
            data = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
        elif width == 4:
            data = np.frombuffer(raw, "<i4").astype(np.float32) / 2147483648.0
        else:
            raise MediaError(f"unsupported WAV sample width {width} bytes in {path}")
        if channels > 1:
            data = data.reshape(-1, channels).mean(axis=1)
        return cls(data, rate)

    def save(self, directory: Path) -> None:
        self.save_wav(directory / "speech.wav")
        _write_json(directory / _META, {"type": "Speech", "sample_rate": self.sample_rate})

    @classmethod
    def load(cls, directory: Path) -> Speech:
        return cls.load_wav(directory / "speech.wav")


@dataclass(frozen=True)
class PhonemeEvent:
    """A phoneme (eSpeak/IPA-like symbol) with its time span; drives viseme lip sync."""

    phoneme: str
    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        _check_span(self.start_s, self.end_s, f"phoneme {self.phoneme!r}")


@dataclass(frozen=True)
class SegmentSpeech:
    """Synthesised (or converted) speech for one translated segment, in segment-local time."""

    id: int
    text: str
    speech: Speech
    phonemes: tuple[PhonemeEvent, ...] = ()


@dataclass(frozen=True)
class SpeechSegments:
    """TTS or VC output: one clip per translated segment."""

    segments: tuple[SegmentSpeech, ...]
    backend: str = ""
    voice: str = ""

    def save(self, directory: Path) -> None:
        meta = []
        for seg in self.segments:
            wav = f"segment_{seg.id:05d}.wav"
            seg.speech.save_wav(directory / wav)
            meta.append({"id": seg.id, "text": seg.text, "wav": wav,
                         "phonemes": [asdict(p) for p in seg.phonemes]})
        _write_json(directory / _META, {"type": "SpeechSegments", "backend": self.backend,
                                        "voice": self.voice, "segments": meta})

    @classmethod
    def load(cls, directory: Path) -> SpeechSegments:
        data = _read_json(directory / _META)
        segments = tuple(
            SegmentSpeech(
                id=m["id"], text=m["text"], speech=Speech.load_wav(directory / m["wav"]),
                phonemes=tuple(PhonemeEvent(**p) for p in m["phonemes"]),
            )
            for m in data["segments"]
        )
        return cls(segments, data.get("backend", ""), data.get("voice", ""))


@dataclass(frozen=True)
class SegmentTiming:
    """How one segment was fitted into the video's timeline (the audit trail for drift)."""

    id: int
    slot_start_s: float
    slot_end_s: float
    synth_duration_s: float
    stretch: float  # output duration / synthesised duration
    placed_start_s: float
    placed_end_s: float
    video_extension_s: float = 0.0


@dataclass(frozen=True)
class VideoExtension:
    """Freeze `duration_s` of extra video at source time `at_s` so long speech still fits."""

    at_s: float
    duration_s: float


@dataclass(frozen=True)
class DubTrack:
    """The final target-language audio track for the whole video (plus any video extensions).

    `speech.duration_s` equals the source duration plus the sum of extensions. Phoneme times
    are in output-track time.
    """

    speech: Speech
    timings: tuple[SegmentTiming, ...] = ()
    phonemes: tuple[PhonemeEvent, ...] = ()
    extensions: tuple[VideoExtension, ...] = ()
    source: str = ""  # "tts", "vc", "manual"
    # per source frame, the (x0, y0, x1, y1) face to lip-sync or None; () = the tracker decides
    face_plan: tuple[tuple[int, int, int, int] | None, ...] = ()

    @property
    def extension_s(self) -> float:
        return float(sum(e.duration_s for e in self.extensions))

    def save(self, directory: Path) -> None:
        self.speech.save_wav(directory / "speech.wav")
        _write_json(directory / _META, {
            "type": "DubTrack", "source": self.source,
            "timings": [asdict(t) for t in self.timings],
            "phonemes": [asdict(p) for p in self.phonemes],
            "extensions": [asdict(e) for e in self.extensions],
            "face_plan": [None if b is None else list(b) for b in self.face_plan],
        })

    @classmethod
    def load(cls, directory: Path) -> DubTrack:
        data = _read_json(directory / _META)
        return cls(
            speech=Speech.load_wav(directory / "speech.wav"),
            timings=tuple(SegmentTiming(**t) for t in data["timings"]),
            phonemes=tuple(PhonemeEvent(**p) for p in data["phonemes"]),
            extensions=tuple(VideoExtension(**e) for e in data["extensions"]),
            source=data.get("source", ""),
            face_plan=tuple(None if b is None else (int(b[0]), int(b[1]), int(b[2]), int(b[3]))
                            for b in data.get("face_plan", [])),
        )
