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
from f2f.errors import F2FError

log = logging.getLogger("f2f")


def _translate_parser(sub: Any) -> None:
    p = sub.add_parser("translate", help="translate a talking-head video",
                       description="English video in; dubbed, lip-synced video out.")
    p.add_argument("input", help="input video file")
    p.add_argument("-o", "--output", help="output .mp4 (default: INPUT_STEM.LANG.mp4 here)")
    add_config_flags(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m f2f",
                                     description="f2f: face-to-face speech translation")
    parser.add_argument("-q", "--quiet", action="store_true", help="only print errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _translate_parser(sub)
    from f2f.batch_cli import add_batch_parser  # light: argparse only

    add_batch_parser(sub)
    b = sub.add_parser("backends", help="list every backend and whether it can run here")
    b.add_argument("--json", action="store_true")
    d = sub.add_parser("download", help="download weights by name (needs network access)")
    d.add_argument("name", nargs="?", help="weights name; omit to list them")
    sub.add_parser("eval", help="evaluation: sync, metrics, conditions, rate, summarize, ablate",
                   add_help=False)
    sub.add_parser("vc", help="voice conversion tools: `vc train SOURCE_DIR TARGET_DIR --out DIR`",
                   add_help=False)
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
                                 progress=progress)
    finally:
        progress.close()
    if not args.quiet:
        report = result.report
        for step in report.steps:
            state = "off" if step.backend == "none" else "cached" if step.cached else \
                f"{step.wall_s:.1f} s"
            print(f"  {step.stage:<8} {step.backend:<15} {state}", file=sys.stderr)
        for warning in report.warnings:
            print(f"  warning: {warning}", file=sys.stderr)
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


def _delegate(module: str, function: str, argv: list[str]) -> int:
    import importlib

    return int(getattr(importlib.import_module(module), function)(argv) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # `eval` and `vc` own their argument parsing; split their arguments off first.
    command_at = next((i for i, a in enumerate(argv) if not a.startswith("-")), None)
    rest: list[str] = []
    if command_at is not None and argv[command_at] in ("eval", "vc"):
        argv, rest = argv[: command_at + 1], argv[command_at + 1:]
    args = parser.parse_args(argv)
    _setup_logging(args.quiet, args.verbose)
    try:
        if args.command == "translate":
            return _translate(args)
        if args.command == "batch":
            from f2f.batch_cli import run_batch_command

            return run_batch_command(args)
        if args.command == "backends":
            return _backends(args)
        if args.command == "download":
            return _download(args)
        if args.command == "eval":
            return _delegate("eval.cli", "main", rest)
        if args.command == "vc":
            if not rest or rest[0] != "train":
                parser.error("usage: python -m f2f vc train SOURCE_DIR TARGET_DIR --out DIR")
            return _delegate("stages.vc.cyclegan", "train_cli", rest[1:])
    except F2FError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; finished stages stay cached", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return 2
