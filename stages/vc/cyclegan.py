"""CycleGAN-VC voice conversion, trained per speaker on the input video's own speech.

Source domain: the TTS voice (this run's synthesised segments); target domain: the speaker's
speech in the input (plus, optionally, more clips of that speaker in `extra_target_dir`).
The conversion builds on `world`: the TTS voice is first formant-warped and statistics-mapped
with `world`'s code (log-F0 Gaussian transform, 40-d mel-cepstral mean/std mapping applied as
a filter on the envelope; aperiodicity and timing kept), with two defaults chosen on held-out
GRID clips (docs/speech.md): the full mapping (`spectral_strength` 1.0; `world` uses 0.5) and
log-F0 statistics without DIO's octave errors. CycleGAN-VC then learns only a residual
correction of that result's 24-d mel-cepstra towards the speaker's (generators start as the
identity; identity, cycle and "stay" losses keep the correction small on seconds of data;
training stops early once the generator loss is flat). An untrained model with `world`'s
settings reproduces `world` exactly.
The trained model is cached in `cache_dir` under a hash of the reference audio, the TTS voice
and the config, saved every few steps, and resumed.

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
from f2f.errors import ConfigError, MediaError, StageError, run_command
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import VCBackend
from f2f.timing import resample
from stages.vc import world_features as wf
from stages.vc.world import map_features

log = logging.getLogger(__name__)

CHECKPOINT = "cyclegan.pt"
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".mp4", ".mpg", ".mkv", ".webm",
                  ".mov", ".avi"}


def _model_config(config: CycleGANVC.Config):  # noqa: ANN202 - torch imported lazily
    from stages.vc._cyclegan_model import CycleGANConfig

    return CycleGANConfig(mcep_dims=config.mcep_dims, channels=config.channels,
                          residual_blocks=config.residual_blocks,
                          disc_channels=config.disc_channels,
                          batch_size=config.batch_size, segment_frames=config.segment_frames,
                          identity_weight=config.identity_weight,
                          adversarial_weight=config.adversarial_weight, residual=True,
                          stay_weight=config.stay_weight, patience=config.patience,
                          min_steps=config.min_steps, seed=config.seed)


@dataclass(frozen=True, eq=False)
class VoiceMapping:
    """The `world` part of the conversion, fixed when a model is trained (and saved with it):
    formant warp, statistics of the warped TTS voice and of the speaker at `mapping` order, and
    the speaker's statistics at the model's order, which normalise both domains (one common
    scale, so a zero correction leaves the statistics-mapped cepstra as they are)."""

    formant_warp: float
    strength: float
    source: wf.VoiceStats
    target: wf.VoiceStats
    scale: wf.VoiceStats

    def to_dict(self) -> dict[str, object]:
        return {"formant_warp": self.formant_warp, "strength": self.strength,
                "source": self.source.to_dict(), "target": self.target.to_dict(),
                "scale": self.scale.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VoiceMapping:
        return cls(float(data["formant_warp"]), float(data["strength"]),
                   wf.VoiceStats.from_dict(data["source"]),
                   wf.VoiceStats.from_dict(data["target"]),
                   wf.VoiceStats.from_dict(data["scale"]))

    @classmethod
    def fit(cls, source: list[wf.WorldFeatures], target: list[wf.WorldFeatures],
            config: CycleGANVC.Config) -> VoiceMapping:
        """From analyses at `config.mapping_mcep_dims` (as `world`: warp, then re-measure)."""
        outliers = config.f0_outlier_octaves
        target_stats = wf.voice_stats(target, outliers)
        alpha = wf.formant_warp(wf.voice_stats(source, outliers), target_stats,
                                config.formant_warp_power)
        warped = [wf.warp_features(f, alpha) for f in source]
        scale = wf.voice_stats([wf.with_mcep_dims(f, config.mcep_dims) for f in target])
        return cls(alpha, config.spectral_strength, wf.voice_stats(warped, outliers),
                   target_stats, scale)

    def apply(self, features: wf.WorldFeatures) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One TTS clip through the statistics mapping: (T,) F0, (T, F) envelope and its
        (T, D) mel-cepstrum at the model's order."""
        f0, sp = map_features(wf.warp_features(features, self.formant_warp), self.source,
                              self.target, self.strength)
        return f0, sp, wf.code_mcep(sp, self.scale.mcep_mean.size)

    def normalise(self, mcep: np.ndarray) -> np.ndarray:
        return (mcep - self.scale.mcep_mean) / self.scale.mcep_std

    def denormalise(self, normalised: np.ndarray) -> np.ndarray:
        return normalised * self.scale.mcep_std + self.scale.mcep_mean


def _pools(source: list[wf.WorldFeatures], target: list[wf.WorldFeatures],
           mapping: VoiceMapping) -> tuple[np.ndarray, np.ndarray]:
    """Speech frames of the statistics-mapped TTS voice and of the speaker, both normalised by
    the speaker's statistics: (T_s, D), (T_t, D)."""
    dims = mapping.scale.mcep_mean.size
    mapped = [mapping.apply(f)[2][f.speech_frames] for f in source]
    speaker = [wf.with_mcep_dims(f, dims).mcep[f.speech_frames] for f in target]
    return (mapping.normalise(np.concatenate(mapped)),
            mapping.normalise(np.concatenate(speaker)))


def train_voices(source: list[wf.WorldFeatures], target: list[wf.WorldFeatures],
                 config: CycleGANVC.Config, checkpoint: Path,
                 progress: StageProgress | None = None, device: str = "cpu"):  # noqa: ANN201
    """Trains (or resumes, or just loads) a residual CycleGAN-VC model between two analysed
    voices (analyses at `config.mapping_mcep_dims`)."""
    import torch

    from stages.vc._cyclegan_model import CycleGAN, train

    model_config = _model_config(config)
    model = None
    if checkpoint.is_file():
        try:
            model = CycleGAN.load(checkpoint, device)
            if model.config != model_config or "mapping" not in model.extra:
                log.info("vc cyclegan: cached model has another config; training anew")
                model = None
            else:
                log.info("vc cyclegan: resuming %s at step %d", checkpoint, model.step)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            log.warning("vc cyclegan: ignoring unreadable checkpoint %s (%s)", checkpoint, exc)
    if model is None:
        model = CycleGAN.create(model_config, device)
        model.extra = {"mapping": VoiceMapping.fit(source, target, config).to_dict()}
    if model.step >= config.steps or model.stopped_early:
        return model  # cached and finished: nothing to analyse or train
    mapping = VoiceMapping.from_dict(model.extra["mapping"])  # resumed: the mapping it began with
    source_pool, target_pool = _pools(source, target, mapping)
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
        train(model, source_pool, target_pool, config.steps, checkpoint, on_step)
    finally:
        torch.set_num_threads(threads)
    elapsed = time.perf_counter() - started
    if model.step > first:
        log.info("vc cyclegan: trained steps %d..%d in %.1f s (%.2f steps/s)%s", first,
                 model.step, elapsed, (model.step - first) / max(elapsed, 1e-9),
                 " (stopped early: generator loss flat)" if model.stopped_early else "")
    return model


def convert_clip(model: Any, features: wf.WorldFeatures, original: np.ndarray) -> np.ndarray:
    """Converts one analysed TTS clip (at the mapping order) with a trained model: the `world`
    statistics mapping, then the model's cepstral correction; samples at wf.RATE."""
    mapping = VoiceMapping.from_dict(model.extra["mapping"])
    f0, sp, mcep = mapping.apply(features)
    corrected = mapping.denormalise(model.convert(mapping.normalise(mcep)))
    corrected[:, 0] = mcep[:, 0]  # c0 is loudness: keep the clip's own
    sp = wf.filter_envelope(sp, mcep, corrected, features.fft_size)
    wave = wf.synthesize(f0, sp, features.ap, features.n_samples)
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
    version = "2"  # 2: residual on top of the `world` statistics mapping
    requires = ("pyworld", "torch")
    install_hint = "pip install torch pyworld 'setuptools<81'"
    quality_note = ("`world` statistics mapping plus a CycleGAN-VC correction trained per "
                    "speaker on the input's own speech (little data: a small correction)")

    @dataclass(frozen=True)
    class Config:
        steps: int = 300  # at most; training usually stops early (generator loss flat)
        patience: int = 60  # steps without a 1 % gain in the smoothed generator loss: stop
        min_steps: int = 100
        channels: int = 32
        residual_blocks: int = 2
        disc_channels: int = 16
        batch_size: int = 4
        segment_frames: int = 64
        identity_weight: float = 5.0
        stay_weight: float = 5.0  # keeps the correction of the `world` result small
        adversarial_weight: float = 1.0
        mcep_dims: int = 24  # what the networks map
        mapping_mcep_dims: int = 40  # the `world` statistics mapping, as in `world`
        spectral_strength: float = 1.0  # full statistics mapping (`world` uses 0.5; see docs)
        formant_warp_power: float = 0.3  # as in `world`; 0 = no formant shift
        f0_outlier_octaves: float = 0.8  # F0 statistics without octave errors (`world`: all)
        min_target_speech_s: float = 1.0  # less speaker speech than this: fall back to world
        extra_target_dir: str = ""  # more clips of the same speaker (any audio/video files)
        model_path: str = ""  # a model from `f2f vc train` instead of per-speaker training
        max_reference_s: float = 300.0
        threads: int = 1  # on a shared 2-core CPU, 2 threads ran 20x slower than 1
        seed: int = 0

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
        dims = self.config.mapping_mcep_dims
        progress(0.0, "analysing the speaker's voice")
        ref_features = wf.analyze(reference, dims)
        targets = [ref_features]
        if self.config.extra_target_dir:
            targets += _analyze_files(_audio_files(Path(self.config.extra_target_dir)), dims)
        clips = [s for s in speech.segments if wf.has_sound(s.speech)]
        voiced_ids = {s.id for s in clips}
        features = wf.sample_features(clips, dims)
        target_stats = wf.voice_stats(targets)
        if not self.config.model_path and target_stats.speech_s < self.config.min_target_speech_s:
            return self._fall_back(
                speech, reference, cache_dir, progress,
                f"only {target_stats.speech_s:.2f} s of the speaker's speech "
                f"(< {self.config.min_target_speech_s} s needed to train CycleGAN-VC)")
        if not features:
            self.metrics = {"note": "no speech to convert"}
            return speech
        model = self._model(list(features.values()), targets, reference, speech.voice,
                            cache_dir, progress)
        out = []
        for segment in speech.segments:
            if segment.id in voiced_ids:
                clip_features = features.pop(segment.id, None)
                if clip_features is None:  # beyond the training sample: analysed now
                    clip_features = wf.analyze(segment.speech, dims)
                wave = convert_clip(model, clip_features, segment.speech.samples)
                segment = SegmentSpeech(segment.id, segment.text, Speech(wave, wf.RATE),
                                        segment.phonemes)
            else:  # silence: only brought to the common sample rate
                segment = SegmentSpeech(segment.id, segment.text,
                                        resample(segment.speech, wf.RATE), segment.phonemes)
            out.append(segment)
        last = model.history[-1] if model.history else {}
        mapping = VoiceMapping.from_dict(model.extra["mapping"])
        self.metrics = {"trained_steps": model.step, "stopped_early": model.stopped_early,
                        "formant_warp": round(mapping.formant_warp, 3),
                        "final_cycle_loss": round(float(last.get("cycle", float("nan"))), 4),
                        "final_correction": round(float(last.get("stay", float("nan"))), 4),
                        "reference_speech_s": round(target_stats.speech_s, 2),
                        "target_clips": len(targets)}
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
            try:
                model = CycleGAN.load(path, self.device)
                VoiceMapping.from_dict(model.extra["mapping"])
            except (ValueError, KeyError, RuntimeError, OSError) as exc:
                raise ConfigError(f"vc.model_path: {path} is not a usable CycleGAN-VC "
                                  f"checkpoint of this version ({exc}); train it again with "
                                  "`python -m f2f vc train SRC TGT --out DIR`") from exc
            return model
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
        world = WorldVC(WorldVC.Config(
            mcep_dims=self.config.mapping_mcep_dims,
            spectral_strength=self.config.spectral_strength,
            formant_warp_power=self.config.formant_warp_power))
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
    return run_command(lambda: _train_and_print(args))


def _train_and_print(args: argparse.Namespace) -> int:
    config = dataclasses.replace(CycleGANVC.Config(), steps=args.steps, channels=args.channels,
                                 residual_blocks=args.residual_blocks, threads=args.threads)
    if args.steps <= 0:
        raise ConfigError("--steps must be positive")
    source = _analyze_files(_audio_files(args.source_dir), config.mapping_mcep_dims)
    target = _analyze_files(_audio_files(args.target_dir), config.mapping_mcep_dims)
    if not source or not target:
        raise ConfigError("no readable audio in the source or target folder")
    args.out.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm

    with tqdm(total=args.steps, unit="step") as bar:
        def show(fraction: float, message: str) -> None:
            bar.n = int(round(fraction * args.steps))
            bar.set_description(message.split(" (")[0][-30:])
            bar.refresh()

        model = train_voices(source, target, config, args.out / CHECKPOINT, show, args.device)
    last = model.history[-1] if model.history else {}
    print(f"saved {args.out / CHECKPOINT} at step {model.step}; "
          f"cycle loss {last.get('cycle', float('nan')):.4f}")
    return 0
