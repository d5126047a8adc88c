"""Times the Wav2Lip generator forward (fp32 and bf16 autocast) and prints one JSON line.

    python bench/gpu_check.py [--device cuda|cpu] [--batches 8,32,128] [--width 1.0]

Needs only torch and numpy (plus this repository on the path).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lipgan.models.wav2lip import Wav2Lip, Wav2LipConfig  # noqa: E402


def time_forward(model: torch.nn.Module, batch: int, device: torch.device, bf16: bool,
                 repeats: int) -> float:
    """Frames per second of model(audio, faces) at `batch`, after one warm-up call."""
    audio = torch.randn(batch, 1, 80, 16, device=device)
    faces = torch.rand(batch, 6, 96, 96, device=device)
    context = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else torch.no_grad()
    with torch.inference_mode(), context:
        model(audio, faces)
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(repeats):
            model(audio, faces)
        if device.type == "cuda":
            torch.cuda.synchronize()
    return batch * repeats / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batches", default="8,32,128")
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--train-log", default="", help="log.csv of the torchrun smoke run")
    args = parser.parse_args()
    device = torch.device(args.device)
    model = Wav2Lip(Wav2LipConfig(width=args.width)).to(device).eval()
    result: dict[str, object] = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__, "width": args.width,
        "parameters": sum(p.numel() for p in model.parameters())}
    for batch in (int(b) for b in args.batches.split(",")):
        for bf16 in (False, True):
            key = f"wav2lip_fwd_{'bf16' if bf16 else 'fp32'}_b{batch}_frames_per_s"
            result[key] = round(time_forward(model, batch, device, bf16, args.repeats), 1)
    if device.type == "cuda":
        result["max_memory_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    if args.train_log and Path(args.train_log).is_file():
        rows = [line.split(",") for line in Path(args.train_log).read_text().splitlines()[1:]]
        losses = [float(r[3]) for r in rows if r[1] == "train" and r[2] == "loss"]
        seconds = [float(r[3]) for r in rows if r[1] == "time"]
        result["syncnet_ddp_amp_losses"] = [round(x, 4) for x in losses]
        result["syncnet_ddp_amp_seconds"] = round(seconds[-1], 2) if seconds else None
    print(json.dumps(result))


if __name__ == "__main__":
    main()
