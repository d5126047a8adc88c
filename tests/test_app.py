"""The web app, driven through gradio_client on real GRID clips, and its library helpers.

The server runs in this process (threads), with the real default backends except VC (WORLD
takes ~20 s a clip here; its own tests cover it).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from f2f import media
from f2f.app_support import (
    AppOptions,
    RunOutcome,
    RunRequest,
    SharedPool,
    inside,
    overall_progress,
    rerun_with_translation,
    safe_filename,
    stage_upload,
)
from f2f.config import StageChoice
from f2f.errors import ConfigError, MediaError
from f2f.progress import ProgressEvent
from f2f.registry import register
from f2f.stage import ASRBackend
from mediafactory import make_video

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import gradio  # noqa: E402,F401  (gradio and the test extra's gradio_client are required)
import gradio_client  # noqa: E402

import app as web_app  # noqa: E402

# asr, mt, tts, vc, lipsync (lip sync runs in tests/test_browser.py)
DUB_ONLY = ("faster-whisper", "lexicon", "espeak", "none", "none")
SUBTITLES_ONLY = ("faster-whisper", "lexicon", "none", "none", "none")
MAX_DURATION_S = 5.0
SAFE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    options: AppOptions


class OutboundGuard:
    """Records every connection or name lookup this process makes beyond loopback."""

    LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._connect, self._getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def _check(self, host: Any) -> None:
        if isinstance(host, str) and not host.startswith(self.LOOPBACK):
            self.attempts.append(host)

    def __enter__(self) -> OutboundGuard:
        guard = self

        def connect(sock: socket.socket, address: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                guard._check(address[0])
            return guard._connect(sock, address)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            guard._check(host)
            return guard._getaddrinfo(host, *args, **kwargs)

        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        socket.socket.connect = self._connect  # type: ignore[method-assign]
        socket.getaddrinfo = self._getaddrinfo  # type: ignore[assignment]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, grid_dir: Path) -> Any:
    options = AppOptions(port=free_port(), concurrency=4, max_duration_s=MAX_DURATION_S,
                         max_upload_mb=5.0, runs_root=tmp_path_factory.mktemp("runs"),
                         examples_dir=grid_dir, defaults={"vc": "none"})
    # gradio_client (the test's "user", not the app) reads this switch when huggingface_hub is
    # first imported, which happens at collection, before conftest sets the variable
    import huggingface_hub.constants as hub_constants
    telemetry_was = hub_constants.HF_HUB_DISABLE_TELEMETRY
    hub_constants.HF_HUB_DISABLE_TELEMETRY = True
    with OutboundGuard() as guard:
        app, url = web_app.serve(options)
        yield Server(url, options)
        app.close()
    hub_constants.HF_HUB_DISABLE_TELEMETRY = telemetry_was
    assert not guard.attempts, f"the app reached beyond loopback: {guard.attempts}"


def client(server: Server) -> Any:
    return gradio_client.Client(server.url, verbose=False, download_files=True)


def translate(server: Server, video: Path, stages: tuple[str, ...] = DUB_ONLY,
              session: Any = None) -> tuple[Any, ...]:
    session = session or client(server)
    return tuple(session.predict(gradio_client.handle_file(str(video)), "hi", *stages, None, None,
                                 api_name="/translate"))


def app_error(server: Server, video: Path, stages: tuple[str, ...] = SUBTITLES_ONLY) -> str:
    with pytest.raises(gradio_client.exceptions.AppError) as caught:
        translate(server, video, stages)
    return str(caught.value)


# ------------------------------------------------------------------------------ helpers


@pytest.mark.parametrize("name, expected", [
    ("talk.mp4", "talk.mp4"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("my talk; rm -rf ~.MP4", "my_talk_rm_-rf.mp4"),
    ("'quoted' \"name\" $(id) `id`.mov", "quoted_name_id_id.mov"),
    ("..", "input"),
    ("", "input"),
    (".hidden", "input.hidden"),
    ("वीडियो.mp4", "input.mp4"),
    ("a" * 300 + ".mp4", "a" * 76 + ".mp4"),
])
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_uploads_stay_in_the_run_folder(tmp_path: Path) -> None:
    uploads, run_dir = tmp_path / "uploads", tmp_path / "run"
    uploads.mkdir()
    run_dir.mkdir()
    hostile = uploads / "a b 'c' \"d\"; touch PWNED; $(touch PWNED2).mp4"
    hostile.write_bytes(b"data")
    staged = stage_upload(hostile, run_dir, "video", max_mb=1)
    assert inside(run_dir, staged) and staged.read_bytes() == b"data"
    assert set(staged.name) <= SAFE_CHARS
    assert not any(p.name.startswith("PWNED") for p in tmp_path.rglob("*"))
    big = uploads / "big.mp4"
    big.write_bytes(b"\0" * 1_500_000)
    with pytest.raises(MediaError, match="over the upload limit of 1 MB"):
        stage_upload(big, run_dir, "video", max_mb=1)
    assert not inside(run_dir, tmp_path / "run" / ".." / "uploads" / "big.mp4")



def _finished_run(run_dir: Path, translation: str) -> RunOutcome:
    return RunOutcome(RunRequest(run_dir / "inputs" / "v.mp4"), run_dir, run_dir / "v.mp4", "",
                      translation, None, None, (), {}, "")


def test_rerun_refuses_a_cleaned_up_run_or_blank_lines_clearly(tmp_path: Path) -> None:
    options = AppOptions(runs_root=tmp_path)
    never_called = None  # both refusals come before any stage runs
    pruned = _finished_run(tmp_path / "run-gone", "एक\nदो")
    with pytest.raises(MediaError, match="cleaned up"):
        rerun_with_translation(pruned, "एक\nतीन", options, never_called, print)
    (tmp_path / "run-kept" / "inputs").mkdir(parents=True)
    kept = _finished_run(tmp_path / "run-kept", "एक\nदो\nतीन")
    with pytest.raises(ConfigError, match="line.s. 2 of the edited translation are empty"):
        rerun_with_translation(kept, "एक\n\nतीन", options, never_called, print)
    assert not list((tmp_path / "run-kept" / "inputs").iterdir())

class _Entered:
    now = 0
    most = 0
    lock = threading.Lock()


@register
class SlowCountingASR(ASRBackend):
    """Counts how many threads are inside transcribe at once."""

    name = "app-test-slow-asr"

    def transcribe(self, audio, language, progress):
        with _Entered.lock:
            _Entered.now += 1
            _Entered.most = max(_Entered.most, _Entered.now)
        time.sleep(0.05)
        self.metrics = {"caller": threading.get_ident()}
        with _Entered.lock:
            _Entered.now -= 1
        return threading.get_ident()


def test_shared_pool_serialises_a_backend_and_keeps_metrics_per_run() -> None:
    pool = SharedPool()
    views = [pool.get("asr", StageChoice("app-test-slow-asr"), "cpu") for _ in range(4)]
    with ThreadPoolExecutor(4) as workers:
        callers = list(workers.map(lambda view: view.transcribe(None, "en", None), views))
    assert _Entered.most == 1  # never two threads in one model at once
    assert [view.metrics["caller"] for view in views] == callers  # each run its own metrics
    assert views[0]._shared is views[1]._shared  # one model per process


def test_progress_covers_the_run_in_order() -> None:
    stages = ["audio", "asr", "mt", "tts", "vc", "fit", "lipsync", "mux"]
    points = [overall_progress(ProgressEvent(s, f))[0] for s in stages for f in (0.0, 0.5, 1.0)]
    assert points == sorted(points) and points[0] == 0.0 and points[-1] == 1.0
    assert overall_progress(ProgressEvent("asr", 0.5, "decoding"))[1] == "asr: decoding"


def test_loopback_by_default() -> None:
    options = web_app.parse_args([])
    assert options.host == "127.0.0.1"
    kwargs = web_app.launch_kwargs(options)
    assert kwargs["share"] is False and kwargs["ssr_mode"] is False


# ------------------------------------------------------------------------------ the served app


def test_client_translates_a_grid_clip_and_reruns_an_edit(server: Server,
                                                          grid_clip: Path) -> None:
    session = client(server)
    status, video, transcript, translation, tts_audio, vc_audio, files, report = translate(
        server, grid_clip, DUB_ONLY, session)
    info = media.probe(video)
    assert info.video_codec == "h264" and info.fps == 25.0 and info.has_audio
    assert info.frame_count >= 75  # 3 s at 25 fps, plus freeze frames if speech needed them
    audio = media.read_audio(video)
    assert abs(audio.duration_s - info.frame_count / info.fps) < 0.05
    assert np.sqrt(np.mean(audio.samples ** 2)) > 1e-3  # a dub, not silence
    assert "blue" in transcript.lower() or "blu" in transcript.lower(), transcript
    assert translation.strip() and any("\u0900" <= ch <= "\u097f" for ch in translation)
    assert tts_audio and media.read_audio(tts_audio).duration_s > 0.3 and vc_audio is None
    assert {Path(f).suffix for f in files} >= {".srt", ".vtt", ".json", ".toml"}
    assert [s["stage"] for s in report["steps"] if s["backend"] != "none"] == [
        "audio", "asr", "mt", "tts", "fit", "mux"]
    assert "Done" in status
    assert inside(server.options.runs_root, Path(report["output"]))

    edited = "नमस्ते दुनिया\n" * len(translation.splitlines())
    again = session.predict(edited, api_name="/rerun")
    steps = {s["stage"]: s for s in again[-1]["steps"]}
    assert steps["asr"]["cached"] and steps["mt"]["backend"] == "manual"
    assert "नमस्ते" in again[3] and media.probe(again[1]).frame_count >= 75
    assert Path(again[-1]["output"]).parent == Path(report["output"]).parent  # same run folder

    with pytest.raises(gradio_client.exceptions.AppError, match="one line per segment"):
        session.predict(edited + "one line too many\n", api_name="/rerun")


def test_manual_translation_and_dub_audio_uploads(server: Server, grid_clip: Path,
                                                  tmp_path: Path) -> None:
    srt = tmp_path / "my translation.srt"
    srt.write_text("1\n00:00:00,200 --> 00:00:01,400\nबिन नीला\n\n"
                   "2\n00:00:01,500 --> 00:00:02,800\nएफ दो अभी\n", encoding="utf-8")
    dub = make_video(tmp_path / "hindi voice.mp4", seconds=2.5, size="64x48", audio="sine")
    result = gradio_client.Client(server.url, verbose=False).predict(
        gradio_client.handle_file(str(grid_clip)), "hi", "none", "lexicon", "espeak", "none",
        "none", gradio_client.handle_file(str(srt)), gradio_client.handle_file(str(dub)),
        api_name="/translate")
    assert result[3].splitlines() == ["बिन नीला", "एफ दो अभी"]
    steps = {s["stage"]: s["backend"] for s in result[-1]["steps"]}
    assert steps["asr"] == "none" and steps["mt"] == "manual" and steps["fit"] == "manual"
    info = media.probe(result[1])
    assert info.frame_count == 75 and abs(media.read_audio(result[1]).duration_s - 3.0) < 0.05


def test_four_simultaneous_requests_get_their_own_results(server: Server,
                                                          grid_dir: Path) -> None:
    clips = [grid_dir / name for name in
             ("bbaf2n.mpg", "lbbc2a.mpg", "lwbsza.mpg", "sbwe5n.mpg")]
    with ThreadPoolExecutor(4) as workers:
        results = list(workers.map(lambda clip: translate(server, clip, DUB_ONLY), clips))
    outputs = [Path(r[-1]["output"]) for r in results]
    assert len({p.parent for p in outputs}) == 4  # four run folders
    assert len({r[2] for r in results}) == 4  # four different transcripts
    for clip, result in zip(clips, results, strict=True):
        assert Path(result[-1]["input"]).name == clip.name
        info = media.probe(result[1])
        assert info.frame_count >= 75 and info.has_audio
    # each output shows its own input's picture (lip sync off: frames pass through)
    first_frames = [next(media.iter_frames(c, 25, 360, 288)).astype(np.float32) for c in clips]
    for index, result in enumerate(results):
        out = next(media.iter_frames(result[1], 25, 360, 288)).astype(np.float32)
        distances = [np.abs(out - frame).mean() for frame in first_frames]
        assert int(np.argmin(distances)) == index, distances


def test_hostile_upload_name_stays_in_its_run_folder(server: Server, grid_clip: Path,
                                                     tmp_path: Path) -> None:
    hostile = tmp_path / "my talk; touch PWNED 'q' \"dq\" $(touch PWNED2).mpg"
    hostile.write_bytes(grid_clip.read_bytes())
    result = translate(server, hostile, SUBTITLES_ONLY)
    staged = Path(result[-1]["input"])
    assert inside(server.options.runs_root, staged) and staged.parent.name == "inputs"
    assert set(staged.name) <= SAFE_CHARS
    for folder in (REPO, tmp_path, server.options.runs_root, Path.cwd()):
        assert not list(folder.rglob("PWNED*")), folder


def test_bad_inputs_show_a_clear_message(server: Server, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 50)
    message = app_error(server, text)
    assert "not a readable video" in message and "notes.mp4" in message
    assert str(server.options.runs_root) not in message  # no server paths in the page
    long_clip = make_video(tmp_path / "long.mp4", seconds=MAX_DURATION_S + 1, size="64x48")
    assert "over the limit" in app_error(server, long_clip)
    mute = make_video(tmp_path / "mute.mp4", seconds=1.0, size="64x48", audio=None)
    assert "no audio track" in app_error(server, mute)
    silent = make_video(tmp_path / "silent.mp4", seconds=1.0, size="64x48", audio="silence")
    assert "silent" in app_error(server, silent)
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * 6_000_000)  # over the server's 5 MB upload limit
    with pytest.raises(Exception, match="(?i)size|large|limit"):
        translate(server, big, SUBTITLES_ONLY)
