#!/usr/bin/env bash
# A < 4 minute check of lipgan on a lent GPU: a DDP + bf16 AMP SyncNet run under torchrun on
# synthetic data, then Wav2Lip generator forward timings (fp32, bf16) at batch 8/32/128.
# Needs: python with torch and numpy (tqdm optional); installs nothing. Prints JSON lines.
#   bash bench/gpu_check.sh          # on the GPU machine
#   bash bench/gpu_check.sh --cpu    # the same path, tiny, on a CPU (for tests)
set -euo pipefail
cd "$(dirname "$0")/.."
device=cuda steps=30 batch=64 width=1.0 batches=8,32,128 repeats=10
if [[ "${1:-}" == "--cpu" ]]; then
    device=cpu steps=2 batch=2 width=0.125 batches=1,2 repeats=1
fi
run_dir=$(mktemp -d)
trap 'rm -rf "$run_dir"' EXIT
python -c 'import torch; print({"torch": torch.__version__, "cuda": torch.cuda.is_available()})'
timeout 150 python -m torch.distributed.run --standalone --nproc_per_node 1 -m lipgan.train \
    syncnet --out "$run_dir/run" --set synthetic=true --set device="$device" \
    --set max_steps="$steps" --set batch_size="$batch" --set width="$width" \
    --set eval_every=0 --set log_every=1 --set tensorboard=false --set amp=true
python -c 'import sys, torch; from lipgan.checkpoint import load_syncnet; \
load_syncnet(sys.argv[1]); print({"checkpoint_loads": True})' "$run_dir/run/last.pt"
timeout 120 python bench/gpu_check.py --device "$device" --batches "$batches" \
    --width "$width" --repeats "$repeats" --train-log "$run_dir/run/log.csv"
