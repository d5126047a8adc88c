"""The blind rating page: raters score each condition's video 1-5 without knowing which it is.

`python -m f2f eval rate DIR` serves a small FastAPI app on 127.0.0.1. It finds the videos from
the `conditions.json` manifests that `eval conditions` / `eval dataset` write (any folder below
DIR), or else every .mp4 below DIR (condition = file stem, clip = folder). Videos are served under
opaque tokens, in an order shuffled per rater (seeded by the rater id, so a rater who comes back
gets the same order and resumes at the first unrated video). Every answer is one SQLite
transaction committed before the next page is sent: killing the server loses nothing.

Routes: `/` (rater id), `/rate?rater=ID` (the form), `POST /answer` (form post),
`GET /api/next?rater=ID`, `POST /api/rate` (JSON, for scripts and tests), `/api/summary`.
"""

from __future__ import annotations

import hashlib
import html
import logging
import random
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from f2f.errors import ConfigError, MediaError

log = logging.getLogger(__name__)

QUESTIONS: dict[str, str] = {
    "semantic": "Semantic consistency: does the Hindi convey what the speaker means?",
    "experience": "Overall experience: how pleasant and natural is the whole video?",
    "lipsync": "Lip sync: do the lips match the speech you hear?",
}
SCORES = range(1, 6)
DB_NAME = "ratings.sqlite"
_RATER = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


@dataclass(frozen=True)
class Item:
    token: str  # what the page shows instead of names
    clip: str
    condition: str
    video: Path
    subtitles: Path | None = None


def _token(relative: str) -> str:
    return hashlib.sha256(relative.encode("utf-8")).hexdigest()[:16]


def discover_items(directory: str | Path) -> list[Item]:
    """Videos to rate: from conditions.json manifests, else every .mp4 below `directory`."""
    from eval.conditions import load_manifest

    root = Path(directory).resolve()
    if not root.is_dir():
        raise MediaError(f"rating folder not found: {directory}")
    items: list[Item] = []
    manifests = sorted(root.rglob("conditions.json"))
    for manifest in manifests:
        folder = manifest.parent
        for entry in load_manifest(folder):
            video = folder / entry["video"]
            if not video.is_file():
                continue
            subtitles = folder / entry["subtitles"] if entry.get("subtitles") else None
            relative = str(video.relative_to(root))
            clip = str(folder.relative_to(root)) if folder != root else entry.get("clip", "clip")
            items.append(Item(_token(relative), clip, entry["condition"], video,
                              subtitles if subtitles and subtitles.is_file() else None))
    if not manifests:
        for video in sorted(root.rglob("*.mp4")):
            relative = str(video.relative_to(root))
            clip = str(video.parent.relative_to(root)) if video.parent != root else "clip"
            items.append(Item(_token(relative), clip, video.stem, video))
    if not items:
        raise MediaError(f"no videos to rate in {directory}: run `python -m f2f eval "
                         f"conditions INPUT --out {directory}` first")
    return items


# ------------------------------------------------------------------------------ storage


class RatingStore:
    """SQLite file of ratings: one row per (rater, video), committed at once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with self._connect() as db:
            db.execute("""CREATE TABLE IF NOT EXISTS ratings (
                rater TEXT NOT NULL, token TEXT NOT NULL, clip TEXT NOT NULL,
                condition TEXT NOT NULL, semantic INTEGER NOT NULL,
                experience INTEGER NOT NULL, lipsync INTEGER NOT NULL,
                created_at REAL NOT NULL, PRIMARY KEY (rater, token))""")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            db.execute("PRAGMA synchronous=FULL")  # an answered rating survives a power cut
            yield db
            db.commit()
        finally:
            db.close()

    def add(self, rater: str, item: Item, scores: dict[str, int]) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO ratings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (rater, item.token, item.clip, item.condition, scores["semantic"],
                        scores["experience"], scores["lipsync"], time.time()))

    def rated_tokens(self, rater: str) -> set[str]:
        with self._connect() as db:
            rows = db.execute("SELECT token FROM ratings WHERE rater = ?", (rater,)).fetchall()
        return {r[0] for r in rows}

    def rows(self) -> list[dict[str, Any]]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM ratings ORDER BY created_at").fetchall()
        return [dict(r) for r in rows]


def rating_stats(db_path: str | Path) -> dict[str, dict[str, Any]]:
    """Per condition and question: Stats over every rating in the database."""
    from eval.summary import describe

    path = Path(db_path)
    if not path.is_file():
        raise MediaError(f"no ratings database at {path}: nobody has rated yet "
                         f"(`python -m f2f eval rate {path.parent}`)")
    rows = RatingStore(path).rows()
    conditions = sorted({r["condition"] for r in rows})
    return {c: {q: describe(r[q] for r in rows if r["condition"] == c) for q in QUESTIONS}
            for c in conditions}


# ------------------------------------------------------------------------------ web app


def check_rater(rater: str) -> str:
    rater = (rater or "").strip()
    if not _RATER.match(rater):
        raise ConfigError("rater id: 1-64 letters, digits, '.', '_', '-' or '@'")
    return rater


def order_for(rater: str, items: list[Item]) -> list[Item]:
    """The same shuffled order every time this rater comes back."""
    seed = int(hashlib.sha256(rater.encode("utf-8")).hexdigest()[:12], 16)
    shuffled = sorted(items, key=lambda i: i.token)
    random.Random(seed).shuffle(shuffled)
    return shuffled


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            "<style>body{font-family:sans-serif;max-width:760px;margin:2em auto}"
            "video{width:100%;background:#000}fieldset{margin:1em 0}"
            "label{margin-right:1.2em}</style></head>"
            f"<body>{body}</body></html>")


def create_app(directory: str | Path) -> Any:
    """The FastAPI app for the videos under `directory`; ratings go to DIR/ratings.sqlite."""
    from fastapi import Body, FastAPI, Form, HTTPException
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

    root = Path(directory)
    items = discover_items(root)
    by_token = {i.token: i for i in items}
    store = RatingStore(root / DB_NAME)
    app = FastAPI(title="f2f blind rating", docs_url=None, redoc_url=None, openapi_url=None)
    log.info("rating %d videos from %s; answers in %s", len(items), root, store.path)

    def rater_or_400(rater: str) -> str:
        try:
            return check_rater(rater)
        except ConfigError as exc:
            raise HTTPException(400, str(exc)) from exc

    def next_item(rater: str) -> tuple[Item | None, int]:
        done = store.rated_tokens(rater)
        remaining = [i for i in order_for(rater, items) if i.token not in done]
        return (remaining[0] if remaining else None), len(done & set(by_token))

    def parse_scores(values: dict[str, Any]) -> dict[str, int]:
        scores = {}
        for question in QUESTIONS:
            try:
                score = int(values[question])
            except (KeyError, TypeError, ValueError) as exc:
                raise HTTPException(422, f"'{question}' needs a score from 1 to 5") from exc
            if score not in SCORES:
                raise HTTPException(422, f"'{question}' needs a score from 1 to 5")
            scores[question] = score
        return scores

    def save(rater: str, token: str, values: dict[str, Any]) -> None:
        rater = rater_or_400(rater)
        if token not in by_token:
            raise HTTPException(404, "unknown video")
        store.add(rater, by_token[token], parse_scores(values))

    @app.get("/", response_class=HTMLResponse)
    def start() -> str:
        return _page("f2f rating", (
            "<h1>Rate dubbed videos</h1><p>You will see the same talk in several versions, in a "
            "random order. Watch each one with sound and score it from 1 (bad) to 5 (excellent)."
            " You can stop at any time and come back with the same id.</p>"
            "<form action='/rate' method='get'><label>Your rater id "
            "<input name='rater' required pattern='[A-Za-z0-9_.@-]{1,64}'></label> "
            "<button>Start</button></form>"))

    @app.get("/rate", response_class=HTMLResponse)
    def rate(rater: str) -> str:
        rater = rater_or_400(rater)
        item, done = next_item(rater)
        if item is None:
            return _page("Thank you", f"<h1>Thank you</h1><p>All {len(items)} videos rated.</p>")
        track = (f"<track kind='subtitles' src='/subtitles/{item.token}' srclang='hi' "
                 "label='Hindi' default>" if item.subtitles else "")
        fields = "".join(
            f"<fieldset><legend>{html.escape(text)}</legend>" + "".join(
                f"<label><input type='radio' name='{q}' value='{s}' required> {s}</label>"
                for s in SCORES) + "</fieldset>"
            for q, text in QUESTIONS.items())
        return _page("f2f rating", (
            f"<p>Video {done + 1} of {len(items)}</p>"
            f"<video controls preload='auto' src='/video/{item.token}'>{track}</video>"
            f"<form action='/answer' method='post'>"
            f"<input type='hidden' name='rater' value='{html.escape(rater)}'>"
            f"<input type='hidden' name='token' value='{item.token}'>{fields}"
            "<button>Save and continue</button></form>"))

    @app.post("/answer")
    def answer(rater: str = Form(...), token: str = Form(...), semantic: str = Form(""),
               experience: str = Form(""), lipsync: str = Form("")) -> Any:
        save(rater, token, {"semantic": semantic, "experience": experience,
                            "lipsync": lipsync})
        return RedirectResponse(f"/rate?rater={rater}", status_code=303)

    @app.get("/api/next")
    def api_next(rater: str) -> dict[str, Any]:
        rater = rater_or_400(rater)
        item, done = next_item(rater)
        return {"rater": rater, "done": done, "total": len(items),
                "token": item.token if item else None,
                "video": f"/video/{item.token}" if item else None}

    @app.post("/api/rate")
    def api_rate(body: Any = Body(...)) -> Any:
        if not isinstance(body, dict):
            raise HTTPException(400, "expected a JSON object")
        save(str(body.get("rater", "")), str(body.get("token", "")), body)
        return JSONResponse({"saved": True})

    @app.get("/api/summary")
    def api_summary() -> dict[str, Any]:
        from eval.summary import stats_to_dict

        if not store.rows():
            return {}
        return stats_to_dict(rating_stats(store.path))

    @app.get("/video/{token}")
    def video(token: str) -> Any:
        if token not in by_token:
            raise HTTPException(404, "unknown video")
        return FileResponse(by_token[token].video, media_type="video/mp4")

    @app.get("/subtitles/{token}")
    def subtitles(token: str) -> Any:
        item = by_token.get(token)
        if item is None or item.subtitles is None:
            raise HTTPException(404, "no subtitles")
        return FileResponse(item.subtitles, media_type="text/vtt")

    return app


def serve(directory: str | Path, host: str = "127.0.0.1", port: int = 7861) -> None:
    """Runs the page until interrupted. Binds to loopback unless told otherwise."""
    import uvicorn

    app = create_app(directory)
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("rating page bound to %s: anyone on that network can rate", host)
    print(f"rating page: http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
