"""The judge-free leakage measure of `bench/bench_leak.py`: does an output's lower face move with
the source's own mouth? It must say so for a video that still shows the source's mouth, and must
not for one whose mouth moves on its own, even though GRID sentences share a slow envelope
(silence, speech, silence) that makes any two clips' openings correlate.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_leak import GRID_X, GRID_Y, leak_row, regions  # noqa: E402

FRAMES = 75  # a 3 s GRID clip at 25 frames/s


def _face(openings: np.ndarray) -> np.ndarray:
    """(T, 68, 2) landmarks of a frontal face (inter-ocular distance 60 px) whose inner lips
    part by `openings` (inter-ocular distances) and whose chin drops with them."""
    base = np.zeros((68, 2))
    base[0:17] = np.stack([np.linspace(-70, 70, 17), 60 + 50 * np.sin(np.linspace(0, np.pi, 17))],
                          axis=1)
    base[27:36] = np.stack([np.zeros(9), np.linspace(10, 50, 9)], axis=1)
    base[36:42] = [(-30 + dx, 0) for dx in (-10, -5, 0, 5, 10, 0)]
    base[42:48] = [(30 + dx, 0) for dx in (-10, -5, 0, 5, 10, 0)]
    base[48:60] = np.stack([np.linspace(-25, 25, 12), np.full(12, 75.0)], axis=1)
    base[60:68] = np.stack([np.linspace(-15, 15, 8), np.full(8, 75.0)], axis=1)
    base += [200.0, 150.0]
    marks = np.repeat(base[None], len(openings), axis=0)
    drop = 60.0 * openings[:, None]
    marks[:, [65, 66, 67], 1] += drop
    marks[:, 55:60, 1] += drop
    marks[:, 5:12, 1] += 0.8 * drop
    return marks


def _sentence(rng: np.random.Generator) -> np.ndarray:
    """A GRID-like opening: closed, ~2 s of syllables at a random rate and phase, closed."""
    t = np.arange(FRAMES)
    envelope = ((t > 12) & (t < 62)).astype(float)
    rate, phase = rng.uniform(0.8, 1.4), rng.uniform(0, 2 * np.pi)
    return 0.02 + envelope * 0.12 * np.abs(np.sin(rate * t / 2.0 + phase))


def _features(openings: np.ndarray) -> dict[str, np.ndarray]:
    from bench_leak import features

    return features(_face(openings))


def test_the_measure_finds_the_source_mouth_and_only_it():
    rng = np.random.default_rng(3)
    greys = np.zeros((FRAMES, len(GRID_Y), len(GRID_X)), np.float32)
    masks = regions(_face(np.full(FRAMES, 0.02)))
    found, independent = [], []
    for _ in range(8):
        source, driver = _sentence(rng), _sentence(rng)
        source_f, driver_f = _features(source), _features(driver)
        # a video that still shows the source's mouth (half of it, plus the dub's)
        leaky, _ = leak_row(_face(0.5 * source + 0.5 * driver), greys, source_f, driver_f, masks,
                            greys)
        # a video whose mouth follows only the dub
        clean, _ = leak_row(_face(driver), greys, source_f, driver_f, masks, greys)
        found.append(leaky["leak_opening"])
        independent.append(clean["leak_opening"])
        assert clean["follow_opening"] > 0.99 and clean["follow_jaw"] > 0.99
    assert np.mean(found) > 0.4, found
    assert abs(np.mean(independent)) < 0.15, independent
