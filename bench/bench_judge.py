"""How good the shipped SyncNet judge is, on GRID speakers it never saw (s2, s29).

    python bench/bench_judge.py [--data DIR] [--out bench/results/judge_grid.json]

Preprocesses the validation speakers' clips (`lipgan.preprocess`: the crops the judge was trained
on; resumable in --data) and runs `eval.judge.evaluate`: balanced in/off-sync accuracy, window
offset accuracy, the share of clips whose LSE offset is within 1 frame, mean LSE-D/LSE-C. Also
scores the training speakers (s1, s4) with `--train` to show the gap.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GRID = REPO.parent / "shared" / "data" / "grid"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=Path, default=GRID)
    parser.add_argument("--data", type=Path, help="preprocessed clips (kept; default: temp)")
    parser.add_argument("--expert", help="another SyncNet checkpoint (default: the judge)")
    parser.add_argument("--train", action="store_true", help="also score the train speakers")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" /
                        "judge_grid.json")
    args = parser.parse_args(argv)

    from eval.judge import JUDGE_SHA256, TRAIN_SPEAKERS, VAL_SPEAKERS, evaluate, load_expert
    from lipgan.preprocess import PreprocessConfig, preprocess

    started = time.perf_counter()
    expert = load_expert(args.expert)
    speakers = VAL_SPEAKERS + (TRAIN_SPEAKERS if args.train else ())
    with tempfile.TemporaryDirectory(prefix="f2f-bench-judge-") as tmp:
        data = args.data or Path(tmp)
        preprocess([args.grid / s for s in speakers], data,
                   PreprocessConfig(val_speakers=VAL_SPEAKERS))
        scores = {"val": evaluate(expert, data, "val")}
        if args.train:
            scores["train"] = evaluate(expert, data, "train")
    result = {"what": "the shipped SyncNet judge on GRID speakers it never saw (val) and, "
                      "with --train, on its training speakers",
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "machine": f"{platform.node()} {platform.machine()} (shared CPU)",
              "command": "python bench/bench_judge.py " + " ".join(argv or sys.argv[1:]),
              "expert": expert.name, "judge_sha256": JUDGE_SHA256,
              "val_speakers": list(VAL_SPEAKERS), "train_speakers": list(TRAIN_SPEAKERS),
              "scores": scores, "wall_s": round(time.perf_counter() - started, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_name(f".{args.out.name}.tmp")
    tmp_out.write_text(json.dumps(result, indent=1))
    tmp_out.replace(args.out)
    print(json.dumps({k: {m: v for m, v in s.items() if m != "per_clip"}
                      for k, s in scores.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
