"""Benchmark (not a test): CycleGAN-VC training speed on this CPU, and speaker similarity of
TTS alone (`none`) vs `world` vs `cyclegan` on GRID clips, the target being each clip's own
speaker.

    nice python bench/bench_cyclegan.py [--clips bbaf2n lbbc2a swiz3n] [--steps 300]
    python bench/bench_cyclegan.py --speed cuda   # training speed only, small and paper size

Prints a Markdown table (copied into docs/speech.md) and writes bench/cyclegan_results.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# hand-written Hindi for each GRID command ("bin blue at f two now" ...)
HINDI = {
    "bbaf2n": "नीले डिब्बे में एफ़ दो अभी रखो",
    "lbbc2a": "नीले के पास सी दो फिर से रखो",
    "lwbsza": "सफ़ेद के पास एस शून्य फिर से रखो",
    "sbwe5n": "नीले के साथ ई पाँच अभी लगाओ",
    "swiz3n": "सफ़ेद में ज़ेड तीन अभी लगाओ",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=["bbaf2n", "lbbc2a", "swiz3n"])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--speed", metavar="DEVICE", help="only time training on DEVICE")
    args = parser.parse_args(argv)
    if args.speed:
        return speed(args.speed)
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(1)
    from eval.speech import speaker_similarity
    from f2f.artifacts import TranslatedSegment, Translation
    from f2f.media import read_audio
    from stages.tts.espeak import EspeakTTS
    from stages.vc.cyclegan import CycleGANVC
    from stages.vc.world import WorldVC

    rows = []
    for clip in args.clips:
        reference = read_audio(args.shared / "grid" / f"{clip}.mpg")
        translation = Translation("en", "hi", (TranslatedSegment(0, "", HINDI[clip], 0, 3.0),))
        tts = EspeakTTS().synthesize(translation, lambda f, m: None)
        none_sim = speaker_similarity(tts.segments[0].speech, reference)
        started = time.perf_counter()
        world = WorldVC()
        world.convert(tts, reference, Path(), lambda f, m: None)
        world_s = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as cache:
            cyclegan = CycleGANVC(CycleGANVC.Config(steps=args.steps))
            started = time.perf_counter()
            cyclegan.convert(tts, reference, Path(cache), lambda f, m: None)
            cyclegan_s = time.perf_counter() - started
        row = {"clip": clip, "none": round(none_sim, 3),
               "world": world.metrics["speaker_similarity_after"],
               "cyclegan": cyclegan.metrics.get("speaker_similarity_after"),
               "world_mcd_db": world.metrics["mcd_db_after"],
               "cyclegan_mcd_db": cyclegan.metrics.get("mcd_db_after"),
               "none_mcd_db": world.metrics["mcd_db_before"],
               "none_f0_rmse_hz": world.metrics["f0_rmse_hz_before"],
               "world_f0_rmse_hz": world.metrics["f0_rmse_hz_after"],
               "cyclegan_f0_rmse_hz": cyclegan.metrics.get("f0_rmse_hz_after"),
               "world_s": round(world_s, 2), "cyclegan_s": round(cyclegan_s, 1),
               "steps_per_s": round(args.steps / cyclegan_s, 2),
               "fallback": cyclegan.metrics.get("fallback", "")}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| clip | none | world | cyclegan | MCD none/world/cyclegan (dB) "
          "| F0 RMSE none/world/cyclegan (Hz) | world s | cyclegan s (steps/s) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['clip']} | {r['none']} | {r['world']} | {r['cyclegan']} | "
              f"{r['none_mcd_db']} / {r['world_mcd_db']} / {r['cyclegan_mcd_db']} | "
              f"{r['none_f0_rmse_hz']} / {r['world_f0_rmse_hz']} / {r['cyclegan_f0_rmse_hz']} | "
              f"{r['world_s']} | {r['cyclegan_s']} ({r['steps_per_s']}) |")
    (REPO / "bench" / "cyclegan_results.json").write_text(json.dumps(rows, indent=1))
    return 0


def speed(device: str, steps: int = 40) -> int:
    """Training steps per second of the small (default) and the paper-sized config on synthetic
    mel-cepstra (no audio needed): the speed that matters, independent of the data."""
    import numpy as np
    import torch

    from stages.vc._cyclegan_model import CycleGAN, CycleGANConfig, train

    if device == "cpu":
        torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    pools = rng.normal(size=(2000, 24)), rng.normal(size=(2000, 24))
    sizes = {"small (default)": CycleGANConfig(),
             "paper (128 ch, 6 blocks, 128 frames, batch 1)": CycleGANConfig(
                 channels=128, residual_blocks=6, disc_channels=64, segment_frames=128,
                 batch_size=1),
             "large batch (128 ch, 6 blocks, 128 frames, batch 16)": CycleGANConfig(
                 channels=128, residual_blocks=6, disc_channels=64, segment_frames=128,
                 batch_size=16)}
    for label, config in sizes.items():
        model = CycleGAN.create(config, device)
        train(model, *pools, 3)  # warm-up (cuDNN autotuning, allocator)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        train(model, *pools, 3 + steps)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        rate = steps / (time.perf_counter() - started)
        print(f"{device} {label}: {rate:.2f} steps/s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
