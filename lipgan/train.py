"""One training loop for the three phases: the SyncNet expert, LipGAN, and Wav2Lip.

    python -m lipgan.train {syncnet,lipgan,wav2lip} --data DATA --out RUN [--config c.toml]
        [--set key=value ...]
    torchrun --nproc_per_node N -m lipgan.train syncnet --data DATA --out RUN   # DDP

RUN gets `config.json`, `log.csv` (step, split, name, value), TensorBoard events, `last.pt`
(everything needed to resume) and `best.pt` (best validation score). Running the same command
again resumes from `last.pt` exactly: batch k of step s is sample index (s * world + rank) *
batch_size + k of a dataset whose samples are a pure function of their index, so no sampler or
RNG state has to be saved. DDP uses gloo on CPU and nccl on GPU; bf16 autocast on GPU (`amp`).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from f2f.errors import ConfigError, run_command
from lipgan.checkpoint import atomic_save, model_record, read_checkpoint, unwrap
from lipgan.config import MODEL_SHAPING, PHASES, TrainConfig, learning_rate, load_config
from lipgan.phases import PHASE_TYPES, Phase
from lipgan.runtime import Runtime, StepBatches, make_dataset, read_split_size, setup_runtime, \
    to_device

log = logging.getLogger(__name__)

__all__ = ["PHASES", "PHASE_TYPES", "Runtime", "TrainConfig", "cli", "learning_rate",
           "load_config", "train"]


@dataclass
class RunLog:
    """CSV (step, split, name, value) + TensorBoard, written by rank 0 only."""

    out: Path
    tensorboard: bool
    _writer: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.path = self.out / "log.csv"
        if not self.path.exists():
            self.path.write_text("step,split,name,value\n")
        if self.tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._writer = SummaryWriter(str(self.out / "tb"))
            except ImportError:
                log.info("tensorboard not installed: CSV log only")

    def write(self, step: int, split: str, metrics: Mapping[str, float]) -> None:
        with self.path.open("a", newline="") as handle:
            writer = csv.writer(handle)
            for name, value in metrics.items():
                writer.writerow([step, split, name, repr(float(value))])
                if self._writer is not None:
                    self._writer.add_scalar(f"{split}/{name}", value, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def checkpoint_payload(phase: Phase, step: int, best: float) -> dict[str, Any]:
    kinds = phase.kinds()
    return {"format": "lipgan", "format_version": 1, "train_config": dataclasses.asdict(
        phase.config), "step": step, "best": best,
        "models": {name: model_record(kinds[name], model) for name, model in phase.models.items()},
        "optimizers": {name: opt.state_dict() for name, opt in phase.optimizers.items()},
        "schedule": phase.schedule_state(),
        # the main model at the top level, so load_model/load_wav2lip read train checkpoints
        **model_record(kinds[_main_name(phase)], phase.models[_main_name(phase)])}


def _main_name(phase: Phase) -> str:
    return "syncnet" if "syncnet" in phase.models else "generator"


def restore(phase: Phase, data: Mapping[str, Any]) -> tuple[int, float]:
    for name, model in phase.models.items():
        unwrap(model).load_state_dict(data["models"][name]["state_dict"])
        phase.optimizers[name].load_state_dict(data["optimizers"][name])
    if "schedule" in data:
        phase.load_schedule_state(data["schedule"])
    else:  # written before the sync-loss schedule existed: its sync weight was always on
        phase.load_schedule_state({"sync_started_at": 0})
    return int(data["step"]), float(data["best"])


def evaluate(phase: Phase, config: TrainConfig, dataset: torch.utils.data.Dataset
             ) -> dict[str, float]:
    phase.train(False)
    totals: dict[str, float] = {}
    batches = 0
    with torch.no_grad():
        for first in range(0, config.eval_samples, config.batch_size):
            indices = range(first, min(first + config.batch_size, config.eval_samples))
            batch = torch.utils.data.default_collate([dataset[i] for i in indices])
            for name, value in phase.evaluate_batch(to_device(batch, phase.runtime.device)).items():
                totals[name] = totals.get(name, 0.0) + value
            batches += 1
    phase.train(True)
    return {name: value / max(batches, 1) for name, value in totals.items()}


def train(config: TrainConfig) -> dict[str, float]:
    """Runs (or resumes) training; returns the last validation metrics."""
    if not config.synthetic and not config.data:
        raise ConfigError("no --data folder given (or --set synthetic=true)")
    runtime = setup_runtime(config)
    out = Path(config.out)
    resume_path = out / "last.pt"
    resumed = None
    if resume_path.is_file():
        resumed = read_checkpoint(resume_path)
        saved = resumed.get("train_config", {})
        for key in MODEL_SHAPING:
            if key in saved and saved[key] != getattr(config, key):
                raise ConfigError(f"{resume_path} was trained with {key}={saved[key]!r}, not "
                                  f"{getattr(config, key)!r}: use another --out or the same "
                                  "setting")
    torch.manual_seed(config.seed)
    if os.environ.get("OMP_NUM_THREADS"):  # a shared CPU: respect the thread budget asked for
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    phase = PHASE_TYPES[config.phase](config, runtime)
    start, best = (restore(phase, resumed) if resumed else (0, math.inf))
    if runtime.main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=1))
        log.info("lipgan.train: %s on %s (world %d), %s from step %d", config.phase,
                 runtime.device, runtime.world, "resuming" if resumed else "starting", start)
    run_log = RunLog(out, config.tensorboard) if runtime.main else None
    train_set = make_dataset(config, "train")
    val_set = None
    if runtime.main and config.eval_every:
        if config.synthetic or read_split_size(Path(config.data), "val"):
            val_set = make_dataset(config, "val")
        else:
            log.warning("lipgan.train: %s has no validation clips: no validation pass",
                        config.data)
    if runtime.main and val_set is None and phase.schedule_state().get("sync_started_at", 0) \
            is None and config.expert:
        log.warning("lipgan.train: the sync loss waits for a validation sync loss below %s, but "
                    "there is no validation pass: it stays off (set sync_loss_start_threshold="
                    "none to train with it from the start)", config.sync_loss_start_threshold)
    loader = torch.utils.data.DataLoader(
        train_set, batch_sampler=StepBatches(start, config.max_steps, config.batch_size, runtime),
        num_workers=config.num_workers, pin_memory=runtime.device.type == "cuda")
    progress = None
    if runtime.main:
        try:
            from tqdm import tqdm

            progress = tqdm(total=config.max_steps, initial=start, desc=config.phase,
                            unit="step", disable=None)
        except ImportError:  # a bare GPU box: the CSV log still shows progress
            pass
    metrics: dict[str, float] = {}
    step = start
    phase.train(True)
    started = time.perf_counter()
    for batch in loader:
        lr = phase.set_lr(step)
        losses = phase.step(to_device(batch, runtime.device))
        step += 1
        if run_log is not None and (step % config.log_every == 0 or step == start + 1):
            run_log.write(step, "train", {**losses, "lr": lr})
        if progress is not None:
            progress.update(1)
            progress.set_postfix({k: f"{v:.4f}" for k, v in list(losses.items())[:3]})
        last = step == config.max_steps
        validation_step = bool(config.eval_every) and (step % config.eval_every == 0 or last)
        if val_set is not None and validation_step:
            metrics = evaluate(phase, config, val_set)
            phase.observe_validation(step, metrics)
            assert run_log is not None
            run_log.write(step, "val", metrics)
            score = metrics.get(phase.score_name.split("/")[1], math.inf)
            if score < best:
                best = score
                atomic_save(checkpoint_payload(phase, step, best), out / "best.pt")
        if runtime.distributed and validation_step:
            phase.share_schedule()
        if runtime.main and (step % config.save_every == 0 or last):
            atomic_save(checkpoint_payload(phase, step, best), resume_path)
    if progress is not None:
        progress.close()
    if run_log is not None:
        run_log.write(step, "time", {"seconds": time.perf_counter() - started})
        run_log.close()
    if runtime.distributed:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()
    return metrics


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lipgan.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=PHASES)
    parser.add_argument("--data", help="folder from `python -m lipgan.preprocess`")
    parser.add_argument("--out", help="run folder (resumes when it holds last.pt)")
    parser.add_argument("--config", help="TOML file of TrainConfig keys")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    return run_command(lambda: _train_and_print(args), debug=args.debug)


def _train_and_print(args: argparse.Namespace) -> int:
    metrics = train(load_config(args.phase, args.data, args.out, args.config, args.set))
    if metrics and int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps({"val": metrics}))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
