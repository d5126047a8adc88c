"""Benchmark (not a test): one `speaker_embedding` of 10 s of speech in a fresh process, imports
included, with resemblyzer's torch code (what f2f.voiceprint did before) and with f2f's numpy
encoder (what it does now). Each run is its own interpreter, so start-up and imports count.

    OMP_NUM_THREADS=1 nice python bench/bench_voiceprint.py [--repeats 3]
        [--out bench/results/voiceprint.json]

Input: the shared 10 s talk (obama_weekly_address_10s.mp4) at 16 kHz (no resampling) and at
22.05 kHz (resampled by f2f.timing.resample first, as espeak dubs are: that cost depends on
f2f.timing's resampler, not on the encoder). Then, in this process with both encoders loaded,
diarization's `window_embeddings` (1.6 s windows every 0.25 s) on 60 s (the talk six times).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

_CHILD = {
    "resemblyzer (before)": (
        "import warnings\n"
        "from f2f.artifacts import Speech\n"
        "from f2f.timing import resample\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')\n"
        "    from resemblyzer import VoiceEncoder, preprocess_wav\n"
        "wav = resample(Speech(wav, rate), 16000).samples.astype(np.float32)\n"
        "embedding = VoiceEncoder('cpu', verbose=False).embed_utterance(\n"
        "    preprocess_wav(wav, 16000))\n"),
    "f2f numpy (after)": (
        "from f2f.artifacts import Speech\n"
        "from f2f.voiceprint import speaker_embedding\n"
        "embedding = speaker_embedding(Speech(wav, rate))\n"),
}


def _run(body: str, npy: Path, rate: int) -> dict[str, float | list[float]]:
    code = ("import sys, time\nstarted = time.perf_counter()\nimport numpy as np\n"
            f"wav, rate = np.load({str(npy)!r}), {rate}\n" + body
            + "print(time.perf_counter() - started, *embedding[:4])\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, text=True,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    inside, *head = map(float, done.stdout.split())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "in_script_s": round(inside, 3),
            "embedding_head": [round(v, 5) for v in head]}


def _windows_60s(talk: np.ndarray, repeats: int) -> dict[str, object]:
    """Warm compute of 60 s of windows: resemblyzer (torch, one thread) and f2f (numpy)."""
    import warnings

    import torch

    from f2f.artifacts import Speech
    from f2f.voiceprint import window_embeddings

    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import VoiceEncoder
    encoder = VoiceEncoder("cpu", verbose=False)
    wav = np.tile(talk, 6)
    seconds: dict[str, list[float]] = {"resemblyzer (before)": [], "f2f numpy (after)": []}
    for _ in range(repeats):
        started = time.perf_counter()
        _, expected, _ = encoder.embed_utterance(wav, return_partials=True, rate=4.0,
                                                 min_coverage=0.5)
        seconds["resemblyzer (before)"].append(round(time.perf_counter() - started, 3))
        started = time.perf_counter()
        got, _ = window_embeddings(Speech(wav, 16_000), 0.25)
        seconds["f2f numpy (after)"].append(round(time.perf_counter() - started, 3))
    return {"input_s": round(wav.size / 16_000, 2), "windows": len(got), "seconds": seconds,
            "median_s": {k: statistics.median(v) for k, v in seconds.items()},
            "max_abs_difference": float(np.abs(got - expected).max())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "voiceprint.json")
    args = parser.parse_args()
    from f2f.media import read_audio

    clip = args.shared / "data" / "talks" / "obama_weekly_address_10s.mp4"
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for rate in (16_000, 22_050):
            npy = Path(tmp) / f"talk_{rate}.npy"
            speech = read_audio(clip, rate)
            np.save(npy, np.asarray(speech.samples, np.float32))
            for name, body in _CHILD.items():
                runs = [_run(body, npy, rate) for _ in range(args.repeats)]
                row = {"encoder": name, "input_rate": rate,
                       "input_s": round(speech.samples.size / rate, 2),
                       "median_wall_s": statistics.median(r["wall_s"] for r in runs),
                       "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
                       "runs": runs}
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "runs"}), flush=True)
    windows = _windows_60s(np.asarray(read_audio(clip, 16_000).samples, np.float32),
                           args.repeats)
    print(json.dumps({k: v for k, v in windows.items() if k != "seconds"}), flush=True)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "load_average_1min": [round(load_before, 2),
                                                round(os.getloadavg()[0], 2)],
                          "note": "shared 2-core machine (the lead and helpers also run jobs): "
                                  "times pessimistic; load average before and after"},
              "command": "python " + " ".join(sys.argv),
              "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
              "what": "one speaker_embedding in a fresh interpreter: wall and CPU (user+sys) of "
                      "the whole process, imports and weight loading included",
              "rows": rows, "window_embeddings_60s": windows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(result, indent=1))
    tmp_out.replace(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
