"""Benchmark (not a test): CycleGAN-VC training speed on this CPU, and speaker similarity of
TTS alone (`none`) vs `world` vs `cyclegan` on GRID clips, the target being each clip's own
speaker.

    nice python bench/bench_cyclegan.py [--clips bbaf2n s2/bbbs6a ...] [--extra 8]
    nice python bench/bench_cyclegan.py --clips s1/bbaf3s --set stay_weight=2 --out /tmp/t.json
    python bench/bench_cyclegan.py --speed cuda   # training speed only, small and paper size

A clip is a name under grid/ (`bbaf2n`) or speaker/name (`s2/bbbs6a`). For clips in a speaker
folder, the last HELD_OUT other clips of that speaker are never used for conversion: the
similarity to their mean embedding ("speaker" columns) measures the voice, not the one clip
(statistics of one 3 s clip fit that clip's own phones and channel). With `--extra N`, those
clips are also converted with `vc.extra_target_dir` = up to N of the remaining clips of the
speaker (never the clip itself). Prints a Markdown table (copied into docs/speech.md) and writes
bench/cyclegan_results.json (or `--out`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# hand-written Hindi for the top-level GRID commands ("bin blue at f two now" ...)
HINDI = {
    "bbaf2n": "नीले डिब्बे में एफ़ दो अभी रखो",
    "lbbc2a": "नीले के पास सी दो फिर से रखो",
    "lwbsza": "सफ़ेद के पास एस शून्य फिर से रखो",
    "sbwe5n": "नीले के साथ ई पाँच अभी लगाओ",
    "swiz3n": "सफ़ेद में ज़ेड तीन अभी लगाओ",
}
# word by word from the GRID file-name grammar for the others
_COMMAND = {"b": "डिब्बे में रखो", "l": "रखो", "p": "लगाओ", "s": "सेट करो"}
_COLOUR = {"b": "नीला", "g": "हरा", "r": "लाल", "w": "सफ़ेद"}
_PREPOSITION = {"a": "पर", "b": "के पास", "i": "में", "w": "के साथ"}
_LETTER = dict(zip("abcdefghijklmnopqrstuvxyz", (
    "ए", "बी", "सी", "डी", "ई", "एफ़", "जी", "एच", "आई", "जे", "के", "एल", "एम", "एन", "ओ", "पी",
    "क्यू", "आर", "एस", "टी", "यू", "वी", "एक्स", "वाई", "ज़ेड")))
_DIGIT = dict(zip("z123456789", ("शून्य", "एक", "दो", "तीन", "चार", "पाँच", "छह", "सात", "आठ",
                                 "नौ")))
_ADVERB = {"a": "फिर से", "n": "अभी", "p": "कृपया", "s": "जल्दी"}


def hindi_for(clip: str) -> str:
    name = clip.rsplit("/", 1)[-1].rsplit("_", 1)[-1]
    if name in HINDI:
        return HINDI[name]
    command, colour, preposition, letter, digit, adverb = name[:6]
    return " ".join((_COLOUR[colour], _PREPOSITION[preposition], _LETTER[letter],
                     _DIGIT[digit], _ADVERB[adverb], _COMMAND[command]))


def clip_path(grid: Path, clip: str) -> Path:
    matches = sorted(p for p in grid.glob(f"{clip}.*") if p.suffix in (".mpg", ".webm"))
    if not matches:
        raise SystemExit(f"no clip {clip} under {grid}")
    return matches[0]


HELD_OUT = 3


def speaker_clips(path: Path, grid: Path, count: int) -> tuple[list[Path], list[Path]]:
    """(up to `count` extra training clips, HELD_OUT evaluation clips) of the clip's speaker
    (its folder), never the clip itself; ([], []) for top-level clips."""
    if path.parent == grid:
        return [], []
    others = sorted(p for p in path.parent.iterdir()
                    if p.suffix in (".mpg", ".webm") and p.stem != path.stem)
    return others[:-HELD_OUT][:max(count, 0)], others[-HELD_OUT:]


def parse_overrides(pairs: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        out[key] = json.loads(value) if value[:1] in "-0123456789.tf[" else value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=["bbaf2n", "lbbc2a", "swiz3n"])
    parser.add_argument("--extra", type=int, default=0, help="also with N extra speaker clips")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="cyclegan config overrides, e.g. steps=200 stay_weight=2")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "cyclegan_results.json")
    parser.add_argument("--speed", metavar="DEVICE", help="only time training on DEVICE")
    args = parser.parse_args(argv)
    if args.speed:
        return speed(args.speed)
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(1)
    import numpy as np

    from eval.speech import (
        conversion_metrics,
        embedding_similarity,
        speaker_embedding,
        speaker_similarity,
    )
    from f2f.artifacts import TranslatedSegment, Translation
    from f2f.media import read_audio
    from stages.tts.espeak import EspeakTTS
    from stages.vc.cyclegan import CycleGANVC
    from stages.vc.world import WorldVC

    grid = args.shared / "grid"
    config = dataclasses.replace(CycleGANVC.Config(), **parse_overrides(args.set))

    def to_speaker(converted: Any, centroid: Any) -> float | None:
        if centroid is None:
            return None
        return round(embedding_similarity(speaker_embedding(converted.segments[0].speech),
                                          centroid), 4)

    def run_cyclegan(tts: Any, reference: Any, extra: list[Path],
                     centroid: Any) -> dict[str, object]:
        with tempfile.TemporaryDirectory() as tmp:
            extra_dir = Path(tmp) / "extra"
            extra_dir.mkdir()
            for p in extra:
                (extra_dir / p.name).symlink_to(p)
            vc = CycleGANVC(dataclasses.replace(
                config, extra_target_dir=str(extra_dir) if extra else ""))
            started = time.perf_counter()
            out = vc.convert(tts, reference, Path(tmp) / "cache", lambda f, m: None)
            seconds = time.perf_counter() - started
        m = {**vc.metrics, **conversion_metrics([tts.segments[0].speech],
                                                [out.segments[0].speech], reference)}
        return {"similarity": m.get("speaker_similarity_after"),
                "speaker_similarity": to_speaker(out, centroid), "mcd_db": m.get("mcd_db_after"),
                "f0_rmse_hz": m.get("f0_rmse_hz_after"), "steps": m.get("trained_steps"),
                "correction": m.get("final_correction"), "seconds": round(seconds, 1),
                "speaker_speech_s": m.get("reference_speech_s"),
                "fallback": m.get("fallback", "")}

    rows = []
    for clip in args.clips:
        path = clip_path(grid, clip)
        reference = read_audio(path)
        translation = Translation("en", "hi", (
            TranslatedSegment(0, "", hindi_for(clip), 0, 3.0),))
        tts = EspeakTTS().synthesize(translation, lambda f, m: None)
        none_sim = speaker_similarity(tts.segments[0].speech, reference)
        extra, held_out = speaker_clips(path, grid, args.extra)
        centroid = None
        if held_out:
            centroid = np.mean([speaker_embedding(read_audio(p)) for p in held_out], axis=0)
        started = time.perf_counter()
        world = WorldVC()
        world_out = world.convert(tts, reference, Path(), lambda f, m: None)
        world_s = time.perf_counter() - started
        world.metrics |= conversion_metrics([tts.segments[0].speech],
                                            [world_out.segments[0].speech], reference)
        row = {"clip": clip, "none": round(none_sim, 3),
               "world": world.metrics["speaker_similarity_after"],
               "none_speaker": to_speaker(tts, centroid),
               "world_speaker": to_speaker(world_out, centroid),
               "none_mcd_db": world.metrics["mcd_db_before"],
               "world_mcd_db": world.metrics["mcd_db_after"],
               "none_f0_rmse_hz": world.metrics["f0_rmse_hz_before"],
               "world_f0_rmse_hz": world.metrics["f0_rmse_hz_after"],
               "world_s": round(world_s, 2),
               "cyclegan": run_cyclegan(tts, reference, [], centroid)}
        if extra:
            row["cyclegan_extra"] = run_cyclegan(tts, reference, extra, centroid) | {
                "extra_clips": len(extra)}
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    print_table(rows)
    args.out.write_text(json.dumps({"config": dataclasses.asdict(config), "rows": rows},
                                   indent=1, ensure_ascii=False))
    return 0


def print_table(rows: list[dict]) -> None:
    def mean(values: list[float]) -> float:
        return round(sum(values) / max(len(values), 1), 3)

    print("\nSimilarity to the clip itself (the reference the converters see):\n")
    print("| clip | none | world | cyclegan | cyclegan + extra | MCD none/world/cyclegan (dB) "
          "| F0 RMSE none/world/cyclegan (Hz) | cyclegan steps, s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        c, e = r["cyclegan"], r.get("cyclegan_extra")
        extra = "-" if not e else f"{e['similarity']} ({e['extra_clips']} clips)"
        print(f"| {r['clip']} | {r['none']} | {r['world']} | {c['similarity']} | {extra} | "
              f"{r['none_mcd_db']} / {r['world_mcd_db']} / {c['mcd_db']} | "
              f"{r['none_f0_rmse_hz']} / {r['world_f0_rmse_hz']} / {c['f0_rmse_hz']} | "
              f"{c['steps']}, {c['seconds']} |")
    sims = {k: [r[k] for r in rows] for k in ("none", "world")}
    sims["cyclegan"] = [r["cyclegan"]["similarity"] for r in rows]
    print(f"\nmean none {mean(sims['none'])}, world {mean(sims['world'])}, cyclegan "
          f"{mean(sims['cyclegan'])}; cyclegan > none on "
          f"{sum(c > n for c, n in zip(sims['cyclegan'], sims['none']))}/{len(rows)}, "
          f"world > none on {sum(w > n for w, n in zip(sims['world'], sims['none']))}"
          f"/{len(rows)}, cyclegan >= world on "
          f"{sum(c >= w for c, w in zip(sims['cyclegan'], sims['world']))}/{len(rows)}")
    folder = [r for r in rows if r.get("none_speaker") is not None]
    if not folder:
        return
    print(f"\nSimilarity to the speaker ({HELD_OUT} held-out clips of the same speaker):\n")
    print("| clip | none | world | cyclegan | cyclegan + extra (clip itself) |")
    print("|---|---|---|---|---|")
    for r in folder:
        e = r.get("cyclegan_extra")
        extra = "-" if not e else f"{e['speaker_similarity']} ({e['similarity']})"
        print(f"| {r['clip']} | {r['none_speaker']} | {r['world_speaker']} | "
              f"{r['cyclegan']['speaker_similarity']} | {extra} |")
    line = (f"\nmean to speaker: none {mean([r['none_speaker'] for r in folder])}, world "
            f"{mean([r['world_speaker'] for r in folder])}, cyclegan "
            f"{mean([r['cyclegan']['speaker_similarity'] for r in folder])}")
    with_extra = [r for r in folder if r.get("cyclegan_extra")]
    if with_extra:
        extra_sims = [r["cyclegan_extra"]["speaker_similarity"] for r in with_extra]
        wins = sum(e > r["none_speaker"] for e, r in zip(extra_sims, with_extra))
        line += f", cyclegan + extra {mean(extra_sims)} (> none on {wins}/{len(with_extra)})"
    print(line)


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
