"""`python -m f2f eval ...`: sync, metrics, conditions, dataset, rate, summarize, ablate.

Thin: each subcommand parses its flags and calls one library function of `eval/`.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from f2f.errors import ConfigError, F2FError, MediaError, run_command

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".mpg", ".mov", ".mkv", ".webm", ".avi", ".m4v"}


def _pipeline_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", dest="target_language", default="hi", metavar="LANG")
    p.add_argument("--config", metavar="TOML", help="pipeline configuration file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="pipeline setting for every condition, e.g. --set lipsync=wav2lip")
    p.add_argument("--workdir", help="shared cache (default: OUT/.cache)")
    p.add_argument("--translation", metavar="FILE", help="manual translation (.txt or .srt)")
    p.add_argument("--expert", metavar="CHECKPOINT",
                   help="SyncNet expert for LSE-D/LSE-C (default: the judge shipped in "
                        "eval/data/; a lipsync_expert.pth or our trained expert; none = off)")
    p.add_argument("--roundtrip-asr", metavar="BACKEND",
                   help="ASR backend that understands the target language (round-trip CER)")
    p.add_argument("--no-sync", action="store_true", help="skip the weights-free sync measure")
    p.add_argument("--no-speech", action="store_true",
                   help="skip speaker similarity / MCD / F0 against the original voice")
    p.add_argument("--reference-text", help="what the input says (for ASR WER/CER)")
    p.add_argument("--reference-translation", help="a human translation (for chrF/BLEU)")
    p.add_argument("--references", metavar="TSV",
                   help="references by file name: a TSV with a file/path column and "
                        "transcript (and optionally translation) columns, e.g. "
                        "shared/data/grid/transcripts.tsv")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m f2f eval",
                                     description="evaluate f2f outputs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("sync", help="weights-free loudness-correlation extra (the verdict is LSE)",
                   add_help=False)

    m = sub.add_parser("metrics", help="automatic metrics on videos (and references)")
    m.add_argument("outputs", nargs="+", help="output videos or folders of them")
    m.add_argument("--reference-dir", help="folder of reference videos with the same file "
                                           "stems (original speaker, same frames)")
    m.add_argument("--reconstruct", action="store_true",
                   help="PSNR/SSIM/LMD against the reference of the same stem (videos redrawn "
                        "from their own audio: the LipGAN LRW protocol)")
    m.add_argument("--expert", metavar="CHECKPOINT",
                   help="SyncNet expert for LSE-D/LSE-C (default: the shipped judge; none = off)")
    m.add_argument("--mt-testset", metavar="TSV",
                   help="score an MT backend on a TSV with en and hi columns "
                        "(e.g. shared/data/tico19/en_hi_40.tsv)")
    m.add_argument("--mt", default=None, help="MT backend for --mt-testset (default: config's)")
    m.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.add_argument("--out", help="also write the JSON here")

    c = sub.add_parser("conditions", help="the six conditions of the paper for one video")
    c.add_argument("input", help="input video")
    c.add_argument("--out", required=True, help="output folder")
    c.add_argument("--manual-audio", metavar="FILE",
                   help="a human Hindi dub (conditions 5 and 6; skipped without it)")
    c.add_argument("--conditions", nargs="+", metavar="NAME",
                   help="which conditions (names or 1-6; default: all, plus --conditions-file)")
    c.add_argument("--conditions-file", metavar="TOML|JSON", help="user-defined conditions")
    _pipeline_flags(c)

    d = sub.add_parser("dataset", help="conditions over many clips, aggregated with 95%% CI")
    d.add_argument("clips", nargs="+", help="videos or folders of videos")
    d.add_argument("--out", required=True)
    d.add_argument("--manual-audio-dir", help="folder with a dub per clip (same file stem)")
    d.add_argument("--conditions", nargs="+", metavar="NAME")
    d.add_argument("--conditions-file", metavar="TOML|JSON")
    d.add_argument("--limit", type=int, help="at most this many clips")
    _pipeline_flags(d)

    r = sub.add_parser("rate", help="serve the blind rating page on 127.0.0.1")
    r.add_argument("directory")
    r.add_argument("--port", type=int, default=7861)
    r.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")

    t = sub.add_parser("mt", help="chrF, chrF++ and BLEU of an MT backend on an en/hi TSV")
    t.add_argument("tsv", help="tab-separated file with en and hi columns (FLORES, TICO-19)")
    t.add_argument("--mt", dest="backend", help="MT backend (default: the configured one)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    t.add_argument("--worst", type=int, default=5, help="how many worst sentences to show")
    t.add_argument("--json", action="store_true", help="print JSON")

    s = sub.add_parser("summarize", help="paper-style table of the ratings in DIR")
    s.add_argument("directory")
    s.add_argument("--json", action="store_true")

    a = sub.add_parser("ablate", help="a grid of stage choices, every metric per cell")
    a.add_argument("input")
    a.add_argument("--out", required=True)
    a.add_argument("--vary", action="append", required=True, metavar="KEY=A,B,...",
                   help="e.g. --vary lipsync=none,viseme,wav2lip (repeatable)")
    _pipeline_flags(a)
    return parser


# ------------------------------------------------------------------------------ helpers


def read_references(path: str | Path) -> dict[str, dict[str, str]]:
    """TSV rows keyed by file name and by stem: {'bbaf2n': {'transcript': ...}, ...}."""
    table: dict[str, dict[str, str]] = {}
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                name = row.get("file") or row.get("path") or row.get("name") or ""
                if name:
                    table[Path(name).name] = row
                    table[Path(name).stem] = row
                    table[name] = row
    except OSError as exc:
        raise ConfigError(f"cannot read references {path}: {exc}") from exc
    return table


def _references(args: argparse.Namespace, clip: Path) -> Any:
    from eval.conditions import References

    transcript, translation = args.reference_text, args.reference_translation
    if args.references:
        row = read_references(args.references).get(clip.name) or \
            read_references(args.references).get(clip.stem) or {}
        transcript = transcript or row.get("transcript") or row.get("en")
        translation = translation or row.get("translation") or row.get("hi")
    return References(transcript, translation)


def _options(args: argparse.Namespace) -> Any:
    from eval.conditions import MetricOptions

    return MetricOptions(sync=not args.no_sync, speech=not args.no_speech, expert=args.expert,
                         roundtrip_asr=args.roundtrip_asr)


def _conditions(args: argparse.Namespace) -> list[Any]:
    from eval.conditions import choose_conditions, conditions_from_file

    extra = conditions_from_file(args.conditions_file) if args.conditions_file else []
    names = args.conditions
    if extra and not names:  # a file alone means: the defaults plus these
        names = None
    return choose_conditions(names, extra)


def videos_in(paths: Sequence[str]) -> list[Path]:
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES
                            and not p.name.startswith("."))
        elif path.is_file():
            found.append(path)
        else:
            raise MediaError(f"not found: {item}")
    if not found:
        raise MediaError(f"no videos in {', '.join(paths)}")
    return found


def _print_run(run: Any, out: Path) -> None:
    print((out / "report.md").read_text(encoding="utf-8"))
    print(f"wrote {out}/ (metrics.json, report.md, metrics.png, one .mp4 per condition)")


# ------------------------------------------------------------------------------ commands


def cmd_conditions(args: argparse.Namespace) -> int:
    from eval.conditions import run_conditions

    clip = Path(args.input)
    run = run_conditions(clip, args.out, _conditions(args), config_path=args.config,
                         sets=args.set, target_language=args.target_language,
                         manual_audio=args.manual_audio, manual_translation=args.translation,
                         references=_references(args, clip), options=_options(args),
                         workdir=args.workdir)
    _print_run(run, Path(args.out))
    return 0


def cmd_ablate(args: argparse.Namespace) -> int:
    from eval.ablate import run_ablation

    clip = Path(args.input)
    run_ablation(clip, args.out, args.vary, sets=args.set, config_path=args.config,
                 target_language=args.target_language, references=_references(args, clip),
                 options=_options(args), workdir=args.workdir)
    print((Path(args.out) / "ablation.md").read_text(encoding="utf-8"))
    return 0


def cmd_dataset(args: argparse.Namespace) -> int:
    from eval.conditions import run_conditions
    from eval.metrics import direction_of
    from eval.summary import bar_chart, describe, stats_to_dict, table

    clips = videos_in(args.clips)[: args.limit]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    conditions = _conditions(args)
    per_condition: dict[str, dict[str, list[float]]] = {c.name: {} for c in conditions}
    shared: dict[str, list[float]] = {}
    for index, clip in enumerate(clips):
        log.info("dataset: clip %d/%d %s", index + 1, len(clips), clip)
        manual = None
        if args.manual_audio_dir:
            matches = sorted(Path(args.manual_audio_dir).glob(f"{clip.stem}.*"))
            manual = matches[0] if matches else None
        folder = out / f"{index:03d}_{clip.stem}"
        run = run_conditions(clip, folder, conditions, config_path=args.config, sets=args.set,
                             target_language=args.target_language, manual_audio=manual,
                             references=_references(args, clip), options=_options(args),
                             workdir=args.workdir or out / ".cache")
        for result in run.results:
            for name, value in result.metrics.items():
                per_condition[result.condition.name].setdefault(name, []).append(float(value))
        for name, value in run.input_metrics.items():
            shared.setdefault(name, []).append(float(value))
    rows = {c: {m: describe(v) for m, v in metrics.items()}
            for c, metrics in per_condition.items() if metrics}
    columns = sorted({m for row in rows.values() for m in row})
    directions = {m: direction_of(m) for m in columns}
    payload = {"clips": [str(c) for c in clips], "conditions": stats_to_dict(rows),
               "shared": {k: describe(v).to_dict() for k, v in shared.items()},
               "directions": directions}
    (out / "dataset.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False),
                                      encoding="utf-8")
    text = f"# {len(clips)} clips\n\n" + table(rows, columns, directions, digits=3) + "\n"
    if shared:
        text += "\n" + "\n".join(f"- {k}: {describe(v).cell(3)}" for k, v in shared.items())
    (out / "dataset.md").write_text(text + "\n", encoding="utf-8")
    plotted = [m for m in ("sync_confidence", "speaker_similarity", "lse_d", "drift_s")
               if m in columns]
    if rows and plotted:
        bar_chart(rows, plotted, out / "dataset.png", title=f"{len(clips)} clips, mean ± 95% CI")
    print(text)
    return 0


def cmd_rate(args: argparse.Namespace) -> int:
    from eval.rating import serve

    serve(args.directory, host=args.host, port=args.port)
    return 0


def cmd_summarize(args: argparse.Namespace) -> int:
    from eval.rating import DB_NAME, QUESTIONS, rating_stats
    from eval.summary import bar_chart, stats_to_dict, table

    directory = Path(args.directory)
    rows = rating_stats(directory / DB_NAME)
    columns = list(QUESTIONS)
    payload = stats_to_dict(rows)
    (directory / "ratings_summary.json").write_text(json.dumps(payload, indent=2),
                                                    encoding="utf-8")
    text = table(rows, columns, {q: "higher" for q in columns})
    (directory / "ratings_summary.md").write_text(
        "# Blind ratings (1-5): mean ± 95% CI (sd, n)\n\n" + text + "\n", encoding="utf-8")
    chart = bar_chart(rows, columns, directory / "ratings.png", title="ratings, mean ± 95% CI",
                      ylabel="score 1-5")
    if args.json:
        print(json.dumps(payload, indent=1))
    else:
        print(text)
        print(f"\nchart: {chart}")
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from eval.conditions import Condition, ConditionResult, MetricOptions, measure_condition
    from eval.measure import load_lse_expert
    from f2f.media import read_audio

    result: dict[str, Any] = {"videos": {}}
    not_measured: dict[str, str] = {}
    expert = load_lse_expert(MetricOptions(expert=args.expert), not_measured)
    for video in videos_in(args.outputs) if args.outputs else []:
        entry = ConditionResult(Condition("video", str(video)), video=video)
        reference = _reference_for(video, args.reference_dir)
        source = read_audio(reference) if reference else read_audio(video)
        entry.not_measured.update(not_measured)
        measure_condition(entry, source, MetricOptions(speech=reference is not None), [],
                          expert)
        if reference is not None and args.reconstruct:
            from eval.lips import face_fid, fid_unavailable_reason, reconstruction

            try:
                entry.metrics.update(reconstruction(video, reference).summary())
            except F2FError as exc:
                entry.not_measured["psnr"] = str(exc)
            reason = fid_unavailable_reason()
            if reason:
                entry.not_measured["fid"] = reason
            else:
                entry.metrics["fid"] = round(face_fid(video, reference), 3)
        result["videos"][str(video)] = {"metrics": entry.metrics,
                                        "not_measured": entry.not_measured}
    if args.mt_testset:
        from eval.mt import evaluate_mt

        result["mt"] = evaluate_mt(args.mt_testset, args.mt, args.set)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    if args.json:
        print(text)
    else:
        for video, row in result["videos"].items():
            values = ", ".join(f"{k} {v}" for k, v in row["metrics"].items())
            print(f"{video}: {values}")
            for k, why in row["not_measured"].items():
                print(f"    {k}: {why}")
        if "mt" in result:
            print(f"MT {result['mt']['backend']} on {result['mt']['sentences']} sentences: "
                  f"chrF {result['mt']['chrf']:.1f}, BLEU {result['mt']['bleu']:.1f}")
    return 0


def _reference_for(video: Path, reference_dir: str | None) -> Path | None:
    if not reference_dir:
        return None
    matches = [p for p in sorted(Path(reference_dir).glob(f"{video.stem}.*"))
               if p.suffix.lower() in VIDEO_SUFFIXES]
    return matches[0] if matches else None


def cmd_mt(args: argparse.Namespace) -> int:
    from eval.mt import evaluate_mt, format_report

    result = evaluate_mt(args.tsv, args.backend, args.set, args.worst)
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else format_report(result))
    return 0


COMMANDS = {"mt": cmd_mt, "conditions": cmd_conditions, "ablate": cmd_ablate,
            "dataset": cmd_dataset,
            "rate": cmd_rate, "summarize": cmd_summarize, "metrics": cmd_metrics}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sync":
        from eval.sync import main_sync

        return int(main_sync(argv[1:]) or 0)
    args = build_parser().parse_args(argv)
    if not logging.getLogger().handlers:  # run directly, not through `python -m f2f`
        logging.basicConfig(level=logging.INFO, format="%(levelname).1s %(name)s: %(message)s")
    return run_command(lambda: COMMANDS[args.command](args))


if __name__ == "__main__":
    sys.exit(main())
