"""Long videos split at silences into chunks that run on different workers, then joined.

Cuts fall in the middle of a silence near every `chunk_s` seconds, on a frame boundary. The
worker that translates a chunk first cuts it out of the source losslessly (FFV1 + PCM). The
driver joins the finished chunks: their H.264 streams concatenated without re-encoding (the
frame count is the sum of the chunks'), their dubs decoded and laid end to end at each chunk's
exact length (one continuous track), their subtitles shifted to each chunk's start.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from f2f import media
from f2f.artifacts import Speech
from f2f.batch_inputs import BatchItem
from f2f.batch_jobs import BatchJob
from f2f.cache import make_key
from f2f.errors import MediaError
from f2f.subtitles import Cue, read_subtitles, write_subtitles

CHUNKS_FOLDER = ".chunks"
WINDOW_S = 0.02  # loudness is measured in 20 ms windows


def silence_cuts(speech: Speech, fps: float, frame_count: int, chunk_s: float,
                 silence_dbfs: float = -35.0, min_silence_s: float = 0.25) -> list[int]:
    """Frame indices to cut at: mid-silence, near each multiple of `chunk_s` from the last cut."""
    hop = max(1, int(speech.sample_rate * WINDOW_S))
    windows = speech.samples[: speech.samples.size // hop * hop].reshape(-1, hop)
    rms = np.sqrt(np.mean(np.square(windows, dtype=np.float64), axis=1))
    silent = 20 * np.log10(np.maximum(rms, 1e-10)) < silence_dbfs
    middles, start = [], None
    for i, quiet in enumerate([*silent, False]):
        if quiet and start is None:
            start = i
        elif not quiet and start is not None:
            if (i - start) * WINDOW_S >= min_silence_s:
                middles.append((start + i) / 2 * WINDOW_S)
            start = None
    duration_s = frame_count / fps
    cuts: list[int] = []
    last_s, target = 0.0, chunk_s
    while target < duration_s - chunk_s / 2:  # the last chunk is at least half a chunk
        near = [m for m in middles if last_s + chunk_s / 2 <= m <= target + chunk_s / 2]
        if near:
            middle = min(near, key=lambda m: abs(m - target))
            frame = round(middle * fps)
            if 0 < frame < frame_count and (not cuts or frame > cuts[-1]):
                cuts.append(frame)
                last_s = frame / fps
            target = last_s + chunk_s
        else:  # no silence near enough: this chunk grows until the next one
            target += chunk_s
    return cuts


def plan_chunks(job: BatchJob, chunk_s: float) -> list[BatchJob]:
    """The chunk jobs of a long video, or [] when it is short, silent-free or has manual files."""
    item = job.item
    if item.translation is not None or item.dub_audio is not None:
        return []  # a manual translation or dub cannot be cut without its own timing
    try:
        info = media.probe(item.input)
    except MediaError:
        return []  # it fails alone, unchunked, with its own error
    if not (info.has_video and info.has_audio) or info.duration_s < 1.5 * chunk_s:
        return []
    cuts = silence_cuts(media.read_audio(item.input), info.fps, info.frame_count, chunk_s)
    if not cuts:
        return []
    bounds = [0, *cuts, info.frame_count]
    jobs = []
    for index, span in enumerate(zip(bounds, bounds[1:])):
        folder = job.folder / CHUNKS_FOLDER / f"{index:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        chunk = BatchItem(f"{item.name}#{index:03d}", item.input, face=item.face)
        jobs.append(dataclasses.replace(
            job, item=chunk, output=folder / f"part.{job.config.target_language}.mp4",
            fingerprint=make_key(parent=job.fingerprint, span=span), span=span,
            parent=item.name))
    return jobs


def chunk_source(job: BatchJob) -> Path:
    """The chunk's frames cut out of its video, named by the chunk's fingerprint (input content,
    span, config): a rerun with another --chunk-s or a changed input never reuses an old cut;
    earlier cuts in the folder are removed (lossless cuts are large)."""
    assert job.span is not None
    out = job.folder / f"source.{job.fingerprint[:16]}.mkv"
    cut_chunk(job.item.input, job.span, media.probe(job.item.input).fps, out)
    for stale in job.folder.glob("source*.mkv"):
        if stale != out:
            stale.unlink(missing_ok=True)
    return out


def cut_chunk(source: Path, span: tuple[int, int], fps: float, out: Path) -> Path:
    """Frames [start, end) of `source` and the audio under them, losslessly, atomically."""
    if out.is_file():
        return out
    start, end = span
    video = f"fps={fps:.6f},trim=start_frame={start}:end_frame={end},setpts=PTS-STARTPTS"
    audio = f"atrim=start={start / fps:.6f}:end={end / fps:.6f},asetpts=PTS-STARTPTS"
    with media.atomic_output(out, suffix=".mkv") as tmp:
        media.run_ffmpeg(["-i", str(source), "-map", "0:v:0", "-map", "0:a:0", "-vf", video,
                          "-af", audio, "-c:v", "ffv1", "-c:a", "pcm_s16le", "-f", "matroska",
                          str(tmp)], f"cutting frames {start}-{end} of {source}")
    return out


def join_chunks(parent: BatchJob, chunks: list[BatchJob]) -> None:
    """The chunk outputs, in order, as the parent's video, dub and subtitles."""
    from f2f.pipeline import output_paths
    from f2f.subtitles import LANGUAGE_TAGS

    config = parent.config
    outputs = [c.output for c in chunks]
    infos = [media.probe(path) for path in outputs]
    rate = infos[0].audio_sample_rate or media.AUDIO_RATE
    lengths_s = [info.frame_count / info.fps for info in infos]
    pieces = [media.fit_length(media.read_audio(path, rate), length).samples
              for path, length in zip(outputs, lengths_s)]
    offsets = np.concatenate([[0.0], np.cumsum(lengths_s)[:-1]])
    paths = output_paths(parent.output, config)
    tracks = []
    for language in (config.source_language, config.target_language):
        cues = [Cue(c.start_s + offset, c.end_s + offset, c.text)
                for path, offset in zip(outputs, offsets)
                for c in _cues(path, language, config.target_language)]
        if not cues:
            continue
        for fmt in config.subtitles:
            write_subtitles(cues, paths[f"{language}.{fmt}"])
        if "srt" in config.subtitles:
            tracks.append(media.SubtitleTrack(paths[f"{language}.srt"],
                                              LANGUAGE_TAGS.get(language, "und")))
    with tempfile.TemporaryDirectory(prefix="f2f-join-") as tmp:
        listing = Path(tmp) / "chunks.txt"
        listing.write_text("".join(f"file '{path}'\n" for path in outputs), encoding="utf-8")
        joined = Path(tmp) / "video.mp4"
        media.run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0:v:0",
                          "-c", "copy", str(joined)], f"joining the chunks of {parent.output}")
        media.mux(joined, Speech(np.concatenate(pieces), rate), parent.output, tracks)
    with media.atomic_output(paths["config"]) as tmp_config:
        tmp_config.write_text(config.to_toml(), encoding="utf-8")


def _cues(chunk_output: Path, language: str, target: str) -> list[Cue]:
    stem = str(chunk_output.with_suffix("")).removesuffix(f".{target}")
    path = Path(f"{stem}.{language}.srt")
    return read_subtitles(path) if path.is_file() else []
