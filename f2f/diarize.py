"""Who spoke when: offline speaker diarization of the input's audio.

Speaker embeddings (`f2f.voiceprint`) of 1.6 s windows every `step_s` over the speech parts,
agglomerative clustering (average linkage, cosine distance) cut at a distance threshold, so the
number of speakers is found, not given; each 10 ms speech frame takes the label of the nearest
window, and with ASR word times every word takes its frames' majority label, so turns begin
and end on word boundaries. `pyannote.audio` is used instead when asked and its pipeline loads.
Output: `Diarization` (turns), saved as JSON and written as RTTM.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from f2f.artifacts import Speech, Word
from f2f.errors import MissingDependencyError, WeightsNotFoundError

log = logging.getLogger(__name__)

FRAME_S = 0.01
SPEECH_DB = -30.0  # 10 ms frames this far below the loud ones (95th percentile) are silence
MIN_TURN_S = 0.5  # shorter label runs (between words or frames) join their neighbours


@dataclass(frozen=True)
class Turn:
    speaker: str  # "S1", "S2", ... in order of first appearance
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Diarization:
    turns: tuple[Turn, ...]
    backend: str = "resemblyzer"

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.speaker for t in self.turns))

    def speaker_of(self, start_s: float, end_s: float) -> str | None:
        """The speaker who talks most within [start_s, end_s], None if nobody does."""
        overlap: dict[str, float] = {}
        for t in self.turns:
            seconds = min(end_s, t.end_s) - max(start_s, t.start_s)
            if seconds > 0:
                overlap[t.speaker] = overlap.get(t.speaker, 0.0) + seconds
        return max(overlap, key=overlap.__getitem__) if overlap else None

    def to_rttm(self, uri: str) -> str:
        """NIST RTTM lines: SPEAKER uri 1 start duration <NA> <NA> speaker <NA> <NA>."""
        return "".join(f"SPEAKER {uri} 1 {t.start_s:.3f} {t.end_s - t.start_s:.3f} <NA> <NA> "
                       f"{t.speaker} <NA> <NA>\n" for t in self.turns)

    def to_dict(self) -> dict[str, object]:
        return {"backend": self.backend,
                "turns": [[t.speaker, round(t.start_s, 3), round(t.end_s, 3)]
                          for t in self.turns]}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: Path) -> Diarization:
        data = json.loads(path.read_text())
        return cls(tuple(Turn(str(s), float(a), float(b)) for s, a, b in data["turns"]),
                   str(data.get("backend", "")))


def speech_frames(speech: Speech) -> np.ndarray:
    """(N,) bool: 10 ms frames loud enough to be speech."""
    frame = max(int(FRAME_S * speech.sample_rate), 1)
    n = speech.samples.size // frame
    x = np.asarray(speech.samples[: n * frame], np.float64).reshape(n, frame)
    db = 10 * np.log10((x ** 2).mean(axis=1) + 1e-12)
    return db > (np.percentile(db, 95) if db.size else -120.0) + SPEECH_DB


def cluster(embeddings: np.ndarray, threshold: float, min_size: int = 2) -> np.ndarray:
    """(N,) labels 0.. in order of first appearance; clusters under `min_size` windows join the
    nearest large one (a stray window is noise, not a speaker)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if embeddings.shape[0] < 2:
        return np.zeros(embeddings.shape[0], int)
    labels = fcluster(linkage(embeddings, "average", metric="cosine"), threshold, "distance")
    sizes = {c: int((labels == c).sum()) for c in set(labels.tolist())}
    large = [c for c, n in sizes.items() if n >= min_size] or list(sizes)
    centroids = {c: embeddings[labels == c].mean(axis=0) for c in large}
    for c, n in sizes.items():
        if c not in centroids:
            mine = embeddings[labels == c].mean(axis=0)
            labels[labels == c] = max(centroids, key=lambda k: float(mine @ centroids[k]))
    labels = _merge_similar(embeddings, labels)
    order = {c: i for i, c in enumerate(dict.fromkeys(labels.tolist()))}
    return np.array([order[c] for c in labels.tolist()])


SAME_SPEAKER = 0.8  # cluster centroids this similar are one voice (one talk split by topic)
MINOR_SHARE, MINOR_SAME = 0.15, 0.55  # a cluster with < 15 % of windows must be this far


def _merge_similar(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Joins the most similar pair of clusters while they look like one speaker: centroids
    closer than SAME_SPEAKER, or a minor cluster (noise between clips, a cough) not clearly
    another voice. Set on GRID joins and the demo talk (one speaker each) vs GRID pairs."""
    labels = labels.copy()
    while len(set(labels.tolist())) > 1:
        ids = sorted(set(labels.tolist()))
        centroids = np.stack([embeddings[labels == c].mean(axis=0) for c in ids])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        share = np.array([(labels == c).mean() for c in ids])
        similarity = centroids @ centroids.T
        np.fill_diagonal(similarity, -1.0)
        i, j = np.unravel_index(int(similarity.argmax()), similarity.shape)
        minor = min(share[i], share[j]) < MINOR_SHARE
        if similarity[i, j] < SAME_SPEAKER and not (minor and similarity[i, j] > MINOR_SAME):
            break
        labels[labels == ids[j]] = ids[i]
    return labels


def _runs(labels: Sequence[int], starts: Sequence[float], ends: Sequence[float]
          ) -> list[Turn]:
    """Consecutive items with one label -> turns; runs shorter than MIN_TURN_S take the label
    of the longer neighbour."""
    items = [[int(label), float(a), float(b)] for label, a, b in zip(labels, starts, ends,
                                                                      strict=True)]
    changed = True
    while changed and len({i[0] for i in items}) > 1:
        changed = False
        runs = _group(items)
        for index, (label, first, last) in enumerate(runs):
            if items[last][2] - items[first][1] >= MIN_TURN_S:
                continue
            before = runs[index - 1] if index > 0 else None
            after = runs[index + 1] if index + 1 < len(runs) else None
            if before is None and after is None:
                break

            def length(run: tuple[int, int, int] | None) -> float:
                return -1.0 if run is None else items[run[2]][2] - items[run[1]][1]
            nearer = before if length(before) >= length(after) else after
            assert nearer is not None  # the loop stopped above when neither run exists
            new = nearer[0]
            for i in range(first, last + 1):
                items[i][0] = new
            changed = True
            break
    return [Turn(f"S{label + 1}", items[first][1], items[last][2])
            for label, first, last in _group(items)]


def _group(items: list[list]) -> list[tuple[int, int, int]]:
    runs: list[tuple[int, int, int]] = []
    for index, item in enumerate(items):
        if runs and runs[-1][0] == item[0]:
            runs[-1] = (runs[-1][0], runs[-1][1], index)
        else:
            runs.append((item[0], index, index))
    return runs


def diarize(speech: Speech, words: Sequence[Word] = (), step_s: float = 0.25,
            threshold: float = 0.35, backend: str = "resemblyzer") -> Diarization:
    """Turns of each speaker in `speech`; `words` (ASR times) refine the boundaries."""
    if backend == "pyannote":
        return _pyannote(speech)
    from f2f.voiceprint import window_embeddings

    frames = speech_frames(speech)
    if not frames.any():
        return Diarization(())
    embeddings, centres = window_embeddings(speech, step_s)
    window_frames = int(0.8 / FRAME_S)  # half a window
    centre_frames = np.clip((centres / FRAME_S).astype(int), 0, frames.size - 1)
    # clustered: windows that are mostly speech (pause-heavy windows embed the room, not the
    # voice); every speech frame is still labelled from its nearest window
    fraction = np.array([frames[max(c - window_frames, 0):c + window_frames].mean()
                         for c in centre_frames])
    voiced = fraction > 0.7
    if voiced.sum() < 4:
        voiced = fraction > 0.3 if (fraction > 0.3).sum() >= 1 else np.ones_like(voiced)
    # a cluster shorter than a second of windows is a turn boundary's mixture, not a speaker
    labels = cluster(embeddings[voiced], threshold, min_size=max(2, int(round(1.0 / step_s))))
    kept = centres[voiced]  # frames take the label of the nearest clustered window
    speech_index = np.flatnonzero(frames)
    times = (speech_index + 0.5) * FRAME_S
    frame_labels = labels[np.abs(times[:, None] - kept[None, :]).argmin(axis=1)]
    if words:
        word_labels = []
        for word in words:
            inside = (times >= word.start_s) & (times < word.end_s)
            votes = frame_labels[inside] if inside.any() else frame_labels[
                [int(np.abs(times - (word.start_s + word.end_s) / 2).argmin())]]
            word_labels.append(int(np.bincount(votes).argmax()))
        turns = _runs(word_labels, [w.start_s for w in words], [w.end_s for w in words])
    else:  # frame runs, split at pauses longer than a frame gap of 0.3 s
        turns = _frame_turns(frame_labels, speech_index)
    names: dict[str, str] = {}  # S1, S2, ... in order of first appearance
    turns = [Turn(names.setdefault(t.speaker, f"S{len(names) + 1}"), t.start_s, t.end_s)
             for t in turns]
    log.info("diarization: %d speakers, %d turns", len(names), len(turns))
    return Diarization(tuple(turns))


def _frame_turns(labels: np.ndarray, index: np.ndarray) -> list[Turn]:
    pieces: list[tuple[int, float, float]] = []
    for label, i in zip(labels.tolist(), index.tolist(), strict=True):
        start, end = i * FRAME_S, (i + 1) * FRAME_S
        if pieces and pieces[-1][0] == label and start - pieces[-1][2] < 0.3:
            pieces[-1] = (label, pieces[-1][1], end)
        else:
            pieces.append((label, start, end))
    turns = _runs([p[0] for p in pieces], [p[1] for p in pieces], [p[2] for p in pieces])
    return turns


def _pyannote(speech: Speech) -> Diarization:
    """pyannote.audio's pretrained pipeline, when installed and its weights are cached."""
    try:
        import torch
        from pyannote.audio import Pipeline
    except ImportError as exc:
        raise MissingDependencyError(f"diarization backend 'pyannote' needs pyannote.audio "
                                     f"({exc}): pip install pyannote.audio") from exc
    name = "pyannote/speaker-diarization-3.1"
    try:
        pipeline = Pipeline.from_pretrained(name)
    except Exception as exc:  # noqa: BLE001 - hub errors have many types
        raise WeightsNotFoundError(
            f"pyannote pipeline {name} not found in the Hugging Face cache ({exc}); download "
            f"it once online (accepting its licence) or use diarization backend 'resemblyzer'"
        ) from exc
    from f2f.timing import resample

    wave = torch.from_numpy(np.asarray(resample(speech, 16_000).samples, np.float32))[None]
    result = pipeline({"waveform": wave, "sample_rate": 16_000})
    names: dict[str, str] = {}
    turns = []
    for segment, _, label in result.itertracks(yield_label=True):
        names.setdefault(label, f"S{len(names) + 1}")
        turns.append(Turn(names[label], float(segment.start), float(segment.end)))
    return Diarization(tuple(turns), backend="pyannote")
