"""The blind rating page, driven over real HTTP against a server in a subprocess.

Two raters rate; the server is SIGKILLed between answers and restarted; nothing is lost, each
rater resumes where they left off, and the summary table comes from the SQLite file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from eval.cli import main
from eval.rating import RatingStore, rating_stats
from mediafactory import make_video

REPO = Path(__file__).resolve().parent.parent
CONDITIONS = ("subtitles", "tts", "tts_vc_lipsync")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(directory: Path, port: int) -> subprocess.Popen[bytes]:
    code = ("import sys; from eval.rating import serve; "
            "serve(sys.argv[1], port=int(sys.argv[2]))")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", code, str(directory), str(port)], cwd=REPO,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1.0)
            return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("rating server did not start in 60 s")


@pytest.fixture()
def rating_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    folder.mkdir()
    manifest = []
    for name in CONDITIONS:
        make_video(folder / f"{name}.mp4", seconds=0.4, size="64x48")
        manifest.append({"condition": name, "description": name, "video": f"{name}.mp4",
                         "clip": "talk", "subtitles": ""})
    (folder / "conditions.json").write_text(json.dumps(manifest))
    return folder


def rate(client: httpx.Client, rater: str, score: int) -> str:
    nxt = client.get("/api/next", params={"rater": rater}).json()
    assert nxt["token"] is not None
    saved = client.post("/api/rate", json={"rater": rater, "token": nxt["token"],
                                           "semantic": score, "experience": score,
                                           "lipsync": score})
    assert saved.status_code == 200, saved.text
    return str(nxt["token"])


def test_two_raters_survive_a_killed_server(rating_dir: Path) -> None:
    port = free_port()
    server = start_server(rating_dir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            page = client.get("/rate", params={"rater": "alice"}).text
            assert "<video" in page and "Video 1 of 3" in page
            assert not any(name in page for name in CONDITIONS)  # blind: no condition names
            video_url = page.split("src='")[1].split("'")[0]
            assert client.get(video_url).content[4:8] == b"ftyp"
            first = rate(client, "alice", 5)
            # the HTML form path, as a browser posts it
            token = client.get("/api/next", params={"rater": "alice"}).json()["token"]
            answer = client.post("/answer", data={"rater": "alice", "token": token,
                                                  "semantic": "4", "experience": "4",
                                                  "lipsync": "3"})
            assert answer.status_code == 303
            rate(client, "bob", 2)
            bad = client.post("/api/rate", json={"rater": "bob", "token": first,
                                                 "semantic": 9, "experience": 1,
                                                 "lipsync": 1})
            assert bad.status_code == 422
            assert client.get("/api/next", params={"rater": "bad id!"}).status_code == 400
    finally:
        server.send_signal(signal.SIGKILL)  # a crash, not a clean shutdown
        server.wait(timeout=10)

    assert len(RatingStore(rating_dir / "ratings.sqlite").rows()) == 3
    server = start_server(rating_dir, port)
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            resumed = client.get("/api/next", params={"rater": "alice"}).json()
            assert resumed["done"] == 2 and resumed["total"] == 3
            assert resumed["token"] != first
            rate(client, "alice", 1)
            assert client.get("/api/next", params={"rater": "alice"}).json()["token"] is None
            assert "Thank you" in client.get("/rate", params={"rater": "alice"}).text
            rate(client, "bob", 3)
            rate(client, "bob", 4)
            summary = client.get("/api/summary").json()
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)

    rows = RatingStore(rating_dir / "ratings.sqlite").rows()
    assert len(rows) == 6 and {r["rater"] for r in rows} == {"alice", "bob"}
    assert all(r["created_at"] > 0 for r in rows)
    stats = rating_stats(rating_dir / "ratings.sqlite")
    assert set(stats) == set(CONDITIONS)
    assert all(stats[c]["experience"].n == 2 for c in CONDITIONS)
    assert summary["tts"]["semantic"]["n"] == 2
    total = sum(s["semantic"].mean * s["semantic"].n for s in stats.values())
    assert total == 5 + 4 + 1 + 2 + 3 + 4


def test_summarize_prints_the_table_and_writes_a_chart(rating_dir: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    from eval.rating import Item, discover_items

    store = RatingStore(rating_dir / "ratings.sqlite")
    items: list[Item] = discover_items(rating_dir)
    for rater, score in (("r1", 3), ("r2", 5)):
        for item in items:
            store.add(rater, item, {"semantic": score, "experience": score, "lipsync": score})
    assert main(["summarize", str(rating_dir)]) == 0
    out = capsys.readouterr().out
    assert "| condition | semantic ↑" in out and "4.00 ± " in out and "n=2" in out
    assert (rating_dir / "ratings.png").stat().st_size > 1000
    saved = json.loads((rating_dir / "ratings_summary.json").read_text())
    assert saved["tts"]["experience"]["mean"] == 4.0
