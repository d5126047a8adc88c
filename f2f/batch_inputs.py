"""What a batch translates: video files, folders of videos, and manifests with per-video options.

A manifest is a `.txt` file (one video a line, then `key=value` options, `#` comments) or a
`.csv` file with a header row (`input` plus any option columns):

    # lectures.txt
    week1.mp4
    week2.mp4 translation=week2.hi.srt face=1

    input,translation,face
    week1.mp4,,
    week2.mp4,week2.hi.srt,1

Options: `translation` (manual translation, .txt or .srt), `dub_audio` (manual dub), `face`
(which face to lip-sync), `name` (the output folder). Relative paths are read from the
manifest's folder.
"""

from __future__ import annotations

import csv
import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path

from f2f.errors import ConfigError, MediaError

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".mpg", ".mpeg", ".webm", ".m4v")
MANIFEST_SUFFIXES = (".txt", ".csv")
OPTIONS = ("translation", "dub_audio", "face", "name")


@dataclass(frozen=True)
class BatchItem:
    """One video of a batch and its own options; `name` is its output folder."""

    name: str
    input: Path
    translation: Path | None = None
    dub_audio: Path | None = None
    face: int | None = None


def collect_items(inputs: list[str | Path]) -> list[BatchItem]:
    """Files, folders (their videos, sorted) and manifests -> items with unique names."""
    items: list[BatchItem] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            videos = sorted(p for p in path.iterdir()
                            if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
            if not videos:
                raise MediaError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) in folder {path}")
            items += [BatchItem(p.stem, p) for p in videos]
        elif path.suffix.lower() in MANIFEST_SUFFIXES:
            if not path.is_file():
                raise MediaError(f"manifest not found: {path}")
            items += read_manifest(path)
        else:  # a missing or unreadable video fails alone when it runs, with its own error
            items.append(BatchItem(path.stem, path))
    if not items:
        raise ConfigError("batch: no inputs given (files, folders or a .txt/.csv manifest)")
    return _unique_names(items)


def read_manifest(path: Path) -> list[BatchItem]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        where = [f"{path}:{i + 2}" for i in range(len(rows))]
        fields = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in rows]
    else:
        fields, where = [], []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                first, *options = shlex.split(line)
            except ValueError as exc:
                raise ConfigError(f"{path}:{number}: {exc}") from exc
            row = {"input": first}
            for option in options:
                key, sep, value = option.partition("=")
                if not sep:
                    raise ConfigError(f"{path}:{number}: expected key=value, got {option!r}")
                row[key] = value
            fields.append(row)
            where.append(f"{path}:{number}")
    return [_item(row, path.parent, place) for row, place in zip(fields, where)]


def _item(row: dict[str, str], base: Path, where: str) -> BatchItem:
    row = dict(row)
    video = row.pop("input", "") or row.pop("path", "")
    if not video:
        raise ConfigError(f"{where}: no input video (a manifest row needs an 'input' column)")
    unknown = sorted(k for k in row if k not in OPTIONS)
    if unknown:
        raise ConfigError(f"{where}: unknown option(s) {', '.join(unknown)}; "
                          f"known: input, {', '.join(OPTIONS)}")

    def file(key: str) -> Path | None:
        value = row.get(key, "")
        return (base / value) if value else None

    face = row.get("face", "")
    if face and not face.isdigit():
        raise ConfigError(f"{where}: face must be a face index (0 = largest), got {face!r}")
    input_path = base / video
    return BatchItem(row.get("name") or input_path.stem, input_path, file("translation"),
                     file("dub_audio"), int(face) if face else None)


def _unique_names(items: list[BatchItem]) -> list[BatchItem]:
    """Two inputs with one stem get a suffix from their path, stable across reruns."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item.name] = counts.get(item.name, 0) + 1
    unique, seen = [], set()
    for item in items:
        name = item.name
        if counts[name] > 1:
            digest = hashlib.sha256(str(item.input.resolve()).encode()).hexdigest()[:6]
            name = f"{name}-{digest}"
        if name in seen:
            raise ConfigError(f"batch: {item.input} is listed twice under the name {name!r}; "
                              f"give one of them another name (manifest column 'name')")
        seen.add(name)
        unique.append(BatchItem(name, item.input, item.translation, item.dub_audio, item.face))
    return unique
