"""Voice conversion that is checked on speech it was not fitted to (the default `vc` backend).

Candidates: frame selection (`knn`: each dub frame's envelope shape taken from its nearest
speaker frames in a speaker-normalised mel-cepstral space, see `_frame_select`) and statistics
mapping (`stats`: `world`'s mean/std mapping), each at a few strengths; F0 always gets the
log-Gaussian transform. With enough speaker speech to tell more candidates apart (a long video),
variants that also move the voice's aperiodicity and widen its F0 range are tried too
(`_candidates`). The speaker's audio is split into alternate chunks: candidates are fitted
on one half and judged on the other by speaker similarity (`_gate`); the best is used, refitted
on all the speaker's audio, unless none beats the unconverted dub, which then passes through.
Timing stays the dub's frame for frame (the aperiodicity variants change only the level of
WORLD's coded band, one at 16 kHz, per voiced frame), so phoneme events stay valid.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path

import numpy as np

from f2f.artifacts import SegmentSpeech, Speech, SpeechSegments
from f2f.progress import StageProgress
from f2f.registry import register
from f2f.stage import VCBackend
from f2f.timing import resample
from stages.vc import _gate, _parallel
from stages.vc import world_features as wf
from stages.vc._candidates import Candidate, grid
from stages.vc._frame_select import SpeakerPool, select_frames

log = logging.getLogger(__name__)

MIN_SPEAKER_SPEECH_S = 0.25  # voiced, per half: less is too little to fit or to judge


@dataclass(frozen=True, eq=False)
class SpeakerModel:
    """What a conversion is fitted on: the dub's and the speaker's statistics, the speaker's
    frame pool and (for candidates that move it) band aperiodicity."""

    formant_warp: float
    source: wf.VoiceStats  # of the formant-warped dub
    target: wf.VoiceStats
    pool: SpeakerPool
    band_aperiodicity: np.ndarray | None = None  # the speaker's coded bands, dB (one at 16 kHz)

    @classmethod
    def fit(cls, dub: list[wf.WorldFeatures], speaker: list[wf.WorldFeatures],
            f0_outlier_octaves: float, warp_power: float,
            band_aperiodicity: np.ndarray | None = None) -> SpeakerModel:
        """`world`'s recipe: warp the dub's formants by the F0 ratio, then measure it again."""
        return cls.fit_warped(dub, speaker, f0_outlier_octaves, warp_power,
                              band_aperiodicity)[0]

    @classmethod
    def fit_warped(cls, dub: list[wf.WorldFeatures], speaker: list[wf.WorldFeatures],
                   f0_outlier_octaves: float, warp_power: float,
                   band_aperiodicity: np.ndarray | None = None,
                   pool: _parallel.Workers | None = None
                   ) -> tuple[SpeakerModel, list[wf.WorldFeatures]]:
        """`fit`, and the dub's clips warped by the model's formant warp (what it converts:
        warping again would cost as much again)."""
        target = wf.voice_stats(speaker, f0_outlier_octaves)
        alpha = wf.formant_warp(wf.voice_stats(dub, f0_outlier_octaves), target, warp_power)
        pool = pool or _parallel.Workers(1)
        warped = pool.map(partial(wf.warp_features, alpha=alpha), dub)
        source = wf.voice_stats(warped, f0_outlier_octaves)
        return cls(alpha, source, target, SpeakerPool.fit(speaker), band_aperiodicity), warped


def converted_envelope(features: wf.WorldFeatures, model: SpeakerModel, candidate: Candidate,
                       k: int) -> np.ndarray:
    """The (T, F) spectral envelope of one dub clip, already warped by `model.formant_warp`,
    under the candidate's envelope mapping."""
    source, target = model.source, model.target
    mcep = features.mcep
    if candidate.method == "knn":
        mapped = select_frames(mcep, features.speech_frames, source.mcep_mean, source.mcep_std,
                               model.pool, k, smooth_frames=1)
    else:
        mapped = (mcep - source.mcep_mean) / source.mcep_std * target.mcep_std + target.mcep_mean
        mapped[:, 0] = mcep[:, 0]  # c0 is loudness: keep the clip's own
    return wf.envelope_with_mcep(features, mcep + candidate.strength * (mapped - mcep))


def converted_aperiodicity(features: wf.WorldFeatures, model: SpeakerModel,
                           candidate: Candidate) -> np.ndarray:
    """The clip's (T, F) aperiodicity under the candidate: the dub's own, or moved towards the
    speaker's band aperiodicity."""
    if not candidate.aperiodicity:
        return features.ap
    if model.band_aperiodicity is None:
        raise ValueError("an aperiodicity candidate needs the speaker's band aperiodicity")
    return wf.shift_band_aperiodicity(features, model.band_aperiodicity, candidate.aperiodicity)


def convert_features(features: wf.WorldFeatures, model: SpeakerModel, candidate: Candidate,
                     k: int, original: np.ndarray, envelope: np.ndarray | None = None,
                     aperiodicity: np.ndarray | None = None) -> np.ndarray:
    """One analysed dub clip, already warped by `model.formant_warp`, through one candidate
    (`envelope`, `aperiodicity`: its `converted_envelope` / `converted_aperiodicity`, if
    already computed); samples at wf.RATE, the clip's peak level."""
    sp = converted_envelope(features, model, candidate, k) if envelope is None else envelope
    ap = (converted_aperiodicity(features, model, candidate) if aperiodicity is None
          else aperiodicity)
    target = model.target
    if candidate.f0_range != 1.0:
        target = replace(target, lf0_std=target.lf0_std * candidate.f0_range)
    f0 = wf.convert_f0(features.f0, model.source, target)
    return wf.match_peak(wf.synthesize(f0, sp, ap, features.n_samples), original)


@dataclass(frozen=True, eq=False)
class _DubSample:
    """The dub clips the statistics (`features`: WORLD analyses, in the dub's order, being
    computed) and the gate (`judged`: the first whole clips up to `gate_sample_s`, analysed
    with their aperiodicity, which the conversion reuses) are taken from."""

    features: dict[int, Future[wf.WorldFeatures]]
    judged: list[SegmentSpeech]

    @classmethod
    def start(cls, clips: list[SegmentSpeech], config: KnnVC.Config,
              pool: _parallel.Workers) -> _DubSample:
        sample = wf.sample_segments(clips)
        judged: list[SegmentSpeech] = []
        total = 0.0
        for clip in sample if config.gate else ():
            if total < config.gate_sample_s:
                # whole clips: judged on a few seconds cut mid-clip, the choice flipped on a
                # long-input bench case (s1 x25) and its similarity fell by 0.02
                judged.append(clip)
                total += clip.speech.duration_s
        with_aperiodicity = {c.id for c in judged}

        def analyse(clip: SegmentSpeech) -> wf.WorldFeatures:
            features = wf.analyze(clip.speech, config.mcep_dims, aperiodicity=False)
            if clip.id in with_aperiodicity:
                features = wf.with_aperiodicity(features, clip.speech)
            return features
        # the longest jobs first (the gate's clips cost twice: D4C), so the workers end together
        started = {c.id: pool.submit(analyse, c) for c in sorted(
            sample, key=lambda c: -c.speech.duration_s * (2 if c.id in with_aperiodicity else 1))}
        return cls({c.id: started[c.id] for c in sample}, judged)


@register
class KnnVC(VCBackend):
    """Frame-selection / statistics conversion on WORLD features, chosen on held-out speech."""

    name = "knn"
    version = "2"  # 2: aperiodicity and F0-range candidates on long inputs
    requires = ("pyworld", "resemblyzer")
    install_hint = "pip install pyworld 'setuptools<81' resemblyzer==0.1.4"
    quality_note = ("speaker's own frames (kNN on WORLD mel-cepstra) or statistics mapping, "
                    "whichever is more like the speaker on speech it was not fitted to")

    @dataclass(frozen=True)
    class Config:
        mcep_dims: int = 40
        k: int = 8  # speaker frames averaged per dub frame
        candidates: tuple[str, ...] = ("knn:1.0", "knn:0.5", "stats:1.0", "stats:0.5")
        gate: bool = True  # False: the first candidate, unchecked
        chunk_s: float = 0.5  # the alternation of fit and held-out speaker audio: chunks of
        chunks: int = 16  # ... max(chunk_s, input duration / chunks) seconds
        gate_sample_s: float = 6.0  # seconds of dub the candidates are judged on
        min_gain: float = 0.02  # similarity gain over the unconverted dub that counts, and
        noise_gain: float = 0.1  # ... at least this / sqrt(held-out seconds): on 3 s GRID
        # inputs smaller gains did not hold on other clips (bench/results/vc.json)
        knn_min_speech_s: float = 5.0  # a smaller pool of speaker frames: `stats` only
        f0_outlier_octaves: float = 0.8  # F0 statistics without DIO's octave errors
        formant_warp_power: float = 0.3  # as `world`: warp = (F0 ratio) ** power, 0 = none
        max_reference_s: float = 300.0  # frames beyond `_frame_select.POOL_MAX_FRAMES` thinned
        # with this much fit-half speaker speech the gate's held-out half is long enough to
        # tell more candidates apart: `long_candidates` are tried too
        long_min_speech_s: float = 12.0
        # tuned (before the -1 dB cap) on the s1 x25 bench case: aperiodicity 1.0 and 2.0,
        # ranges 1.2 and 1.6-1.8 and `knn` variants were all less like s1; on s4 x21 the pick
        # scored 0.009 below v1's (bench/results/vc.json, docs/speech.md "Long inputs")
        long_candidates: tuple[str, ...] = grid(("stats:1.0", "stats:0.5"), (0.0, 1.5),
                                                (1.0, 1.4))[2:]  # [:2]: in `candidates`
        aperiodicity_sample_s: float = 10.0  # of each half: the speaker's band aperiodicity

        def __post_init__(self) -> None:
            for name in self.candidates + self.long_candidates:  # before any audio is analysed
                Candidate.parse(name)

    workers: int | None = None  # threads for the independent work; None: `_parallel`'s default

    def convert(self, speech: SpeechSegments, reference: Speech, cache_dir: Path,
                progress: StageProgress) -> SpeechSegments:
        self.ensure_dependencies()
        wf.pyworld()  # loaded once, here, not by two threads at once
        self.metrics = {}  # this call's figures only (one backend converts speaker after speaker)
        config = self.config
        reference = Speech(reference.samples[: int(config.max_reference_s *
                                                   reference.sample_rate)],
                           reference.sample_rate)
        clips = [s for s in speech.segments if wf.has_sound(s.speech)]
        progress(0.0, "analysing the speaker's voice")
        # longer inputs alternate longer chunks: held-out speech from other sentences, not the
        # next half second of the same word (which frame selection would simply copy)
        chunk_s = max(config.chunk_s, reference.duration_s / config.chunks)
        split = _gate.split_alternate(reference, chunk_s)
        workers = self.workers if self.workers is not None else _parallel.default_workers()
        with _parallel.Workers(workers) as pool:
            return self._convert(speech, clips, split, pool, progress)

    def _convert(self, speech: SpeechSegments, clips: list[SegmentSpeech],
                 split: _gate.ReferenceSplit, pool: _parallel.Workers,
                 progress: StageProgress) -> SpeechSegments:
        config = self.config
        parts = [half for half in (split.fit, split.held_out) if half.samples.size]
        # the dub's sample is analysed (and its gate clips' aperiodicity measured) alongside the
        # speaker's halves, before knowing whether there is enough speaker speech to use it
        dub = _DubSample.start(clips if len(parts) == 2 else [], config, pool)
        # each half in `wf.REFERENCE_CHUNK_S` chunks: a long reference keeps every worker busy
        halves_analysed = [[pool.submit(wf.analyze_reference_chunk, chunk, config.mcep_dims,
                                        frames) for chunk, frames in wf.reference_chunks(half)]
                           for half in parts]
        halves = [wf.join_reference([f.result() for f in chunks]) for chunks in halves_analysed]
        speaker_s = min((wf.voice_stats([h]).voiced_s for h in halves), default=0.0)
        if not clips or len(halves) < 2 or speaker_s < MIN_SPEAKER_SPEECH_S:
            reason = ("no dub speech to convert" if not clips else
                      f"too little speaker speech to fit and check a conversion "
                      f"({speaker_s:.2f} s voiced per half)")
            return self._pass_through(speech, reason)
        # statistics need no aperiodicity (D4C): it is measured only for what is synthesised
        sample = {i: f.result() for i, f in dub.features.items()}
        # measured once, if a candidate needs it: by the gate, again for the refit
        fit_aperiodicity = cache(partial(self._band_aperiodicity, split.fit, halves[0]))
        choice = self._choose(dub, sample, halves, split.held_out, progress, fit_aperiodicity,
                              pool)
        if choice.choice == _gate.NONE:
            self.metrics = choice.to_metrics()
            return self._pass_through(speech, "no candidate conversion is more like the speaker "
                                      "on held-out speech than the unconverted dub")
        candidate = Candidate.parse(choice.choice)
        held_out_aperiodicity = (pool.submit(self._band_aperiodicity, split.held_out, halves[1])
                                 if candidate.aperiodicity else None)
        # refitted on all the audio; the sample's clips warped once, for the statistics and
        # for their own conversion
        model, warped_sample = SpeakerModel.fit_warped(
            list(sample.values()), halves, config.f0_outlier_octaves, config.formant_warp_power,
            pool=pool)
        warped = dict(zip(sample, warped_sample, strict=True))
        del sample, warped_sample
        if held_out_aperiodicity is not None:  # both halves' samples, as the statistics
            measured = [m for m in (fit_aperiodicity(), held_out_aperiodicity.result())
                        if m is not None]
            if measured:
                model = replace(model, band_aperiodicity=np.mean(measured, axis=0))
            else:  # an unchecked (gate off) choice, no voiced speaker frame in the samples
                candidate = replace(candidate, aperiodicity=0.0)
        dropped = candidate != Candidate.parse(choice.choice)
        log.info("vc knn: %s (held-out similarity %.3f -> %.3f)", candidate.name,
                 choice.similarity_before, choice.similarity_after)
        if dropped:
            log.warning("vc knn: %s without its aperiodicity part: no voiced speaker frame to "
                        "measure the speaker's aperiodicity on", choice.choice)
        voiced = {s.id for s in clips}

        def convert_segment(segment: SegmentSpeech) -> tuple[Speech, int, int]:
            """The converted clip, its voiced frames and those synthesised as noise only."""
            if segment.id not in voiced:  # silence: only the common sample rate
                return resample(segment.speech, wf.RATE), 0, 0
            features = warped.pop(segment.id, None) or wf.warp_features(
                wf.analyze(segment.speech, config.mcep_dims, aperiodicity=False),
                model.formant_warp)
            # the gate's clips already carry the aperiodicity it measured (warping keeps it)
            features = wf.with_aperiodicity(features, segment.speech,
                                            known=features.ap if features.ap.size else None)
            ap = converted_aperiodicity(features, model, candidate)
            wave = convert_features(features, model, candidate, config.k,
                                    segment.speech.samples, aperiodicity=ap)
            return (Speech(wave, wf.RATE), int(features.voiced.sum()),
                    wf.noise_only_frames(ap, features.voiced))

        # the longest clips first, so the workers end together; the results in the dub's order
        order = sorted(range(len(speech.segments)),
                       key=lambda i: -speech.segments[i].speech.duration_s)
        converting = {i: pool.submit(convert_segment, speech.segments[i]) for i in order}
        voiced_frames = noise_only = 0
        out = []
        for index, segment in enumerate(speech.segments):
            converted, frames, noise = converting.pop(index).result()
            voiced_frames += frames
            noise_only += noise
            out.append(SegmentSpeech(segment.id, segment.text, converted, segment.phonemes))
            progress(0.5 + 0.5 * (index + 1) / len(speech.segments), f"segment {index + 1}")
        self.metrics = {**choice.to_metrics(), "applied": candidate.name,
                        # voiced frames WORLD synthesises as noise only (whispered)
                        "noise_only_voiced_frames": round(noise_only / max(voiced_frames, 1), 4),
                        "formant_warp": round(model.formant_warp, 3),
                        "speaker_speech_s": round(
            sum(wf.voice_stats([h]).speech_s for h in halves), 2)}
        return SpeechSegments(tuple(out), backend=self.name, voice=f"{speech.voice}->speaker")

    def _choose(self, dub: _DubSample, sample: dict[int, wf.WorldFeatures],
                halves: list[wf.WorldFeatures], held_out: Speech, progress: StageProgress,
                fit_aperiodicity: Callable[[], np.ndarray | None],
                pool: _parallel.Workers) -> _gate.GateResult:
        """Candidates fitted on the first half of the speaker's audio, judged on the other, on
        the first clips of the dub up to `gate_sample_s` (`dub.judged`, already analysed with
        their aperiodicity, which the conversion reuses)."""
        config = self.config
        if not config.gate:
            return _gate.GateResult(config.candidates[0], float("nan"), float("nan"))
        pool_s = wf.voice_stats(halves[:1]).speech_s
        names = [n for n in config.candidates + (
            config.long_candidates if pool_s >= config.long_min_speech_s else ())
            if Candidate.parse(n).method != "knn" or pool_s >= config.knn_min_speech_s]
        measuring = (pool.submit(fit_aperiodicity)
                     if any(Candidate.parse(n).aperiodicity for n in names) else None)
        model, warped_sample = SpeakerModel.fit_warped(
            list(sample.values()), halves[:1], config.f0_outlier_octaves,
            config.formant_warp_power, pool=pool)
        if measuring is not None:
            band_ap = measuring.result()
            if band_ap is None:  # no voiced speaker frames in the sample: nothing to move to
                names = [n for n in names if not Candidate.parse(n).aperiodicity]
            else:
                model = replace(model, band_aperiodicity=band_ap)
        warped = dict(zip(sample, warped_sample, strict=True))
        progress(0.2, "checking candidate conversions on held-out speech")
        # candidates sharing an envelope mapping share its computation: one job per clip and
        # envelope, the longest first (seconds to synthesise), so the workers end together
        groups: dict[tuple[str, float], list[Candidate]] = {}
        for name in names:
            candidate = Candidate.parse(name)
            groups.setdefault(candidate.envelope, []).append(candidate)
        jobs = sorted(((c, g) for c in dub.judged for g in groups.values()),
                      key=lambda job: -job[0].speech.duration_s * len(job[1]))

        def synthesize(job: tuple[SegmentSpeech, list[Candidate]]) -> list[np.ndarray]:
            clip, group = job
            features = warped[clip.id]
            envelope = converted_envelope(features, model, group[0], config.k)
            return [convert_features(features, model, c, config.k, clip.speech.samples, envelope)
                    for c in group]
        waves = {(clip.id, c.name): wave for (clip, group), made in
                 zip(jobs, pool.map(synthesize, jobs), strict=True)
                 for c, wave in zip(group, made, strict=True)}
        candidates = {name: Speech(np.concatenate(
            [waves[c.id, Candidate.parse(name).name] for c in dub.judged]), wf.RATE)
            for name in names}
        unconverted = Speech(np.concatenate([resample(c.speech, wf.RATE).samples
                                             for c in dub.judged]), wf.RATE)
        gain = _gate.required_gain(held_out.duration_s, config.min_gain, config.noise_gain)
        return _gate.choose(candidates, unconverted, held_out, gain, threads=pool.workers)

    def _band_aperiodicity(self, half: Speech, features: wf.WorldFeatures) -> np.ndarray | None:
        return wf.band_aperiodicity(half, features, self.config.aperiodicity_sample_s)

    def _pass_through(self, speech: SpeechSegments, reason: str) -> SpeechSegments:
        log.warning("vc knn: %s; the dub keeps the TTS voice", reason)
        self.metrics = {**self.metrics, "note": f"not converted: {reason}"}
        return speech
