"""`f2f batch`: four real GRID clips on the local pool and on a local Ray instance.

Each engine's first run has one worker killed mid-run (it must be retried), its outputs must
equal single `translate_video` runs frame for frame, and a rerun must do no work. Light settings
(no voice conversion) keep it cheap; lip sync stays on because the frames are compared.

The comparison dubs each clip with its own audio (a manifest's `dub_audio` column): eSpeak NG's
output depends on what the same process synthesised before (one sentence six times in one
process: six lengths; a fresh process repeats the same sequence), so a worker that speaks two
videos would not match two fresh single runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from f2f import media
from f2f.batch_inputs import collect_items
from f2f.config import load_config
from f2f.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
LIGHT = ["--vc", "none"]


@pytest.fixture(scope="module")
def clips(shared_dir: Path) -> list[Path]:
    found = sorted((shared_dir / "grid").glob("*.mpg"))[:4]
    assert len(found) == 4, f"need four GRID clips in {shared_dir / 'grid'}"
    return found


@pytest.fixture(scope="module")
def singles(clips: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The reference: one `f2f translate` per clip, same light config and thread count (ASR
    word times shift with the number of threads: a reference run with this process's threads
    and batch workers with one each gave subtitles 20 ms apart)."""
    tmp = tmp_path_factory.mktemp("singles")
    outputs = {}
    for clip in clips:
        out = tmp / f"{clip.stem}.hi.mp4"
        result = subprocess.run(
            [sys.executable, "-m", "f2f", "-q", "translate", str(clip), "-o", str(out),
             "--to", "hi", "--dub-audio", str(clip), "--workdir", str(tmp / "work"), *LIGHT],
            capture_output=True, text=True, cwd=REPO, env=_env(), timeout=400)
        assert result.returncode == 0, result.stderr[-3000:]
        outputs[clip.stem] = out
    return outputs


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # never a real cluster
    env["OMP_NUM_THREADS"] = "1"  # references and batch workers compute alike
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env["OMP_NUM_THREADS"] = "1"
    return env


def batch_cli(*args: str | Path, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "f2f", "batch", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO, env=_env(), timeout=timeout)


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return False


def batch_cli_killing_a_worker(*args: str | Path, out: Path, workdir: Path,
                               timeout: float = 400) -> tuple[subprocess.CompletedProcess[str],
                                                              str]:
    """Runs `f2f batch` and SIGKILLs the worker of the first video once its work has begun."""
    proc = subprocess.Popen([sys.executable, "-m", "f2f", "batch", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env=_env(), start_new_session=True)
    victim = ""
    try:
        deadline = time.monotonic() + timeout
        while not victim and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            started = list((workdir / "audio").glob("*/.complete")) if workdir.is_dir() else []
            for attempts in sorted(out.glob("*/.batch_attempts")) if started else []:
                if (attempts.parent / ".batch_done.json").exists():
                    continue
                worker = attempts.read_text().split()[0]
                pid = int(worker.rsplit(":", 1)[1])
                if _descends_from(pid, proc.pid) and pid != proc.pid:  # only our own workers
                    os.kill(pid, signal.SIGKILL)
                    victim = attempts.parent.name
                    break
        stdout, stderr = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert victim, f"no worker was found to kill; stderr: {stderr[-2000:]}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), victim


def _rows(out: Path) -> dict[str, dict]:
    return {r["name"]: r for r in
            json.loads((out / "batch_report.json").read_text(encoding="utf-8"))["videos"]}


def _frames(path: Path) -> np.ndarray:
    info = media.probe(path)
    return np.stack(list(media.iter_frames(path, info.fps, info.width, info.height)))


def _assert_same_as_singles(out: Path, singles: dict[str, Path]) -> None:
    for stem, single in singles.items():
        batch = out / stem / f"{stem}.hi.mp4"
        assert np.array_equal(_frames(batch), _frames(single)), stem
        assert media.read_audio(batch).samples.size == media.read_audio(single).samples.size
        for language in ("en", "hi"):
            assert (batch.with_name(f"{stem}.{language}.srt").read_text(encoding="utf-8")
                    == single.with_name(f"{stem}.{language}.srt").read_text(encoding="utf-8"))


def _snapshot(*folders: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for folder in folders for p in folder.rglob("*")}


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_batch_matches_single_runs_survives_a_killed_worker_and_resumes(
        engine: str, clips: list[Path], singles: dict[str, Path], tmp_path: Path) -> None:
    if engine == "ray":
        pytest.importorskip("ray", reason="pip install 'f2f[ray]'")
    out, work = tmp_path / "out", tmp_path / "work"
    manifest = tmp_path / "clips.csv"
    manifest.write_text("input,dub_audio\n" + "".join(f"{c},{c}\n" for c in clips))
    args = [manifest, "--to", "hi", "--out", out, "--workdir", work, "--engine", engine,
            "--workers", "2", *LIGHT]
    result, victim = batch_cli_killing_a_worker(*args, out=out, workdir=work)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = _rows(out)
    assert [rows[c.stem]["status"] for c in clips] == ["done"] * 4
    assert rows[victim]["attempts"] >= 2, rows[victim]  # the killed attempt was retried
    _assert_same_as_singles(out, singles)

    before = _snapshot(out, work)
    again = batch_cli(*args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert [r["status"] for r in _rows(out).values()] == ["skipped"] * 4
    after = _snapshot(out, work)
    for name in ("batch_report.json", "batch_report.csv"):  # the only files a rerun rewrites
        before.pop(str(out / name)), after.pop(str(out / name))
    assert after == before  # no cache entry, output or marker was written again


def test_manifest_with_a_corrupt_file_finishes_the_others(clips: list[Path],
                                                          tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(0).bytes(4000))
    (tmp_path / "manual.txt").write_text("नमस्ते दोस्तों\n", encoding="utf-8")
    manifest = tmp_path / "videos.csv"
    manifest.write_text("input,translation,face\n"
                        f"{clips[0]},manual.txt,\n"
                        "corrupt.mp4,,\n"
                        f"{clips[1]},,0\n", encoding="utf-8")
    out = tmp_path / "out"
    result = batch_cli(manifest, "--out", out, "--workdir", tmp_path / "work", "--workers", "2",
                       "--lipsync", "none", *LIGHT)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    rows = _rows(out)
    assert rows["corrupt"]["status"] == "failed" and rows["corrupt"]["error_type"] == "MediaError"
    assert str(corrupt) in rows["corrupt"]["error"] and "\n" not in rows["corrupt"]["error"]
    assert rows[clips[0].stem]["status"] == rows[clips[1].stem]["status"] == "done"
    hindi = (out / clips[0].stem / f"{clips[0].stem}.hi.srt").read_text(encoding="utf-8")
    assert "नमस्ते दोस्तों" in hindi  # the manifest's own translation was used
    csv_lines = (out / "batch_report.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_lines) == 4 and "corrupt" in csv_lines[2] and "failed" in csv_lines[2]


def test_two_batches_share_one_cache_at_the_same_time(clips: list[Path],
                                                      tmp_path: Path) -> None:
    """Two processes computing the same stages into one workdir: first writer wins, no mess."""
    work = tmp_path / "work"
    procs = [subprocess.Popen(
        [sys.executable, "-m", "f2f", "batch", str(clips[2]), str(clips[3]), "--out",
         str(tmp_path / f"out{i}"), "--workdir", str(work), "--workers", "1", "--lipsync",
         "none", *LIGHT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env=_env()) for i in range(2)]
    results = [p.communicate(timeout=400) for p in procs]
    for proc, (_, stderr) in zip(procs, results):
        assert proc.returncode == 0, stderr[-3000:]
    for clip in clips[2:]:
        first, second = (tmp_path / f"out{i}" / clip.stem / f"{clip.stem}.hi.srt"
                         for i in range(2))
        assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")
    for stage in ("audio", "asr", "mt", "tts", "fit", "mux"):
        entries = list((work / stage).iterdir())
        assert len(entries) == 2, (stage, entries)  # one per clip, no leftover temp folders
        assert all((e / ".complete").is_file() for e in entries)


# ------------------------------------------------------------------------------ inputs


def test_inputs_from_folders_and_txt_manifests(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "talk.mp4").write_bytes(b"")
    (tmp_path / "a" / "notes.md").write_text("not a video")
    (tmp_path / "list.txt").write_text(
        "# lectures\n\n'a/week 1.mp4' translation=w1.srt face=1\nb/talk.mp4 name=other\n")
    items = collect_items([tmp_path / "a", tmp_path / "b", tmp_path / "list.txt"])
    names = [item.name for item in items]
    assert len(names) == 4 and len(set(names)) == 4  # same stem twice -> distinct folders
    assert names[0].startswith("talk-") and names[1].startswith("talk-")
    week = items[2]
    assert (week.name, week.input, week.translation, week.face) == (
        "week 1", tmp_path / "a" / "week 1.mp4", tmp_path / "w1.srt", 1)
    assert items[3].name == "other"
    assert [i.name for i in collect_items([tmp_path / "a"])] == ["talk"]  # no clash, no suffix


def test_manifest_errors_name_the_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("input,speaker\nx.mp4,bob\n")
    with pytest.raises(ConfigError, match=r"bad\.csv:2: unknown option.*speaker"):
        collect_items([bad])
    faces = tmp_path / "faces.txt"
    faces.write_text("x.mp4 face=left\n")
    with pytest.raises(ConfigError, match=r"faces\.txt:1: face must be"):
        collect_items([faces])


# ------------------------------------------------------------------------------ small parts


def _job(tmp_path: Path, **config: str):
    from f2f.batch import plan_jobs
    from f2f.batch_inputs import BatchItem

    video = tmp_path / "talk.mp4"
    if not video.exists():
        video.write_bytes(b"not really a video")
    item = BatchItem("talk", video)
    return plan_jobs([item], tmp_path / "out", load_config(**config), tmp_path / "work")[0]


def test_a_finished_video_is_skipped_only_while_input_and_config_are_the_same(
        tmp_path: Path) -> None:
    from f2f.batch_jobs import DONE_MARKER, ItemResult, finished_earlier

    job = _job(tmp_path, target_language="hi")
    job.folder.mkdir(parents=True)
    job.output.write_bytes(b"")
    row = ItemResult("talk", str(job.item.input), "done", str(job.output), wall_s=3.0)
    (job.folder / DONE_MARKER).write_text(json.dumps(
        {"fingerprint": job.fingerprint, "row": row.__dict__ | {"warnings": []}}))
    earlier = finished_earlier(job)
    assert earlier is not None and earlier.status == "skipped" and earlier.wall_s == 3.0
    assert finished_earlier(_job(tmp_path, target_language="hi", vc="none")) is None
    job.item.input.write_bytes(b"another video")
    assert finished_earlier(_job(tmp_path, target_language="hi")) is None
    job = _job(tmp_path, target_language="hi")
    for damaged in ({"fingerprint": job.fingerprint}, [1],
                    {"fingerprint": job.fingerprint, "row": {"name": "talk", "gone": 1}}):
        (job.folder / DONE_MARKER).write_text(json.dumps(damaged))
        assert finished_earlier(job) is None  # runs again instead of stopping the batch


def test_a_worker_that_cannot_see_the_shared_folders_says_so(tmp_path: Path) -> None:
    from f2f.batch import run_job

    row = run_job(_job(tmp_path))  # neither OUT/talk nor the workdir exist "on this worker"
    assert row.status == "failed" and row.error_type == "ConfigError"
    assert "shared" in row.error and "not visible" in row.error


def test_ray_tasks_ask_for_a_gpu_only_where_the_cluster_has_one(tmp_path: Path) -> None:
    from f2f.batch_engines import RayEngine

    class FakeRay:
        def __init__(self, gpus: float) -> None:
            self.gpus = gpus

        def cluster_resources(self) -> dict[str, float]:
            return {"CPU": 8.0, "GPU": self.gpus}

    cpu_jobs, gpu_jobs = [_job(tmp_path, device="cpu")], [_job(tmp_path, device="auto")]
    engine = RayEngine()
    assert engine._gpus(FakeRay(2), cpu_jobs) == 0.0
    assert engine._gpus(FakeRay(2), gpu_jobs) == 1.0
    assert engine._gpus(FakeRay(0), gpu_jobs) == 0.0
    assert RayEngine(gpus_per_video=0.5)._gpus(FakeRay(2), gpu_jobs) == 0.5


def test_a_long_video_is_cut_at_silences_and_joined_without_a_seam(clips: list[Path],
                                                                    tmp_path: Path) -> None:
    from f2f.subtitles import read_subtitles

    listing = tmp_path / "clips.txt"
    listing.write_text("".join(f"file '{c}'\n" for c in clips))
    long = tmp_path / "long.mp4"  # four 3 s clips: silences between the sentences
    media.run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c:v", "libx264",
                      "-pix_fmt", "yuv420p", "-c:a", "aac", str(long)], "joining test clips")
    out = tmp_path / "out"
    args = [long, "--out", out, "--workdir", tmp_path / "work", "--workers", "2",
            "--chunk-s", "5", "--lipsync", "none", *LIGHT]
    result = batch_cli(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert _rows(out)["long"]["status"] == "done"
    chunks = sorted((out / "long" / ".chunks").iterdir())
    assert len(chunks) == 2
    cut = media.probe(chunks[0] / "part.hi.mp4").frame_count
    source, joined = media.probe(long), media.probe(out / "long" / "long.hi.mp4")
    assert joined.frame_count == source.frame_count and joined.fps == source.fps
    audio = media.read_audio(out / "long" / "long.hi.mp4")
    assert abs(audio.duration_s - source.frame_count / source.fps) < 0.03

    # frame i of the output is frame i of the source, on both sides of the cut
    ours, theirs = _frames(out / "long" / "long.hi.mp4"), _frames(long)
    aligned = np.abs(ours[cut:].astype(int) - theirs[cut:]).mean()
    shifted = np.abs(ours[cut + 1:].astype(int) - theirs[cut:-1]).mean()
    assert aligned < 3.0 and aligned < shifted, (aligned, shifted)
    # the second chunk's subtitles and speech sit after the cut, where its speech is
    cues = read_subtitles(out / "long" / "long.hi.srt")
    later = [c for c in cues if c.start_s >= cut / source.fps]
    assert later and len(later) < len(cues)
    rate = audio.sample_rate
    for cue in cues:
        spoken = audio.samples[int(cue.start_s * rate): int(cue.end_s * rate)]
        assert np.sqrt(np.mean(spoken ** 2)) > 0.01, cue  # the dub is under its subtitle

    again = batch_cli(*args)
    assert again.returncode == 0 and _rows(out)["long"]["status"] == "skipped"
    # interrupted after the chunks, before the join: the rerun only joins
    (out / "long" / ".batch_done.json").unlink()
    (out / "long" / "long.hi.mp4").unlink()
    before = _snapshot(out / "long" / ".chunks")
    joined_again = batch_cli(*args)
    assert joined_again.returncode == 0 and _rows(out)["long"]["status"] == "done"
    assert _snapshot(out / "long" / ".chunks") == before
    assert media.probe(out / "long" / "long.hi.mp4").frame_count == source.frame_count


def test_cuts_fall_mid_silence_near_each_chunk_length() -> None:
    from f2f.artifacts import Speech
    from f2f.batch_chunks import silence_cuts

    rate, fps = 16000, 25.0
    tone = 0.3 * np.sin(np.linspace(0, 2000 * np.pi, 4 * rate)).astype(np.float32)  # 4 s
    pause = np.zeros(rate, np.float32)  # 1 s
    samples = np.concatenate([tone, pause, tone, pause, tone, pause, tone])  # 19 s
    frames = round(samples.size / rate * fps)
    cuts = silence_cuts(Speech(samples, rate), fps, frames, chunk_s=9.0)
    assert cuts == [round(9.5 * fps)]  # the pause around 9 s; the next would leave < 4.5 s
    assert silence_cuts(Speech(samples, rate), fps, frames, chunk_s=4.0) == [
        round(t * fps) for t in (4.5, 9.5, 14.5)]
    assert silence_cuts(Speech(tone, rate), fps, 100, chunk_s=1.0) == []  # no pause: no cut


def test_a_chunk_is_cut_again_when_its_span_changes(tmp_path: Path) -> None:
    """A rerun with another --chunk-s gives chunk 000 other frames: the old cut is not reused."""
    import dataclasses

    from f2f.batch import plan_jobs
    from f2f.batch_chunks import chunk_source
    from f2f.batch_inputs import BatchItem
    from f2f.config import load_config
    from mediafactory import make_video

    video = make_video(tmp_path / "v.mp4", seconds=2.0)
    job = plan_jobs([BatchItem("v", video)], tmp_path / "out", load_config(), None)[0]
    job.folder.mkdir(parents=True)
    spans = [(0, 20), (0, 30)]
    for span in spans:
        chunk = dataclasses.replace(job, span=span, fingerprint=f"{span[1]:016d}")
        assert media.probe(chunk_source(chunk)).frame_count == span[1] - span[0]
    assert len(list(job.folder.glob("source*.mkv"))) == 1  # the earlier cut is gone
