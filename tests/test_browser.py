"""The page in a real headless browser: upload a GRID clip, translate, see the video.

Uses Debian's `chromium` (scripts/install.sh --test installs it) driven by Playwright; skipped
with a reason when either is missing. The screenshot lands in test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse


from f2f import media
from f2f.app_support import AppOptions
from f2f.media import run_ffmpeg

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

import playwright.sync_api as sync_api  # noqa: E402  (the test extra: required)

import app as web_app  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_page_translates_an_uploaded_clip(tmp_path: Path, grid_clip: Path) -> None:
    assert Path(CHROMIUM).is_file(), ("Debian chromium is missing: bash scripts/install.sh "
                                      "--test installs it (apt-get install chromium)")
    upload = tmp_path / "grid talk.mp4"  # what users upload: an MP4 the browser can preview
    run_ffmpeg(["-i", str(grid_clip), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                str(upload)], "making the upload")
    options = AppOptions(port=free_port(), runs_root=tmp_path / "runs",
                         examples_dir=grid_clip.parent,
                         defaults={"vc": "none", "lipsync": "viseme"})
    app, url = web_app.serve(options)
    requested: list[str] = []
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1100})
                page.on("request", lambda request: requested.append(request.url))
                page.goto(url, wait_until="load")
                page.locator("#translate").wait_for(timeout=60_000)
                assert "f2f" in page.title()
                page.locator("#video-in input[type=file]").set_input_files(str(upload))
                page.locator("#video-in video").wait_for(timeout=30_000)  # upload finished
                page.locator("#translate").click()
                video = page.locator("#video-out video")
                video.wait_for(timeout=180_000)
                page.wait_for_function(
                    "() => { const v = document.querySelector('#video-out video');"
                    " return v && v.readyState >= 1 && v.duration > 0; }", timeout=30_000)
                duration_s = float(video.evaluate("v => v.duration"))
                page.locator("#status").get_by_text("Done").wait_for(timeout=10_000)
                ARTIFACTS.mkdir(exist_ok=True)
                shot = ARTIFACTS / "app_translated.png"
                page.screenshot(path=str(shot), full_page=True)
                source = video.get_attribute("src") or ""
            finally:
                browser.close()
    finally:
        app.close()
    assert abs(duration_s - 3.0) < 0.5  # the browser decoded the translated 3 s clip
    assert source and shot.stat().st_size > 10_000
    outputs = list((tmp_path / "runs").glob("run-*/outputs/grid_talk.hi.mp4"))
    assert len(outputs) == 1 and media.probe(outputs[0]).video_codec == "h264"
    outside = [u for u in requested
               if urlparse(u).scheme not in ("data", "blob")
               and urlparse(u).hostname not in LOCAL_HOSTS]
    assert requested and not outside, outside
