"""Speech quality metrics for voice conversion: pure functions on arrays and `Speech`.

- `mcd`: mel-cepstral distortion in dB between two mel-cepstrum sequences (time-aligned by DTW
  when lengths differ), excluding the energy coefficient c0.
- `global_mcd`: MCD between two voices' mean mel-cepstra (non-parallel: the converted Hindi and
  the speaker's English never say the same thing, so only their statistics are comparable).
- `f0_rmse`: RMSE in Hz over frames voiced in both aligned contours.
- `f0_distribution_rmse`: RMSE in Hz between the deciles of two voiced F0 distributions.
- `speaker_similarity`: cosine similarity of resemblyzer speaker embeddings (1 = same voice).
- `conversion_metrics`: all of these for a dub before/after voice conversion.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from f2f.artifacts import Speech

_MCD_SCALE = 10.0 / np.log(10.0) * np.sqrt(2.0)


def _frame_mcd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _MCD_SCALE * np.sqrt(((a[..., 1:] - b[..., 1:]) ** 2).sum(axis=-1))


def dtw_path(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs of the cheapest monotonic alignment of (Ta, D) and (Tb, D) by Euclidean cost
    on c1.. (librosa's DTW, which ships with resemblyzer)."""
    from librosa.sequence import dtw

    _, path = dtw(X=np.ascontiguousarray(a[:, 1:].T), Y=np.ascontiguousarray(b[:, 1:].T),
                  metric="euclidean")
    path = path[::-1]
    return path[:, 0], path[:, 1]


def mcd(reference: np.ndarray, test: np.ndarray, align: bool = True) -> float:
    """Mean MCD (dB) of two (T, D) mel-cepstra; DTW-aligned unless `align` is False and the
    lengths agree."""
    reference, test = np.asarray(reference, float), np.asarray(test, float)
    if reference.ndim != 2 or test.ndim != 2 or reference.shape[1] != test.shape[1]:
        raise ValueError(f"mcd needs two (T, D) arrays, got {reference.shape} and {test.shape}")
    if align and reference.shape[0] != test.shape[0]:
        ia, ib = dtw_path(reference, test)
        reference, test = reference[ia], test[ib]
    elif reference.shape[0] != test.shape[0]:
        raise ValueError("mcd without alignment needs equal lengths")
    return float(_frame_mcd(reference, test).mean())


def global_mcd(reference: np.ndarray, test: np.ndarray) -> float:
    """MCD (dB) between the mean mel-cepstra of two (T, D) sequences of different speech."""
    return float(_frame_mcd(np.asarray(reference, float).mean(axis=0),
                            np.asarray(test, float).mean(axis=0)))


def f0_rmse(reference_hz: np.ndarray, test_hz: np.ndarray) -> float:
    """RMSE (Hz) over frames voiced (> 0) in both equal-length contours; nan if none are."""
    reference_hz, test_hz = np.asarray(reference_hz, float), np.asarray(test_hz, float)
    if reference_hz.shape != test_hz.shape:
        raise ValueError("f0_rmse needs aligned contours of equal length")
    both = (reference_hz > 0) & (test_hz > 0)
    if not both.any():
        return float("nan")
    return float(np.sqrt(np.mean((reference_hz[both] - test_hz[both]) ** 2)))


def f0_distribution_rmse(reference_hz: np.ndarray, test_hz: np.ndarray) -> float:
    """RMSE (Hz) between the 10th..90th percentiles of two voiced F0 distributions."""
    a = np.asarray(reference_hz, float)
    b = np.asarray(test_hz, float)
    a, b = a[a > 0], b[b > 0]
    if a.size == 0 or b.size == 0:
        return float("nan")
    q = np.arange(10, 91, 10)
    return float(np.sqrt(np.mean((np.percentile(a, q) - np.percentile(b, q)) ** 2)))


def speaker_embedding(speech: Speech) -> np.ndarray:
    """resemblyzer's 256-d unit-norm utterance embedding (one encoder: `f2f.voiceprint`)."""
    from f2f.voiceprint import speaker_embedding as embed

    return embed(speech)


def embedding_similarity(ea: np.ndarray, eb: np.ndarray) -> float:
    """Cosine similarity of two speaker embeddings."""
    from f2f.voiceprint import cosine

    return cosine(ea, eb)


def speaker_similarity(a: Speech, b: Speech) -> float:
    """Cosine similarity of the speaker embeddings of two clips (about 0.75+ = same speaker)."""
    return embedding_similarity(speaker_embedding(a), speaker_embedding(b))


METRIC_MAX_S = 60.0  # seconds of speech the before/after figures are measured on
METRIC_MCEP_DIMS = 24  # MCD is always measured on 24-d mel-cepstra, whatever a backend maps


def _joined(clips: Sequence[Speech], rate: int) -> Speech:
    """The clips end to end, at most METRIC_MAX_S (WORLD features of a whole long dub would take
    gigabytes: a 513-bin envelope every 5 ms)."""
    from f2f.timing import resample

    parts, total = [], 0
    for clip in clips:
        if clip.samples.size and total < METRIC_MAX_S * rate:
            parts.append(resample(clip, rate).samples)
            total += parts[-1].size
    if not parts:
        return Speech(np.zeros(rate, np.float32), rate)
    return Speech(np.concatenate(parts)[: int(METRIC_MAX_S * rate)], rate)


def conversion_metrics(before: Sequence[Speech], after: Sequence[Speech],
                       reference: Speech) -> dict[str, float]:
    """Speaker similarity, global MCD and F0 distribution RMSE of the dub before and after voice
    conversion against the speaker's `reference` audio (for benches and eval; on audio the
    conversion may have been fitted to, unlike the `knn` gate's held-out figures)."""
    from stages.vc import world_features as wf

    ref = wf.analyze(reference, METRIC_MCEP_DIMS)
    reference_mcep = ref.mcep[ref.speech_frames]
    reference_embedding = speaker_embedding(reference)
    metrics: dict[str, float] = {}
    for label, clips in (("before", before), ("after", after)):
        speech = _joined(clips, wf.RATE)
        features = wf.analyze(speech, METRIC_MCEP_DIMS)
        similarity = embedding_similarity(speaker_embedding(speech), reference_embedding)
        metrics[f"speaker_similarity_{label}"] = round(similarity, 4)
        metrics[f"mcd_db_{label}"] = round(
            global_mcd(reference_mcep, features.mcep[features.speech_frames]), 3)
        metrics[f"f0_rmse_hz_{label}"] = round(f0_distribution_rmse(ref.f0, features.f0), 2)
    return metrics


def diarization_error_rate(reference: Sequence[tuple[str, float, float]],
                           hypothesis: Sequence[tuple[str, float, float]],
                           frame_s: float = 0.01) -> float:
    """DER on `frame_s` frames, no collar, one speaker per frame: (missed + false alarm +
    confusion) / reference speech, with hypothesis speakers mapped one-to-one onto reference
    speakers to minimise the confusion (Hungarian). Turns are (speaker, start_s, end_s)."""
    from scipy.optimize import linear_sum_assignment

    end = max([t[2] for t in (*reference, *hypothesis)], default=0.0)
    n = int(np.ceil(end / frame_s)) + 1

    def labels(turns: Sequence[tuple[str, float, float]]) -> tuple[np.ndarray, list[str]]:
        names = list(dict.fromkeys(t[0] for t in turns))
        out = np.full(n, -1)
        for name, start, stop in turns:
            out[int(round(start / frame_s)):int(round(stop / frame_s))] = names.index(name)
        return out, names

    ref, ref_names = labels(reference)
    hyp, hyp_names = labels(hypothesis)
    spoken = ref >= 0
    if not spoken.any():
        return float("nan")
    both = spoken & (hyp >= 0)
    counts = np.zeros((len(ref_names), max(len(hyp_names), 1)))
    np.add.at(counts, (ref[both], hyp[both]), 1)
    rows, cols = linear_sum_assignment(-counts)
    correct = counts[rows, cols].sum()
    missed = (spoken & (hyp < 0)).sum()
    false_alarm = (~spoken & (hyp >= 0)).sum()
    confusion = both.sum() - correct
    return float((missed + false_alarm + confusion) / spoken.sum())
