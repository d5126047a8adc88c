"""bench/bench_pipeline.py: the quick mode CI runs, and the growth arithmetic (no timed asserts)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "bench" / "bench_pipeline.py"


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_pipeline", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_linear_fit_and_growth_summary() -> None:
    bench = _bench_module()
    fit = bench.linear_fit([60, 300, 600], [30, 150, 300])
    assert fit["slope"] == pytest.approx(0.5) and fit["r2"] == pytest.approx(1.0)
    runs = [{"height": 360, "duration_s": d, "wall_s": d * 2, "peak_rss_mb": m}
            for d, m in ((60, 500.0), (600, 550.0))]
    growth = bench.growth(runs)["360p"]
    assert growth["memory_ratio_longest_to_shortest"] == pytest.approx(1.1)
    assert growth["wall_vs_length"]["slope"] == pytest.approx(2.0)


def test_quick_mode_runs_on_a_short_clip(grid_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--input", str(grid_clip),
                           "--threads", "1", "--set", "vc=none", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(out.read_text())
    run = data["runs"][0]
    assert "error" not in run and run["frames"] == 75 and run["peak_rss_mb"] > 0
    assert {"asr", "mt", "tts", "lipsync", "mux"} <= set(run["stages"])
    assert run["stages"]["lipsync"]["frames_per_s"] > 0 and run["rtf"] > 0
    assert data["machine"]["cpus"] >= 1
