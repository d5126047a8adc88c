"""The cross-fade between two mouth references moves the lips across, never shows two pairs.

Two references warped to the same target still disagree by their landmarks' error: their lips
lie a few pixels apart. An alpha blend then shows both lip lines for the whole fade (the double
upper lip seen at 4.04-4.20 s of the demo, docs/viseme_fade.png); the morph shows one line, on
its way from the old position to the new.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stages.lipsync._mouth_fade import morph_fade


def _lower_face(lip_y: float, seed: int) -> np.ndarray:
    """(90, 140, 3) RGB skin with fine texture and one dark, curved lip line at `lip_y`."""
    import cv2

    rng = np.random.default_rng(seed)
    height, width = 90, 140
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    texture = cv2.GaussianBlur(rng.normal(0, 12, (height, width)).astype(np.float32),
                               (0, 0), 1.5)
    curve = lip_y + 0.002 * (xs - 70) ** 2
    grey = 170 + texture - 90 * np.exp(-((ys - curve) / 2.5) ** 2) * (np.abs(xs - 70) < 50)
    return np.clip(np.stack([grey + 20, grey - 10, grey - 5], -1), 0, 255).astype(np.uint8)


def _lip_lines(image: np.ndarray) -> list[int]:
    """Rows where the mouth's centre columns are a dark local minimum: one per lip line."""
    import cv2

    profile = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, 55:85].astype(np.float64).mean(axis=1)
    floor = np.median(profile) - 25
    return [y for y in range(1, profile.size - 1) if profile[y] < floor
            and profile[y] <= profile[y - 1] and profile[y] <= profile[y + 1]]


def test_halfway_through_the_fade_there_is_one_lip_line_between_the_two():
    old, new = _lower_face(38, seed=1), _lower_face(47, seed=2)
    assert _lip_lines(old) == [38] and _lip_lines(new) == [47]
    lines = _lip_lines(morph_fade(new, old, 0.5))
    assert len(lines) == 1, lines
    assert 40 <= lines[0] <= 45, lines


def test_the_lip_line_moves_steadily_from_the_old_place_to_the_new():
    old, new = _lower_face(38, seed=1), _lower_face(47, seed=2)
    places = []
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        lines = _lip_lines(morph_fade(new, old, t))
        assert len(lines) == 1, (t, lines)
        places.append(lines[0])
    assert places[0] <= 39 and places[-1] >= 46, places
    assert all(a <= b for a, b in zip(places, places[1:], strict=False)), places


def test_fading_between_identical_references_changes_nothing():
    same = _lower_face(40, seed=3)
    out = morph_fade(same, same.copy(), 0.4)
    assert np.abs(out.astype(int) - same.astype(int)).max() <= 2


def test_small_regions_fade_without_crashing_the_process():
    """OpenCV's DIS flow raises under 12 px a side and kills the process at 12-15 px; a face
    clipped by the frame edge during a fade gives such regions. Run in a child process: a crash
    there is a failure here, not the end of the test run."""
    import subprocess
    import sys

    code = ("import numpy as np\n"
            "from stages.lipsync._mouth_fade import morph_fade\n"
            "rng = np.random.default_rng(0)\n"
            "for h, w in [(8, 8), (11, 40), (12, 30), (15, 15), (16, 20), (23, 200),\n"
            "             (30, 200), (31, 31), (32, 200)]:\n"
            "    a = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)\n"
            "    assert morph_fade(a, np.roll(a, 1, 1), 0.5).shape == (h, w, 3)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert result.returncode == 0, (result.returncode, result.stderr[-500:])
