"""The outputs of one run: checked before any work, staged, and shown together at the end.

Every output of a run (video, subtitles, report, config) is first written into one hidden folder
beside the video; only when all of them are complete are they renamed onto their final names.
A failed or interrupted run leaves none of them (and never a subtitle file without its video).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from f2f.cache import pid_alive
from f2f.errors import MediaError


def _same_file(a: Path, b: Path) -> bool:
    """True when `a` and `b` are one file: equal paths, symlinks to it, or hard links."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(outputs: dict[str, Path], inputs: Iterable[str | Path | None]) -> None:
    """Refuses, before any work, outputs that would overwrite an input, clash or be folders."""
    sources = [Path(p) for p in inputs if p]
    seen: dict[Path, str] = {}
    for name, path in outputs.items():
        for source in sources:
            if _same_file(path, source):
                raise MediaError(
                    f"output {path} ({name}) is the input {source}; f2f never writes over an "
                    f"input: choose another -o")
        if path.is_dir():
            raise MediaError(f"output {path} is an existing folder; give -o a file name "
                             f"such as {path / 'out.mp4'}")
        resolved = path.resolve()
        if resolved in seen:
            raise MediaError(f"outputs {seen[resolved]} and {name} would both be {path}")
        seen[resolved] = name


class StagedOutputs:
    """A hidden folder beside the outputs; `commit` moves every file in it onto its final path.

    Creating it is also the check that the output folder is writable, before the first stage.
    """

    def __init__(self, outputs: dict[str, Path]) -> None:
        self.final = dict(outputs)
        video = self.final["video"]
        if not video.parent.is_dir():
            raise MediaError(f"output folder does not exist: {video.parent}")
        _remove_stale(video)
        try:
            self.folder = Path(tempfile.mkdtemp(prefix=f".{video.stem}.f2f-{os.getpid()}-",
                                                dir=video.parent))
        except OSError as exc:
            raise MediaError(f"cannot write to the output folder {video.parent} "
                             f"({exc.strerror}); choose a writable -o") from exc
        os.chmod(self.folder, 0o700)  # unfinished outputs are nobody else's business
        # same file names inside the folder, so suffix-based writers and muxers behave alike
        self.staged = {name: self.folder / path.name for name, path in self.final.items()}

    def commit(self) -> dict[str, Path]:
        """Renames each staged file onto its final path (same folder: one rename each)."""
        done = {}
        for name, staged in self.staged.items():
            if staged.exists():
                os.replace(staged, self.final[name])
                done[name] = self.final[name]
        self.discard()
        return done

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _remove_stale(video: Path) -> None:
    """Staging folders of runs that were killed (their process is gone) for this output."""
    for folder in video.parent.glob(f".{video.stem}.f2f-*-*"):
        pid = folder.name.rsplit(".f2f-", 1)[1].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
