"""`python -m f2f ...`: a thin layer that builds a config and calls one library function."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from f2f.cli_config import add_config_flags, config_from_args
from f2f.commands import SubCommand, provided_commands
from f2f.errors import F2FError, run_command

log = logging.getLogger("f2f")


def _translate_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("translate", parents=[common], help="translate a talking-head video",
                       description="English video in; dubbed, lip-synced video out.")
    p.add_argument("input", help="input video file")
    p.add_argument("-o", "--output", help="output .mp4 (default: INPUT_STEM.LANG.mp4 here)")
    add_config_flags(p)


def _common_flags(parser: argparse.ArgumentParser, default: Any) -> None:
    """-q/-v/--debug, accepted before the command and after it (README lists them as options)."""
    parser.add_argument("-q", "--quiet", action="store_true", default=default,
                        help="only print errors")
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help="debug logging")
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show tracebacks on errors (the exit code stays the documented one)")


def build_parser(provided: dict[str, SubCommand] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m f2f",
                                     description="f2f: face-to-face speech translation")
    _common_flags(parser, False)
    # after the command, SUPPRESS keeps a flag given before it from being reset to False
    common = argparse.ArgumentParser(add_help=False)
    _common_flags(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _translate_parser(sub, common)
    from f2f.batch_cli import add_batch_parser  # light: argparse only

    add_batch_parser(sub)
    b = sub.add_parser("backends", parents=[common],
                       help="list every backend and whether it can run here")
    b.add_argument("--json", action="store_true")
    d = sub.add_parser("download", parents=[common],
                       help="download weights by name (needs network access)")
    d.add_argument("name", nargs="?", help="weights name; omit to list them")
    c = sub.add_parser("cache", parents=[common], help="where the cache is, its size; trim it",
                       description="Shows the stage cache's folder and size; --clear and "
                                   "--older-than remove entries (never one a running job uses).")
    c.add_argument("--workdir", help="the cache folder (default: ~/.cache/f2f/cache)")
    c.add_argument("--clear", action="store_true", help="remove every entry")
    c.add_argument("--older-than", metavar="AGE",
                   help="remove entries last used longer ago than AGE, e.g. 7d, 12h, 30m")
    c.add_argument("--max-gb", type=float, metavar="GB",
                   help="remove least recently used entries until the cache fits GB")
    # commands of other packages parse their own arguments (f2f/commands.py)
    for command in (provided_commands() if provided is None else provided).values():
        sub.add_parser(command.name, parents=[common], help=command.help, add_help=False)
    return parser


def _setup_logging(quiet: bool, verbose: bool) -> None:
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname).1s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for name in ("f2f", "stages", "lipgan", "eval"):
        logging.getLogger(name).setLevel(level)


class _TqdmProgress:
    """One tqdm bar per stage, in order."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._stage = ""

    def __call__(self, event: Any) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if event.stage != self._stage:
            self.close()
            self._stage = event.stage
            self._bar = tqdm(total=100, desc=f"{event.stage:>8}", unit="%", leave=True,
                             bar_format="{desc} {bar} {percentage:3.0f}% {elapsed} {postfix}",
                             file=sys.stderr)
        self._bar.n = int(round(event.fraction * 100))
        if event.message:
            self._bar.set_postfix_str(event.message[:40], refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _translate(args: argparse.Namespace) -> int:
    from f2f.pipeline import translate_video

    config = config_from_args(args)
    source = Path(args.input)
    output = (Path(args.output) if args.output
              else Path(f"{source.stem}.{config.target_language}.mp4"))
    progress = _TqdmProgress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        result = translate_video(source, output, config, workdir=args.workdir,
                                 use_cache=not args.no_cache, refresh=tuple(args.refresh),
                                 progress=progress,
                                 protect=tuple(p for p in (args.config,) if p))
    finally:
        progress.close()
    if not args.quiet:
        report = result.report
        for step in report.steps:
            state = "off" if step.backend == "none" else "cached" if step.cached else \
                f"{step.wall_s:.1f} s"
            print(f"  {step.stage:<8} {step.backend:<15} {state}", file=sys.stderr)
        print(f"wrote {output} ({report.total_wall_s:.1f} s); report: "
              f"{result.outputs['report']}", file=sys.stderr)
    return 0


def _backends(args: argparse.Namespace) -> int:
    from f2f.registry import all_backends

    rows = []
    for cls in all_backends():
        try:
            status = cls().availability()
        except F2FError as exc:
            from f2f.stage import Availability

            status = Availability(False, str(exc))
        rows.append({"kind": cls.kind, "name": cls.name, "available": status.ok,
                     "reason": status.reason, "weights": status.weights,
                     "note": cls.quality_note})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for row in rows:
        mark = "yes" if row["available"] else "no "
        detail = row["weights"] if row["available"] else row["reason"]
        print(f"{row['kind']:<8} {row['name']:<15} {mark}  {detail}")
    return 0


def _download(args: argparse.Namespace) -> int:
    from f2f.registry import all_backends
    from f2f.weights import download

    specs = {spec.name: spec for cls in all_backends() for spec in cls.weights_specs()}
    if not args.name:
        for name in sorted(specs):
            print(name)
        return 0
    if args.name not in specs:
        from f2f.errors import ConfigError

        raise ConfigError(f"unknown weights '{args.name}'; known: {', '.join(sorted(specs))}")
    print(download(specs[args.name]))
    return 0


_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> float:
    """'7d', '12h', '30m', '90s' or plain seconds -> seconds."""
    from f2f.errors import ConfigError

    text = text.strip().lower()
    unit = _AGE_UNITS.get(text[-1:], 0)
    number = text[:-1] if unit else text
    try:
        value = float(number) * (unit or 1)
    except ValueError as exc:
        raise ConfigError(f"--older-than takes an age such as 7d, 12h or 30m, got {text!r}"
                          ) from exc
    if value < 0:
        raise ConfigError(f"--older-than must not be negative, got {text!r}")
    return value


def _cache(args: argparse.Namespace) -> int:
    from f2f.cache import Cache
    from f2f.config import LimitsConfig
    from f2f.pipeline import default_workdir

    cache = Cache(Path(args.workdir) if args.workdir else default_workdir())
    removed = []
    if args.clear:
        removed = cache.trim(max_bytes=0)
    elif args.older_than or args.max_gb is not None:
        removed = cache.trim(max_bytes=None if args.max_gb is None else args.max_gb * 1e9,
                             older_than_s=parse_age(args.older_than) if args.older_than
                             else None)
    if removed:
        freed = sum(e.size_bytes for e in removed) / 1e6
        print(f"removed {len(removed)} entries ({freed:.1f} MB)")
    entries = cache.entries()
    print(f"cache: {cache.root}")
    print(f"size: {cache.size_bytes() / 1e6:.1f} MB in {len(entries)} entries "
          f"(cap {LimitsConfig().cache_max_gb:g} GB, --set limits.cache_max_gb=GB)")
    for kind in sorted({e.kind for e in entries}):
        mine = [e for e in entries if e.kind == kind]
        print(f"  {kind:<8} {len(mine):>4} entries {sum(e.size_bytes for e in mine) / 1e6:9.1f} MB")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    provided = provided_commands()
    parser = build_parser(provided)
    # provided commands own their argument parsing; split their arguments off first.
    command_at = next((i for i, a in enumerate(argv) if not a.startswith("-")), None)
    rest: list[str] = []
    if command_at is not None and argv[command_at] in provided:
        argv, rest = argv[: command_at + 1], argv[command_at + 1:]
    # -q/-v/--debug may follow `eval`/`vc` too; they are ours, not theirs
    flags = [a for a in rest if a in ("-q", "--quiet", "-v", "--verbose", "--debug")]
    rest = [a for a in rest if a not in flags]
    args = parser.parse_args(argv + flags)
    _setup_logging(args.quiet, args.verbose)
    return run_command(lambda: _dispatch(parser, args, rest, provided), debug=args.debug)


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace, rest: list[str],
              provided: dict[str, SubCommand]) -> int:
    if args.command == "translate":
        return _translate(args)
    if args.command == "batch":
        from f2f.batch_cli import run_batch_command

        return run_batch_command(args)
    if args.command == "backends":
        return _backends(args)
    if args.command == "download":
        return _download(args)
    if args.command == "cache":
        return _cache(args)
    if args.command in provided:
        return provided[args.command].run(rest)
    parser.error(f"unknown command {args.command}")
    return 2
