"""CycleGAN-VC voice conversion, trained per speaker on the input video's own speech.

Source domain: the TTS voice (this run's synthesised segments); target domain: the speaker's
speech in the input (plus, optionally, more clips of that speaker in `extra_target_dir`).
Each domain's 24-d mel-cepstra are normalised by its own statistics, so even a short training
run starts from statistics mapping and learns the remaining spectral mapping. F0 uses the
log-Gaussian transform; aperiodicity is kept. The trained model is cached in `cache_dir` under a
hash of the reference audio and the TTS voice, saved every few steps, and resumed.

    python -m f2f vc train SOURCE_DIR TARGET_DIR --out DIR [--steps N]

trains from two folders of audio (any format ffmpeg reads); pass `--set vc.model_path=DIR` to use
the result instead of per-speaker training.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from f2f.artifacts import SegmentSpeech, Speech, SpeechSegments
from f2f.errors import ConfigError, F2FError, MediaError, StageError
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import VCBackend
from f2f.timing import resample
from stages.vc import _world_features as wf

log = logging.getLogger(__name__)

CHECKPOINT = "cyclegan.pt"
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".mp4", ".mpg", ".mkv", ".webm",
                  ".mov", ".avi"}


def _model_config(config: CycleGANVC.Config):  # noqa: ANN202 - torch imported lazily
    from stages.vc._cyclegan_model import CycleGANConfig

    return CycleGANConfig(mcep_dims=config.mcep_dims, channels=config.channels,
                          residual_blocks=config.residual_blocks, steps=config.steps,
                          batch_size=config.batch_size, segment_frames=config.segment_frames,
                          seed=config.seed)


def _pool(clips: list[wf.WorldFeatures], stats: wf.VoiceStats) -> np.ndarray:
    """All speech frames of a voice, normalised by its own statistics: (T, D)."""
    frames = [c.mcep[c.speech_frames] for c in clips]
    pool = np.concatenate(frames) if frames else np.zeros((0, stats.mcep_mean.size))
    return (pool - stats.mcep_mean) / stats.mcep_std


def train_voices(source: list[wf.WorldFeatures], target: list[wf.WorldFeatures],
                 config: CycleGANVC.Config, checkpoint: Path,
                 progress: StageProgress | None = None, device: str = "cpu"):  # noqa: ANN201
    """Trains (or resumes, or just loads) a CycleGAN-VC model between two analysed voices."""
    import torch

    from stages.vc._cyclegan_model import CycleGAN, train

    source_stats, target_stats = wf.voice_stats(source), wf.voice_stats(target)
    model_config = _model_config(config)
    model = None
    if checkpoint.is_file():
        try:
            model = CycleGAN.load(checkpoint, device)
            if dataclasses.replace(model.config, steps=model_config.steps) != model_config:
                log.info("vc cyclegan: cached model has another config; training anew")
                model = None
            else:
                model.config = model_config  # more steps than before: train on
                log.info("vc cyclegan: resuming %s at step %d", checkpoint, model.step)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            log.warning("vc cyclegan: ignoring unreadable checkpoint %s (%s)", checkpoint, exc)
    if model is None:
        model = CycleGAN.create(model_config, device)
    model.extra = {"source_stats": source_stats.to_dict(), "target_stats": target_stats.to_dict()}
    started = time.perf_counter()
    first = model.step

    def on_step(step: int, losses: dict[str, float]) -> None:
        if progress and (step % 5 == 0 or step == config.steps):
            progress(step / config.steps, f"training CycleGAN-VC step {step}/{config.steps} "
                     f"(cycle {losses['cycle']:.3f})")

    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(max(config.threads, 1))  # only while training: other stages differ
    try:
        train(model, _pool(source, source_stats), _pool(target, target_stats), config.steps,
              checkpoint, on_step)
    finally:
        torch.set_num_threads(threads)
    elapsed = time.perf_counter() - started
    if model.step > first:
        log.info("vc cyclegan: trained steps %d..%d in %.1f s (%.2f steps/s)", first,
                 model.step, elapsed, (model.step - first) / max(elapsed, 1e-9))
    return model


def convert_clip(model: Any, features: wf.WorldFeatures, original: np.ndarray) -> np.ndarray:
    """Converts one analysed TTS clip with a trained model; samples at wf.RATE."""
    source = wf.VoiceStats.from_dict(model.extra["source_stats"])
    target = wf.VoiceStats.from_dict(model.extra["target_stats"])
    normalised = (features.mcep - source.mcep_mean) / source.mcep_std
    mcep = model.convert(normalised) * target.mcep_std + target.mcep_mean
    mcep[:, 0] = features.mcep[:, 0]  # c0 is loudness: keep the clip's own
    sp = wf.envelope_with_mcep(features, mcep)
    wave = wf.synthesize(wf.convert_f0(features.f0, source, target), sp, features.ap,
                         features.n_samples)
    return wf.match_peak(wave, original)


def _audio_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ConfigError(f"not a folder of audio: {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise ConfigError(f"no audio files ({', '.join(sorted(AUDIO_SUFFIXES))}) in {folder}")
    return files


def _analyze_files(files: list[Path], dims: int) -> list[wf.WorldFeatures]:
    from f2f.media import read_audio

    out = []
    for path in files:
        try:
            out.append(wf.analyze(read_audio(path, wf.RATE), dims))
        except MediaError as exc:
            log.warning("vc cyclegan: skipping %s: %s", path, exc)
    return out


@register
class CycleGANVC(VCBackend):
    """CycleGAN-VC (gated 1D-CNN generators, 2D discriminators) trained per speaker."""

    name = "cyclegan"
    version = "1"
    requires = ("pyworld", "torch")
    install_hint = "pip install torch pyworld 'setuptools<81'"
    quality_note = "trained per speaker from the input's own speech: little data, short training"

    @dataclass(frozen=True)
    class Config:
        steps: int = 300  # ~1 min on 2 CPU cores with the default size
        channels: int = 64
        residual_blocks: int = 3
        batch_size: int = 4
        segment_frames: int = 64
        mcep_dims: int = 24
        formant_warp_power: float = 0.3  # as in `world`; 0 = no formant shift
        min_target_speech_s: float = 1.0  # less speaker speech than this: fall back to world
        extra_target_dir: str = ""  # more clips of the same speaker (any audio/video files)
        model_path: str = ""  # a model from `f2f vc train` instead of per-speaker training
        max_reference_s: float = 300.0
        threads: int = 1  # on a shared 2-core CPU, 2 threads ran 20x slower than 1
        seed: int = 0
        metrics: bool = True

    def cache_identity(self) -> dict[str, object]:
        identity = super().cache_identity()
        if self.config.model_path:
            identity["weights"] = _fingerprint(Path(self.config.model_path))
        return identity

    def weights_description(self) -> str:
        return self.config.model_path or "trained per speaker (cached)"

    def convert(self, speech: SpeechSegments, reference: Speech, cache_dir: Path,
                progress: StageProgress) -> SpeechSegments:
        self.ensure_dependencies()
        limit = int(self.config.max_reference_s * reference.sample_rate)
        reference = Speech(reference.samples[:limit], reference.sample_rate)
        dims = self.config.mcep_dims
        ref_features = wf.analyze(reference, dims)
        targets = [ref_features]
        if self.config.extra_target_dir:
            targets += _analyze_files(_audio_files(Path(self.config.extra_target_dir)), dims)
        clips = [s for s in speech.segments if wf.has_sound(s.speech)]
        features = {s.id: wf.analyze(s.speech, dims) for s in clips}
        target_stats = wf.voice_stats(targets)
        if not self.config.model_path and target_stats.speech_s < self.config.min_target_speech_s:
            return self._fall_back(
                speech, reference, cache_dir, progress,
                f"only {target_stats.speech_s:.2f} s of the speaker's speech "
                f"(< {self.config.min_target_speech_s} s needed to train CycleGAN-VC)")
        if not features:
            self.metrics = {"note": "no speech to convert"}
            return speech
        # formants first (as in `world`): the short training cannot learn a large warp
        alpha = wf.formant_warp(wf.voice_stats(list(features.values())), target_stats,
                                self.config.formant_warp_power)
        features = {k: wf.warp_features(f, alpha) for k, f in features.items()}
        model = self._model(list(features.values()), targets, reference, speech.voice,
                            cache_dir, progress)
        out = []
        for segment in speech.segments:
            if segment.id in features:
                wave = convert_clip(model, features[segment.id], segment.speech.samples)
                segment = SegmentSpeech(segment.id, segment.text, Speech(wave, wf.RATE),
                                        segment.phonemes)
            else:  # silence: only brought to the common sample rate
                segment = SegmentSpeech(segment.id, segment.text,
                                        resample(segment.speech, wf.RATE), segment.phonemes)
            out.append(segment)
        last = model.history[-1] if model.history else {}
        self.metrics = {"trained_steps": model.step, "formant_warp": round(alpha, 3),
                        "final_cycle_loss": round(float(last.get("cycle", float("nan"))), 4),
                        "reference_speech_s": round(target_stats.speech_s, 2)}
        if self.config.metrics:
            self.metrics |= wf.conversion_metrics(
                [s.speech for s in clips], [s.speech for s in out if s.id in features],
                reference, ref_features)
        return SpeechSegments(tuple(out), backend=self.name, voice=f"{speech.voice}->speaker")

    def _model(self, source: list[wf.WorldFeatures], targets: list[wf.WorldFeatures],
               reference: Speech, voice: str, cache_dir: Path, progress: StageProgress) -> Any:
        from stages.vc._cyclegan_model import CycleGAN

        if self.config.model_path:
            path = Path(self.config.model_path)
            path = path / CHECKPOINT if path.is_dir() else path
            if not path.is_file():
                raise ConfigError(f"vc.model_path: no CycleGAN-VC checkpoint at {path}; "
                                  "train one with `python -m f2f vc train SRC TGT --out DIR`")
            log.info("vc cyclegan: using trained model %s", path)
            return CycleGAN.load(path, self.device)
        digest = hashlib.sha256(reference.samples.tobytes())
        digest.update(json.dumps([reference.sample_rate, voice, self.config_dict()],
                                 sort_keys=True).encode())
        folder = Path(cache_dir) / f"cyclegan-{digest.hexdigest()[:20]}"
        log.info("vc cyclegan: per-speaker model in %s", folder)
        try:
            return train_voices(source, targets, self.config, folder / CHECKPOINT, progress,
                                self.device)
        except (RuntimeError, ValueError) as exc:
            raise StageError(f"CycleGAN-VC training failed: {exc}") from exc

    def _fall_back(self, speech: SpeechSegments, reference: Speech, cache_dir: Path,
                   progress: StageProgress, reason: str) -> SpeechSegments:
        from stages.vc.world import WorldVC

        log.warning("vc cyclegan: %s; falling back to 'world'", reason)
        world = WorldVC(WorldVC.Config(mcep_dims=40, metrics=self.config.metrics))
        converted = world.convert(speech, reference, cache_dir, progress)
        self.metrics = {**world.metrics, "fallback": f"world: {reason}"}
        return converted


def _fingerprint(path: Path) -> str:
    from f2f.weights import fingerprint

    return fingerprint(path) if path.exists() else f"missing:{path}"


def train_cli(argv: list[str]) -> int:
    """`python -m f2f vc train SOURCE_DIR TARGET_DIR --out DIR [--steps N]`."""
    parser = argparse.ArgumentParser(
        prog="f2f vc train", description="Train CycleGAN-VC between two folders of audio "
        "(source: e.g. TTS output; target: the speaker). Resumes from DIR/cyclegan.pt.")
    parser.add_argument("source_dir", type=Path)
    parser.add_argument("target_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="folder for cyclegan.pt")
    parser.add_argument("--steps", type=int, default=CycleGANVC.Config.steps)
    parser.add_argument("--channels", type=int, default=CycleGANVC.Config.channels)
    parser.add_argument("--residual-blocks", type=int,
                        default=CycleGANVC.Config.residual_blocks)
    parser.add_argument("--threads", type=int, default=CycleGANVC.Config.threads)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = dataclasses.replace(CycleGANVC.Config(), steps=args.steps, channels=args.channels,
                                 residual_blocks=args.residual_blocks, threads=args.threads)
    try:
        if args.steps <= 0:
            raise ConfigError("--steps must be positive")
        source = _analyze_files(_audio_files(args.source_dir), config.mcep_dims)
        target = _analyze_files(_audio_files(args.target_dir), config.mcep_dims)
        if not source or not target:
            raise ConfigError("no readable audio in the source or target folder")
        args.out.mkdir(parents=True, exist_ok=True)
        from tqdm import tqdm

        with tqdm(total=args.steps, unit="step") as bar:
            def show(fraction: float, message: str) -> None:
                bar.n = int(round(fraction * args.steps))
                bar.set_description(message.split(" (")[0][-30:])
                bar.refresh()

            model = train_voices(source, target, config, args.out / CHECKPOINT, show,
                                 args.device)
    except F2FError as exc:
        print(f"error: {exc}")
        return exc.exit_code
    last = model.history[-1] if model.history else {}
    print(f"saved {args.out / CHECKPOINT} at step {model.step}; "
          f"cycle loss {last.get('cycle', float('nan')):.4f}")
    return 0
