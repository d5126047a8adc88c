"""The files a conditions run writes: metrics.json, report.md, metrics.png, conditions.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.metrics import direction_of

# the columns a report puts first and plots: the judge's verdict first
HEADLINE = ("lse_c", "lse_d", "sync_confidence", "speaker_similarity", "global_mcd",
            "f0_distribution_rmse", "stretch_mean", "drift_s")


def write_report(run: Any, out_dir: Path) -> None:
    """metrics.json, report.md, metrics.png and conditions.json (the rating page's manifest).

    `run` is an `eval.conditions.ConditionsRun` (not imported: conditions imports this module).
    """
    from eval.summary import Stats, bar_chart
    from f2f.media import atomic_output

    with atomic_output(out_dir / "metrics.json") as tmp:
        tmp.write_text(json.dumps(run.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    manifest = [{"condition": r.condition.name, "description": r.condition.description,
                 "video": r.video.name, "clip": Path(run.input).stem,
                 "subtitles": _subtitle_file(r.video, r.condition)}
                for r in run.results if r.video is not None]
    with atomic_output(out_dir / "conditions.json") as tmp:
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    names = run.metric_names()
    made = [r for r in run.results if r.video is not None]
    plotted = [m for m in names if m in HEADLINE][:6]
    if made and plotted:
        rows = {r.condition.name: {m: Stats(float(r.metrics[m]), 0.0, float("nan"), 1)
                                   for m in plotted if m in r.metrics} for r in made}
        bar_chart(rows, plotted, out_dir / "metrics.png", title=f"{Path(run.input).name}")
    with atomic_output(out_dir / "report.md") as tmp:
        tmp.write_text(report_markdown(run), encoding="utf-8")


def _subtitle_file(video: Path, condition: Any) -> str:
    if not condition.subtitles:
        return ""
    candidates = sorted(video.parent.glob(f"{video.stem}.*.vtt"))
    target = [c for c in candidates if not c.name.endswith(".en.vtt")]
    return target[0].name if target else ""


def _format(value: float | int) -> str:
    if isinstance(value, int):
        return f"{value:+d}" if value else "0"
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:.0f}"


def report_markdown(run: Any) -> str:
    names = run.metric_names()
    arrows = {"higher": " ↑", "lower": " ↓"}
    lines = [f"# Six-condition comparison: {Path(run.input).name}", ""]
    lines += ["| # | condition | " + " | ".join(f"{m}{arrows.get(direction_of(m), '')}"
                                                for m in names) + " |",
              "|---|---|" + "---|" * len(names)]
    best: dict[str, float] = {}
    for m in names:
        values = [float(r.metrics[m]) for r in run.results if m in r.metrics]
        if values and direction_of(m) in arrows and len(values) > 1:
            best[m] = max(values) if direction_of(m) == "higher" else min(values)
    for number, r in enumerate(run.results, start=1):
        if r.video is None:
            lines.append(f"| {number} | {r.condition.name} | skipped: {r.skipped} |"
                         + " |" * max(0, len(names) - 1))
            continue
        cells = []
        for m in names:
            if m not in r.metrics:
                cells.append("–")
                continue
            text = _format(r.metrics[m])
            cells.append(f"**{text}**" if best.get(m) == float(r.metrics[m]) else text)
        lines.append(f"| {number} | {r.condition.name} | " + " | ".join(cells) + " |")
    lines += ["", "Conditions:", ""]
    lines += [f"{i}. `{r.condition.name}`: {r.condition.description}"
              + (f" (`{' '.join(r.condition.overrides)}`)" if r.condition.overrides else "")
              for i, r in enumerate(run.results, start=1)]
    if run.input_metrics:
        lines += ["", "Shared by every condition (ASR and MT run once):", ""]
        lines += [f"- {k}{arrows.get(direction_of(k), '')}: {_format(v)}"
                  for k, v in run.input_metrics.items()]
    if run.checks:
        lines += ["", "Checks:", ""] + [f"- {c}" for c in run.checks]
    missing = dict(run.not_measured)
    for r in run.results:
        for k, why in r.not_measured.items():
            missing.setdefault(k, f"{r.condition.name}: {why}")
    if missing:
        lines += ["", "Not measured here:", ""] + [f"- {k}: {why}" for k, why in missing.items()]
    lines += ["", "Time per condition (s; cached steps reused from earlier conditions):", ""]
    for r in run.results:
        if r.video is not None:
            ran = [f"{s['stage']} {s['wall_s']:.1f}" for s in r.steps
                   if s["backend"] != "none" and not s["cached"]]
            lines.append(f"- {r.condition.name}: {r.wall_s:.1f} total; ran: "
                         f"{', '.join(ran) or 'nothing (all cached)'}")
    lines += ["", "LSE-D / LSE-C: the SyncNet judge shipped in `eval/data/` (trained on GRID "
              "speakers s1, s4), offsets -15..+15; the checks above use LSE-C.",
              "Sync confidence: a weights-free extra (`eval/sync.py`: correlation of mouth "
              "opening and loudness); never a verdict on the viseme backend, which opens the "
              "mouth with loudness."]
    return "\n".join(lines) + "\n"


