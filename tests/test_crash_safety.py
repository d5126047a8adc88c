"""Crash safety: SIGKILL the CLI inside each step in turn, rerun, get the uninterrupted result.

The CLI runs in a subprocess as `python tests/test_crash_safety.py translate ...`: the `__main__`
block below registers small deterministic test backends and installs "stall points" (the step
named by $F2F_TEST_STALL writes $F2F_TEST_MARKER, then sleeps), then calls the real
`f2f.cli.main`. The test waits for the marker, kills the process, checks that nothing partial
sits at the output path and that the killed step left no cache entry, reruns without the stall
and compares the result with a run that was never interrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from f2f import media
from f2f.artifacts import (
    PhonemeEvent,
    Segment,
    SegmentSpeech,
    Speech,
    SpeechSegments,
    Transcript,
)
from f2f.registry import register
from f2f.stage import ASRBackend, LipSyncBackend, MTBackend, TTSBackend, VCBackend
from fakes import rewrite_frames, scaled, translated

THIS = Path(__file__).resolve()
REPO = THIS.parent.parent
STALL_POINTS = ("audio", "asr", "mt", "tts", "vc", "fit", "lipsync", "mux", "output")
STAGES = ["--asr", "crash-asr", "--mt", "crash-mt", "--tts", "crash-tts", "--vc", "crash-vc",
          "--lipsync", "crash-lipsync"]
RUN_TIMEOUT_S = 120


def stall(point: str) -> None:
    """At the chosen point: tell the test we are inside it, then wait to be killed."""
    if os.environ.get("F2F_TEST_STALL") == point:
        Path(os.environ["F2F_TEST_MARKER"]).write_text(point)
        time.sleep(600)


# ------------------------------------------------------------------------------ test backends


@register
class CrashASR(ASRBackend):
    name = "crash-asr"

    def transcribe(self, audio, language, progress):
        stall("asr")
        half = round(audio.duration_s / 2, 3)
        return Transcript(language, (Segment(0, "good morning.", 0.0, half),
                                     Segment(1, "thank you.", half, audio.duration_s)),
                          backend=self.name)


@register
class CrashMT(MTBackend):
    name = "crash-mt"
    languages = frozenset({"hi"})

    def translate(self, transcript, target_language, progress):
        stall("mt")
        return translated(transcript, target_language, lambda s: f"नमस्ते {s.id}", self.name)


@register
class CrashTTS(TTSBackend):
    name = "crash-tts"

    def synthesize(self, translation, progress):
        stall("tts")
        out = []
        for seg in translation.segments:
            t = np.arange(int(16000 * 0.5)) / 16000
            tone = (0.3 * np.sin(2 * np.pi * (200 + 50 * seg.id) * t)).astype(np.float32)
            out.append(SegmentSpeech(seg.id, seg.text, Speech(tone, 16000),
                                     (PhonemeEvent("a", 0.0, 0.5),)))
        return SpeechSegments(tuple(out), backend=self.name)


@register
class CrashVC(VCBackend):
    name = "crash-vc"

    def convert(self, speech, reference, cache_dir, progress):
        stall("vc")
        return scaled(speech, 0.5, self.name)


@register
class CrashLipSync(LipSyncBackend):
    """Inverts the picture; stalls half way, with a partial video written in the cache."""

    name = "crash-lipsync"

    def sync(self, video, track, out_path, progress):
        def stall_half_way(index: int) -> None:
            if index == video.frame_count // 2:
                stall("lipsync")

        return rewrite_frames(video, track, out_path, lambda frame: 255 - frame, stall_half_way)


def install_stall_points() -> None:
    """Stalls inside the graph's own steps (audio, fit, mux) and the final copy to OUT.mp4."""
    from f2f import timing

    real_read_audio, real_fit, real_mux = media.read_audio, timing.fit_to_timeline, media.mux
    real_copyfile = shutil.copyfile

    def read_audio(*args: Any, **kwargs: Any) -> Speech:
        speech = real_read_audio(*args, **kwargs)
        stall("audio")
        return speech

    def fit(*args: Any, **kwargs: Any) -> Any:
        stall("fit")
        return real_fit(*args, **kwargs)

    def mux(*args: Any, **kwargs: Any) -> None:
        real_mux(*args, **kwargs)
        stall("mux")  # the muxed file is complete but its cache entry is not yet renamed

    def copyfile(src: Any, dst: Any, **kwargs: Any) -> Any:
        if os.environ.get("F2F_TEST_STALL") == "output" and Path(dst).name.startswith("."):
            data = Path(src).read_bytes()
            Path(dst).write_bytes(data[: len(data) // 2])  # half the output written, then
            stall("output")  # killed before the rename onto OUT.mp4
        return real_copyfile(src, dst, **kwargs)

    media.read_audio, timing.fit_to_timeline, media.mux = read_audio, fit, mux
    shutil.copyfile = copyfile


# ------------------------------------------------------------------------------ the test


def translate_cmd(clip: Path, out: Path, workdir: Path) -> list[str]:
    return [sys.executable, str(THIS), "-q", "translate", str(clip), "--to", "hi", "-o", str(out),
            "--workdir", str(workdir), *STAGES]


def cli_env(**extra: str) -> dict[str, str]:
    """The script imports f2f from this checkout even where it is not pip-installed."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def run_to_end(clip: Path, out: Path, workdir: Path) -> dict[str, Any]:
    result = subprocess.run(translate_cmd(clip, out, workdir), capture_output=True, text=True,
                            cwd=REPO, env=cli_env(), timeout=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    return json.loads(Path(f"{out.with_suffix('')}.report.json").read_text(encoding="utf-8"))


def kill_inside(point: str, clip: Path, out: Path, workdir: Path, marker: Path) -> None:
    env = cli_env(F2F_TEST_STALL=point, F2F_TEST_MARKER=str(marker))
    proc = subprocess.Popen(translate_cmd(clip, out, workdir), cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not marker.exists():
            assert proc.poll() is None, f"exited before reaching {point}: {proc.stderr.read()}"
            assert time.monotonic() < deadline, f"never reached {point}"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()


def fingerprint(video: Path) -> tuple[str, np.ndarray]:
    info = media.probe(video)
    digest = hashlib.sha256()
    for frame in media.iter_frames(video, info.fps, info.width, info.height):
        digest.update(frame.tobytes())
    return digest.hexdigest(), media.read_audio(video).samples


def test_sigkill_in_each_step_then_resume(tmp_path: Path) -> None:
    from mediafactory import make_video

    clip = make_video(tmp_path / "talk.mp4", seconds=2.0, size="160x120", audio="noise")
    reference_out = tmp_path / "reference" / "talk.hi.mp4"
    reference_out.parent.mkdir()
    run_to_end(clip, reference_out, tmp_path / "reference-work")
    reference_frames, reference_audio = fingerprint(reference_out)
    reference_srt = (reference_out.parent / "talk.hi.srt").read_text(encoding="utf-8")

    for point in STALL_POINTS:
        out = tmp_path / point / "talk.hi.mp4"
        out.parent.mkdir()
        workdir = tmp_path / f"{point}-work"
        kill_inside(point, clip, out, workdir, tmp_path / f"{point}.marker")
        assert not out.exists(), point  # never a partial output at the output path
        stage = "mux" if point == "output" else point
        if point == "output":  # killed while the hidden staged OUT.mp4 was half written
            assert list(out.parent.glob(".talk.hi.f2f-*/.talk.hi.*.mp4")), point
            assert not list(out.parent.glob("talk.hi.*"))  # no subtitles without the video
        else:  # killed inside the step's temporary entry, which never became an entry
            assert list((workdir / stage).glob(".*")), point
            assert not list((workdir / stage).glob("*/.complete")), point

        report = run_to_end(clip, out, workdir)
        steps = {s["stage"]: s for s in report["steps"]}
        order = [s["stage"] for s in report["steps"]]
        for earlier in order[: order.index(stage)]:
            assert steps[earlier]["cached"], (point, earlier)  # resumed from the cache
        assert steps[stage]["cached"] == (point == "output"), point
        frames, audio = fingerprint(out)
        assert frames == reference_frames, point
        assert audio.shape == reference_audio.shape
        assert np.allclose(audio, reference_audio, atol=1e-4), point
        srt = (out.parent / "talk.hi.srt").read_text(encoding="utf-8")
        assert srt == reference_srt, point


def test_concurrent_runs_sharing_one_cache_all_succeed(tmp_path: Path) -> None:
    """Four CLI runs of one input into one --workdir (like the default ~/.cache/f2f) at once."""
    from mediafactory import make_video

    clip = make_video(tmp_path / "talk.mp4", seconds=2.0, size="160x120", audio="noise")
    for round_ in range(2):  # the race is timing-dependent: two rounds catch it more often
        workdir = tmp_path / f"shared-work-{round_}"
        outs = [tmp_path / f"round{round_}-run{i}" / "talk.hi.mp4" for i in range(4)]
        procs = []
        for out in outs:
            out.parent.mkdir()
            procs.append(subprocess.Popen(translate_cmd(clip, out, workdir), cwd=REPO,
                                          env=cli_env(), stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True))
        errors = [proc.communicate(timeout=RUN_TIMEOUT_S)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0, 0, 0], errors
        prints = [fingerprint(out) for out in outs]
        assert len({frames for frames, _ in prints}) == 1
        assert all(np.allclose(audio, prints[0][1], atol=1e-4) for _, audio in prints)
        for stage in ("audio", "asr", "mt", "tts", "vc", "fit", "lipsync", "mux"):
            assert len(list((workdir / stage).glob("*/.complete"))) == 1, stage


if __name__ == "__main__":  # the CLI with the test backends and stall points installed
    sys.path.insert(0, str(THIS.parent))
    install_stall_points()
    from f2f.cli import main

    sys.exit(main())
